# Classes, inheritance, super(), properties, special methods.
class Base:
    kind = "base"

    def __init__(self, value):
        self.value = value

    def describe(self):
        return "%s(%r)" % (self.kind, self.value)

    @staticmethod
    def helper(a, b):
        return a - b

    @classmethod
    def make(cls):
        return cls(0)


class Derived(Base):
    kind = "derived"

    def __init__(self, value, extra=None):
        super().__init__(value)
        self.extra = extra

    @property
    def both(self):
        return (self.value, self.extra)

    def __repr__(self):
        return "Derived(%d)" % self.value

    def __add__(self, other):
        return Derived(self.value + other.value)


d = Derived(3, "x") + Derived(4)
print(d, d.describe(), d.both, Base.helper(5, 2), Derived.make().value)
print(isinstance(d, Base), issubclass(Derived, Base), type(d).__name__)
