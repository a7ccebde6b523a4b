# ---
# exclude:
#   cpython: heap_lock is MicroPython-only
# ---
# A loop over a local and the same loop over a global compute the same value and
# neither allocates (small ints); the bytecode golden shows the different opcodes.
import micropython

counter = 0

def with_global(n):
    global counter
    counter = 0
    for i in range(n):
        counter += i
    return counter

def with_local(n):
    c = 0
    for i in range(n):
        c += i
    return c

def locked():
    micropython.heap_lock()
    try:
        g = with_global(100)
        l = with_local(100)
    except MemoryError:
        g = l = "allocated"
    micropython.heap_unlock()
    # Built after unlocking: a tuple is a heap object.
    return g, l

print(locked())
