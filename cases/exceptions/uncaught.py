# ---
# exclude: {cpython: its traceback shows the source line, webassembly: its traceback shows the driver's extra <stdin> frame}
# ---
# Where MicroPython prints a plain traceback (the unix port, boards at their raw REPL),
# said by what differs, not by board names: a board of any name runs it (#24).
# An uncaught exception: the traceback is part of the expected output.
def fail():
    raise ValueError("boom")

print("before")
fail()
