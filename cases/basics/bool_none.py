print(True + True, True and 3, 0 or "x", not None, None is None)
print(bool([]), bool([0]), bool(""), bool("0"), bool(0.0))
print(isinstance(1, int), type(None) is type(None), None == 0)
