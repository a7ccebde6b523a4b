@micropython.viper
def v(a: int) -> int:
    return a + 1

@micropython.native
def n():
    return 2j
