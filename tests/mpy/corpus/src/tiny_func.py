def f(x, y=3):
    if x:
        return (x, "long string constant")
    return -x * 1.5
