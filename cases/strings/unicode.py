# ---
# skip_reason: the port has no str.encode (built without unicode support)
# ---
if not hasattr("", "encode"):
    print("SKIP")
    raise SystemExit

s = "héllo wörld ✓"
print(s, len(s), "abc".upper(), s[1], s[-1])
print(s.encode("utf-8"), len(s.encode()))
print(b"\xc3\xa9".decode("utf-8"), "✓" in s)
print(ord("é"), chr(0x2713))
