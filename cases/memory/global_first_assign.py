# ---
# exclude:
#   cpython: gc.mem_alloc is MicroPython-only
# ---
# The first assignment of new globals grows the module's globals dict; assigning
# existing globals again does not allocate.
import gc
import micropython

def first():
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    g = globals()
    for i in range(16):
        g["new_global_%d" % i] = i
    grew = gc.mem_alloc() - before
    gc.enable()
    return grew > 0

def reassign():
    global new_global_0, new_global_1
    new_global_0 = 100
    new_global_1 = 101

def locked(fn):
    micropython.heap_lock()
    try:
        fn()
        r = "no allocation"
    except MemoryError:
        r = "allocates"
    micropython.heap_unlock()
    return r

print("first assignment grows the heap:", first())
print("reassignment:", locked(reassign), new_global_0, new_global_1)
