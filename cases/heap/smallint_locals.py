# ---
# exclude: {cpython: heap_lock is MicroPython-only}
# heap:
#   zero_alloc: work
# ---
# Small-int arithmetic on locals allocates nothing: `work` runs with the heap locked.
def work():
    total = 0
    i = 0
    while i < 500:
        total += (i * 7) % 13 - (i >> 2)
        i += 1
    return total

print(work())
