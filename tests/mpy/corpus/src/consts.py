# Constants of every kind the constant table can hold.
from micropython import const

LIMIT = const(100)
small = 5
negative = -1000
edge = 47
big = 123456789012345678901234567890
neg_big = -98765432109876543210
flt = 1.5
tiny = 1e-300
huge = 1e400
negzero = -0.0
precise = 99.9 + 0.00000000000001
cplx = 2.5j
zero_j = 0j
data = b"bytes\x00\xff'"
empty = b""
text = "a string that is long enough not to be interned"
quoted = 'it\'s "quoted" and long enough'
unicode = "ünïcödé text that is long enough"
tup = (1, "t", None, True, False, ...)
nested = ((1, 2), (3.5, b"x"), ())
single = (LIMIT,)
print(small, negative, edge, big, neg_big, flt, tiny, huge, negzero, precise)
print(cplx, zero_j, data, empty, text, quoted, unicode, tup, nested, single)
