class CM:
    def __init__(self, name):
        self.name = name
    def __enter__(self):
        print("enter", self.name)
        return self
    def __exit__(self, t, v, tb):
        print("exit", self.name, t is ValueError, t is KeyError)
        return t is ValueError

with CM("a") as c:
    print("body", c.name)
with CM("b"):
    raise ValueError
print("suppressed")
try:
    with CM("c"):
        raise KeyError
except KeyError:
    print("propagated")
