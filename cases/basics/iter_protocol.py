class Countdown:
    def __init__(self, n):
        self.n = n
    def __iter__(self):
        return self
    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n + 1

print(list(Countdown(4)))
a, *rest = Countdown(3)
print(a, rest)
print(dict(zip("ab", Countdown(2))) == {"a": 2, "b": 1})
