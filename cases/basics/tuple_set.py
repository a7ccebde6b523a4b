t = (1, 2, 3)
a, b, c = t
print(t, a + b + c, t[1:], t * 2, t.index(2), t.count(1))
s = {3, 1, 2}
s.add(4)
s.discard(1)
print(sorted(s), len(s), 2 in s)
print(sorted({1, 2} | {2, 3}), sorted({1, 2} & {2, 3}), sorted({1, 2} - {2}), sorted({1, 2} ^ {2, 3}))
print(frozenset([1]) == frozenset([1]), hash((1, 2)) == hash((1, 2)))
