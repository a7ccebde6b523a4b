# ---
# exclude:
#   cpython: heap_lock is MicroPython-only
# ---
# Small-int arithmetic on locals allocates nothing: it runs with the heap locked.
# (The locked region is inside a function: storing a new global allocates.)
import micropython

def work(n):
    total = 0
    i = 0
    while i < n:
        total += i * 3 - (i >> 1)
        i += 1
    return total

def locked():
    micropython.heap_lock()
    try:
        r = work(1000)
    except MemoryError:
        r = None
    micropython.heap_unlock()
    return r

print(locked())
