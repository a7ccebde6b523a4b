# A helper module imported by heap/what_allocates (files starting with `_` are not cases).
VALUE = 7


def helper():
    return [VALUE]
