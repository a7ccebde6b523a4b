def f(a, b=2, *args, c=3, **kw):
    return a, b, args, c, sorted(kw.items())

print(f(1))
print(f(1, 5, 6, 7, c=8, z=9))
print(f(*[1, 2, 3], **{"c": 4}))

def outer():
    return lambda x: x + 1

print(outer()(41))
print((lambda *a: len(a))(1, 2, 3))

def rec(n):
    return 1 if n <= 1 else n * rec(n - 1)

# Shallow: the micro:bit has a very small stack.
print(rec(6))
