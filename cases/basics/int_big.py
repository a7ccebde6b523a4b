# ---
# requires: [bigint]
# ---
# Arbitrary-precision ints, past 32 and 64 bits.
x = 2 ** 100
print(x, x + 1, x * x)
print(x // 3, x % 1000007, -x // 7)
print(1 << 70, (1 << 70) >> 65)
f = 1
for i in range(1, 31):
    f *= i
print(f)
print(int("123456789012345678901234567890") * 3)
print(hex(2 ** 64), (2 ** 64 - 1) & 0xFFFF0000FFFF)
