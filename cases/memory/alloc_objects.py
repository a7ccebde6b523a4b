# ---
# exclude:
#   cpython: heap_lock is MicroPython-only
# ---
# What allocates: each construct runs with the heap locked; MemoryError means it
# needed the heap.
import micropython

class K:
    pass

def attempt(name, fn):
    micropython.heap_lock()
    try:
        fn()
        r = "no allocation"
    except MemoryError:
        r = "allocates"
    micropython.heap_unlock()
    print(name, r)

attempt("small int", lambda: 12345 + 1)
attempt("list", lambda: [1, 2, 3])
attempt("dict", lambda: {1: 2})
attempt("tuple", lambda: (1, object()))
attempt("function", lambda: (lambda: 1))
attempt("class", lambda: type("T", (), {}))
attempt("instance", lambda: K())
attempt("str concat", lambda: "ab" + str(len("cde")))
attempt("empty tuple", lambda: ())
