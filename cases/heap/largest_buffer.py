# ---
# exclude: {cpython: heap figures are MicroPython's, webassembly: its heap grows on demand (the port adds heap areas) so no buffer is the largest}
# heap:
#   # The .mpy trial's live bytes, allocations and free runs, and a frozen trial's free
#   # bytes, move between runs on a loaded host (smallheap: 48 bytes in 2 of 4
#   # runs; -1.27: 32 bytes in 2 allocations; an500 frozen: 2016 free bytes):
#   # a stale pointer the collector finds on the stack, scanned conservatively, left
#   # by an upload whose timing follows the load.
#   tolerance: {live_bytes: 48, allocations: 2, free_runs: 1, free_bytes: 2048}
# ---
# The seed's claim, executable: frozen bytecode "reduces heap fragmentation". This module
# is imported as source (compiled on the target: the parse tree and the compiler's
# garbage freed between what stays), as .mpy or frozen, then finds the largest buffer
# that still fits, after a collection, with the module's definitions still alive. Its
# size per board and mode is region `largest_buffer` in the heap golden (the buffer's
# live bytes), beside the free heap's shape after the case.
import gc

LIMITS = {"low": 10, "high": 90}


class Reading:
    def __init__(self, name, value):
        self.name = name
        self.value = value

    def level(self):
        if self.value < LIMITS["low"]:
            return "low"
        if self.value > LIMITS["high"]:
            return "high"
        return "ok"

    def __repr__(self):
        return "Reading(%s, %d)" % (self.name, self.value)


def readings(n):
    return [Reading("r%d" % i, (i * 37) % 101) for i in range(n)]


def summary(rs):
    levels = {}
    for r in rs:
        k = r.level()
        levels[k] = levels.get(k, 0) + 1
    return sorted(levels.items())


def fits(n):
    # A function, so the buffer is gone when it returns.
    gc.collect()
    try:
        bytearray(n)
    except MemoryError:
        return False
    return True


def largest():
    lo, hi = 0, gc.mem_free()
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


print(summary(readings(12)))
n = largest()
print("largest fits, one byte more does not:", fits(n), fits(n + 1))
gc.collect()
with mpcheck_region("largest_buffer"):
    buf = bytearray(n)
buf = None
