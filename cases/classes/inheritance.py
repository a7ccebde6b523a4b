class A:
    def who(self):
        return "A"
    def hello(self):
        return "hello from " + self.who()

class B(A):
    def who(self):
        return "B"

class C(B):
    def who(self):
        return "C+" + super().who()

print(A().hello(), B().hello(), C().hello())
print(isinstance(C(), A), issubclass(C, B), issubclass(A, C))
