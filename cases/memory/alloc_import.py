# ---
# exclude:
#   cpython: gc.mem_alloc and heap_lock are MicroPython-only
# ---
# Importing a module for the first time allocates (module object, globals, code);
# importing it again only looks it up. (Not measured with heap_lock: an import that
# fails half-way under the lock leaves a broken module behind; the unix port then
# crashes with SIGSEGV.)
import gc
import micropython

def first():
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    import _mem_helper
    grew = gc.mem_alloc() - before
    gc.enable()
    return grew > 0

def again():
    micropython.heap_lock()
    try:
        import _mem_helper
        r = "no allocation"
    except MemoryError:
        r = "allocates"
    micropython.heap_unlock()
    return r

print("first import allocates:", first())
print("second import:", again())
import _mem_helper
print(_mem_helper.VALUE)
