# Closures, defaults, keyword-only and variadic arguments, lambdas.
def outer(x, y=2, *args, z, w=4, **kw):
    total = x * y

    def inner(a):
        nonlocal total
        total += a
        return total + z

    def counter():
        n = 0

        def step():
            nonlocal n
            n += 1
            return n

        return step

    f = lambda q, r=w: q + r + x
    return inner(len(args)) + f(1) + counter()() + len(kw)


def make_adders(n):
    return [lambda v, i=i: v + i for i in range(n)]


print(outer(1, 2, 3, z=5, extra=6))
print([add(10) for add in make_adders(3)])
