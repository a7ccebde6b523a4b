# ---
# exclude:
#   cpython: gc.mem_alloc/mem_free are MicroPython-only
# ---
# Garbage is reclaimed by gc.collect(): heap in use drops after dropping a big list.
# The webassembly port differs (golden override): its GC scans conservatively and the
# dropped list is still reachable from a stale reference, so it is not reclaimed here.
import gc

gc.collect()
base = gc.mem_alloc()
# Small enough for the micro:bit's 10 KB heap.
big = [i for i in range(400)]
grown = gc.mem_alloc() - base
big = None
gc.collect()
after = gc.mem_alloc() - base
print(grown > 1600, after < grown // 4, gc.mem_free() > 0)
