# ---
# modes: [source, mpy]
# ---
# A negative-zero float constant keeps its sign. Not in frozen mode: MicroPython 1.28's
# tools/mpy-tool.py writes a frozen float constant as `(mp_float_t)%.16g`, which for
# -0.0 is `(mp_float_t)-0`, an integer zero, so a frozen module reads 0.0 (found by
# mpcheck's frozen mode on mps2-an385; upstream bug, not mpcheck's).
try:
    float
except NameError:
    print("SKIP")
    raise SystemExit

x = -0.0
print(x, repr(x), str(-0.0))
