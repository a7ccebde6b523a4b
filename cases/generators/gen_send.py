def acc():
    total = 0
    while True:
        x = yield total
        if x is None:
            return total
        total += x

g = acc()
next(g)
print(g.send(5), g.send(10))
try:
    g.send(None)
except StopIteration as e:
    print("returned", e.args[0])

def closer():
    try:
        yield 1
    finally:
        print("closed")

c = closer()
next(c)
c.close()
