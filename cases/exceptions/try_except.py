def f(x):
    try:
        return 10 // x
    except ZeroDivisionError:
        return "div0"
    finally:
        print("finally", x)

print(f(2), f(0))
try:
    [][1]
except IndexError as e:
    print("IndexError", type(e) is IndexError)
try:
    {}["k"]
except KeyError as e:
    print("KeyError", e.args)
try:
    int("x")
except ValueError:
    print("ValueError")
try:
    raise TypeError("bad", 2)
except (ValueError, TypeError) as e:
    print(type(e) is TypeError, e.args)
