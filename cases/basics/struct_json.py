# ---
# skip_reason: the port has no json or struct module
# ---
try:
    import json
    import struct
except ImportError:
    print("SKIP")
    raise SystemExit

print(struct.pack("<HI", 1, 2), struct.unpack(">h", b"\xff\xfe"), struct.calcsize("<bhi"))
print(json.dumps([1, "a", None, True]), json.loads('{"k": [1, 2]}')["k"])
