# ---
# exclude: {cpython: heap figures are MicroPython's}
# heap:
#   less: [[reassignment, first_assignment]]
# ---
# The globals dict grows when a name is first assigned, whichever way the module was
# loaded: the `first_assignment` region should read the same in all three modes (the
# names are qstrs made before the region: compiled with the module, or in ROM when
# frozen). Assigning the same names again allocates nothing.
with mpcheck_region("first_assignment"):
    g0 = g1 = g2 = g3 = g4 = g5 = g6 = g7 = g8 = g9 = g10 = g11 = 0
with mpcheck_region("reassignment"):
    g0 = g1 = g2 = g3 = g4 = g5 = g6 = g7 = g8 = g9 = g10 = g11 = 1
print(g0 + g11)
