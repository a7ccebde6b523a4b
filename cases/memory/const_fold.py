# ---
# exclude:
#   cpython: micropython.const is MicroPython-only
#   unix-coverage-src: the coverage variant's __main__ also holds its extra_coverage test functions (source mode only)
# ---
# Constant expressions built from other consts fold at compile time. On MicroPython
# 1.9.2 (the micro:bit's golden override) the `_`-prefixed names still become globals.
from micropython import const

_BIT = const(4)
_MASK = const((1 << _BIT) - 1)
_DOUBLE = const(_MASK * 2)
SIZE = const(_DOUBLE + 1)

def masked(v):
    return v & _MASK

print(_BIT, _MASK, _DOUBLE, SIZE, masked(0x1234))
print(sorted(k for k in globals() if not k.startswith("__")))
