# ---
# exclude: {cpython: heap figures are MicroPython's}
# heap: {}
# ---
# A non-trivial module. Run as source it is compiled on the target; run as .mpy it is
# loaded pre-compiled: compare the `source` and `mpy` figures in the heap golden.
_SCALE = 3

class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def scaled(self, k):
        return Point(self.x * k, self.y * k)

    def __repr__(self):
        return "Point(%d, %d)" % (self.x, self.y)

def path(n):
    return [Point(i, i * i) for i in range(n)]

def total(points):
    s = 0
    for p in points:
        s += p.x + p.y
    return s

def describe(points):
    if not points:
        return "empty"
    return "%d points, first %r, last %r" % (len(points), points[0], points[-1])

def checksum(text):
    h = 0
    for ch in text:
        h = (h * 31 + ord(ch)) & 0xFFFF
    return h

print(total(path(5)) * _SCALE, checksum("mpcheck"))
