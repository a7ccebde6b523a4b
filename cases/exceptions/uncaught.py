# ---
# boards: [unix, qemu]
# ---
# On the unix port and the QEMU boards: CPython's traceback shows the source line, and the
# webassembly port's shows its driver's extra `<stdin>` frame.
# An uncaught exception: the traceback is part of the expected output.
def fail():
    raise ValueError("boom")

print("before")
fail()
