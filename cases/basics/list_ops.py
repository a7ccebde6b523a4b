l = [3, 1, 2]
l.append(5)
l.extend([9, 0])
l.insert(1, 7)
print(l, len(l))
l.sort()
print(l, l.index(5), l.count(9))
l.reverse()
print(l, l.pop(), l.pop(0))
print(l[1:3], l[::-1], l[::2])
del l[0]
l.remove(5)
print(l, [1, 2] * 3, [1] + [2], 2 in l)
print(sorted([5, 2, 8], reverse=True), min(l), max(l), sum(l))
