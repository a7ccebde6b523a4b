# ---
# boards: [mps2-an385-qemu-smallheap]
# heap:
#   # As heap/largest_buffer (a stale pointer the conservative collector finds on a
#   # loaded host moves the .mpy trial's figures by a block or two).
#   tolerance: {live_bytes: 48, allocations: 2, free_runs: 1, free_bytes: 2048}
# ---
# The MemoryError the seed's claim is about, on the 24 KiB heap: the module of
# heap/largest_buffer, imported as source, .mpy or frozen, then one 12 KiB buffer.
# heap/largest_buffer measured 10128 bytes as the largest buffer that fits after the
# source import, 7552 after .mpy and 13376 frozen, so only frozen has room: region
# `buffer_12k` in the heap golden is the buffer's live bytes where it fits and 0 where
# the allocation raised MemoryError. The output is the same in every mode.
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


print(summary(readings(12)))
gc.collect()
try:
    with mpcheck_region("buffer_12k"):
        buf = bytearray(12 * 1024)
except MemoryError:
    buf = None
buf = None
