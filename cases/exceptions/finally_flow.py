def f():
    for i in range(3):
        try:
            if i == 1:
                continue
            if i == 2:
                return "ret"
        finally:
            print("finally", i)

print(f())

def g():
    try:
        return 1
    finally:
        print("g finally")

print(g())
try:
    try:
        raise KeyError(1)
    finally:
        print("inner finally")
except KeyError:
    print("outer caught")
