class Vec:
    def __init__(self, *v):
        self.v = list(v)
    def __len__(self):
        return len(self.v)
    def __getitem__(self, i):
        return self.v[i]
    def __iter__(self):
        return iter(self.v)
    def __contains__(self, x):
        return x in self.v
    def __call__(self, k):
        return [k * x for x in self.v]
    def __str__(self):
        return "Vec" + str(tuple(self.v))

v = Vec(1, 2, 3)
print(len(v), v[1], list(v), 2 in v, v(10), str(v))
