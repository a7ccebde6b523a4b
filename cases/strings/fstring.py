# ---
# requires: [fstring]
# ---
name = "mp"
n = 3
print(f"{name} has {n} items")
print(f"{n * 2:04d} {name!r} {n / 2}")
print(f"{{literal}} {name.upper()}")
