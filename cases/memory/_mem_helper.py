# A helper module imported by alloc_import (files starting with `_` are not cases).
VALUE = 42

def helper():
    return [VALUE]
