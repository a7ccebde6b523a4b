# Key order is not printed: MicroPython's dict is not insertion-ordered.
d = {"a": 1, "b": 2}
d["c"] = 3
print(sorted(d.items()), len(d), "a" in d, d.get("z"), d.get("z", 0))
d.update({"d": 4})
print(d.pop("a"), sorted(d.keys()), sorted(d.values()))
print(d.setdefault("e", 5), d["e"])
del d["b"]
print(sorted(d), {k: v * 2 for k, v in [(1, 2)]})
print(dict([(1, 2)]) == {1: 2}, dict(a=1) == {"a": 1})
