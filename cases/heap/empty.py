# ---
# exclude: {cpython: heap figures are MicroPython's}
# heap: {}
# ---
# Nothing: after calibration the harness's own cost is gone, so every figure is 0.
