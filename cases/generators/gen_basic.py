def count(n):
    i = 0
    while i < n:
        yield i
        i += 1

print(list(count(4)))
g = count(2)
print(next(g), next(g))
try:
    next(g)
except StopIteration:
    print("stop")

def squares():
    yield from (x * x for x in range(4))

print(list(squares()))
