# ---
# exclude: {cpython: heap figures are MicroPython's}
# heap:
#   less: [[small_int, list], [reassign_global, first_global], [small_int, import]]
# ---
# What allocates, each in its own measured region (live bytes per region in the heap
# golden). `x` exists before the regions so only the new object is counted.
class K:
    pass

x = None
existing = 0

with mpcheck_region("small_int"):
    x = 12345 + 1
with mpcheck_region("list"):
    x = [1, 2, 3]
with mpcheck_region("dict"):
    x = {1: 2}
with mpcheck_region("tuple"):
    x = (1, K)
with mpcheck_region("function"):
    x = lambda: 1
with mpcheck_region("class"):
    class L:
        pass
with mpcheck_region("instance"):
    x = K()
with mpcheck_region("reassign_global"):
    existing = 2
with mpcheck_region("import"):
    import _heap_helper
with mpcheck_region("first_global"):
    for i in range(12):
        globals()["brand_new_%d" % i] = i
print("measured")
