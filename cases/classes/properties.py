# ---
# skip_reason: the port is built without property
# ---
try:
    property
except NameError:
    print("SKIP")
    raise SystemExit

class Temp:
    def __init__(self):
        self._c = 0
    @property
    def c(self):
        return self._c
    @c.setter
    def c(self, v):
        self._c = v
    @staticmethod
    def unit():
        return "C"
    @classmethod
    def make(cls, v):
        t = cls()
        t.c = v
        return t

t = Temp.make(21)
print(t.c, Temp.unit(), t.unit())
t.c = 5
print(t.c)
