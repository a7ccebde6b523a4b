# ---
# exclude:
#   cpython: micropython.const is MicroPython-only
# ---
# `X = const(1)` folds X into the code but keeps the global (it can be imported);
# `_Y = const(2)` folds too, and the name never exists at run time.
# Not so on MicroPython 1.9.2 (the micro:bit's golden override): there `_Y` is still
# stored as a global; the underscore rule came later.
from micropython import const

X = const(1)
_Y = const(2)

print(X, _Y, X + _Y)
g = globals()
print("X" in g, "_Y" in g)
