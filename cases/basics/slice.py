s = "abcdefgh"
# Stepped slices of str are optional in MicroPython (MICROPY_PY_BUILTINS_SLICE_ATTRS):
# only lists are sliced with a step here.
print(s[2:5], s[-3:], s[:-3])
l = list(range(10))
l[2:5] = [0]
print(l)
print(l[::2], l[::-3], l[5:2:-1])
print(bytes(range(8))[1:7])
