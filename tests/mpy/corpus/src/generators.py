# Generators, yield from, comprehensions of every kind.
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1


def chain(*its):
    for it in its:
        yield from it


def evens(limit):
    return (x for x in range(limit) if x % 2 == 0)


squares = [x * x for x in count(5)]
table = {k: str(k) for k in range(4)}
unique = {c for c in "mississippi"}
pairs = [(a, b) for a in range(3) for b in range(a) if a != b]
print(squares, table, sorted(unique), pairs, list(chain(evens(7), count(2))))
g = count(3)
print(next(g), g.send(None))
