# ---
# exclude: {cpython: micropython.const is MicroPython-only}
# heap: {}
# ---
# Eight `_`-prefixed consts: folded into the code, no global-dict entries. Compare the
# heap golden with const_public's: the public names cost a globals dict.
from micropython import const

_A = const(1)
_B = const(2)
_C = const(3)
_D = const(4)
_E = const(5)
_F = const(6)
_G = const(7)
_H = const(8)
print(_A + _B + _C + _D + _E + _F + _G + _H)
