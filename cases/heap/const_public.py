# ---
# exclude: {cpython: micropython.const is MicroPython-only}
# heap: {}
# ---
# Eight public consts: folded into the code too, but each stays a global. Compare the
# heap golden with const_private's.
from micropython import const

A = const(1)
B = const(2)
C = const(3)
D = const(4)
E = const(5)
F = const(6)
G = const(7)
H = const(8)
print(A + B + C + D + E + F + G + H)
