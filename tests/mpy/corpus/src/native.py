# Native, viper and bytecode functions side by side.
import micropython


@micropython.native
def native_sum(n):
    total = 0
    for i in range(n):
        total += i
    return total


@micropython.native
def native_outer(a, b=2):
    def native_inner(c):
        return c * 2

    return native_inner(a) + b


@micropython.viper
def viper_add(x: int, y: int) -> int:
    return x + y


@micropython.viper
def viper_loop(n: int) -> int:
    acc = 0
    i = 0
    while i < n:
        acc += i
        i += 1
    return acc


def plain(x):
    return x + 1


print(native_sum(10), native_outer(3), viper_add(1, 2), viper_loop(5), plain(1))
