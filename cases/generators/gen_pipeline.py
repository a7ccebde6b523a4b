def numbers():
    for i in range(20):
        yield i

def evens(src):
    for x in src:
        if x % 2 == 0:
            yield x

def take(src, n):
    for x in src:
        if n == 0:
            return
        n -= 1
        yield x

print(list(take(evens(numbers()), 5)))
print(sum(x for x in evens(numbers())))
