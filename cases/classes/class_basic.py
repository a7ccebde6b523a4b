class Point:
    count = 0
    def __init__(self, x, y):
        self.x = x
        self.y = y
        Point.count += 1
    def __add__(self, o):
        return Point(self.x + o.x, self.y + o.y)
    def __eq__(self, o):
        return self.x == o.x and self.y == o.y
    def __repr__(self):
        return "Point(%d, %d)" % (self.x, self.y)

p = Point(1, 2) + Point(3, 4)
print(p, Point.count, p == Point(4, 6), hasattr(p, "x"), getattr(p, "z", None))
