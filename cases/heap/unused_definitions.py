# ---
# exclude: {cpython: heap figures are MicroPython's}
# heap: {}
# ---
# A module's definitions that nothing uses: functions, classes and constant tuples.
# Frozen, their bytecode and constants stay in ROM, so importing the module costs only
# the objects the definitions make (function and class objects, the globals dict);
# from source or .mpy the code itself is loaded into RAM too. Compare the three modes in
# the heap golden (and with heap/module_import, which uses what it defines).
PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
NAMES = ("alpha", "beta", "gamma", "delta")


def scale(points, k):
    return [(x * k, y * k) for x, y in points]


def lookup(name):
    for i, n in enumerate(NAMES):
        if n == name:
            return PRIMES[i]
    return None


def fold(values, start=0):
    total = start
    for v in values:
        total = (total * 31 + v) & 0xFFFF
    return total


class Shape:
    def __init__(self, sides):
        self.sides = sides

    def angles(self):
        return (self.sides - 2) * 180


class Square(Shape):
    def __init__(self):
        super().__init__(4)


print("defined")
