people = [("ann", 31), ("bob", 25), ("cid", 31), ("dee", 19)]
print(sorted(people, key=lambda p: p[1]))
print(sorted(people, key=lambda p: (-p[1], p[0])))
l = [5, 3, 9, 1]
l.sort(key=lambda x: -x)
print(l, sorted("Cba", key=str.lower))
