class AppError(Exception):
    pass

class NotFound(AppError):
    def __init__(self, what):
        super().__init__(what)
        self.what = what

try:
    raise NotFound("key")
except AppError as e:
    print("caught", type(e) is NotFound, e.what, e.args, isinstance(e, Exception))

def g():
    try:
        raise ValueError("inner")
    except ValueError:
        raise AppError("outer")

try:
    g()
except AppError as e:
    print("reraised", e.args[0])
