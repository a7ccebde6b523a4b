# ---
# skip_reason: the port is built without floating point
# ---
try:
    float
except NameError:
    print("SKIP")
    raise SystemExit

print(1.5 + 2.25, 7 / 2, float("3.5"), int(2.9), round(2.5), round(3.5))
print(1e3, 1.25e-3, 2 ** 0.5 > 1.414)
