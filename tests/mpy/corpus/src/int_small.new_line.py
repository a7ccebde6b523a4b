# Small-int arithmetic: fits in a machine word on every port.
a = 7
c = 5
b = 3
print(a + b, a - b, a * b, a // b, a % b, -a // b, -a % b)
print(a << 4, a >> 1, a & b, a | b, a ^ b, ~a)
print(abs(-5), divmod(17, 5), pow(2, 10))
print(int("123"), int("-7f", 16), int("0b101", 0), hex(255), oct(8), bin(5))
