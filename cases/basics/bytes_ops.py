b = b"hello"
print(b, b[1], b[1:3], len(b), b + b"!", b * 2)
print(b.upper(), b.find(b"l"), b.replace(b"l", b"L"), b.split(b"e"))
print(bytes([65, 66]), bytes(3), b"a,b".split(b","))
ba = bytearray(b"abc")
ba[0] = 65
ba.append(100)
ba.extend(b"ef")
print(ba, len(ba), bytes(ba))
