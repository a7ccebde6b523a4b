# try/except/else/finally, raise from, with, break/continue inside handlers.
class Resource:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def risky(n):
    if n > 2:
        raise ValueError("too big: %d" % n)
    return n


def run():
    out = []
    for i in range(6):
        try:
            with Resource():
                out.append(risky(i))
        except ValueError as e:
            out.append(str(e))
            continue
        except (TypeError, KeyError):
            raise
        else:
            out.append("ok")
        finally:
            out.append(i)
        if i == 4:
            break
    else:
        out.append("no break")
    try:
        try:
            1 / 0
        except ZeroDivisionError as e:
            raise RuntimeError("wrapped") from e
    except RuntimeError as e:
        out.append(type(e).__name__)
    while True:
        try:
            break
        finally:
            out.append("finally on break")
    assert out, "empty"
    return out


print(run())
