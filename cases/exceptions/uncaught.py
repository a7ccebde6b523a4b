# ---
# boards: [unix]
# ---
# Only on the unix port: CPython's traceback shows the source line, and the
# webassembly port's shows its driver's extra `<stdin>` frame.
# An uncaught exception: the traceback is part of the expected output.
def fail():
    raise ValueError("boom")

print("before")
fail()
