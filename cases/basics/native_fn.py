# ---
# requires: [native]
# exclude:
#   cpython: micropython.native is MicroPython-only
# ---
# A function the native emitter compiles to machine code: in .mpy and frozen mode
# mpy-cross needs the target's -march, and boards that cannot load native code skip it.
import micropython


@micropython.native
def total(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


print(total(10), total(100))
