# Global and local name lookup give the same results; the bytecode differs
# (see the bytecode goldens).
G = 10

def read_global():
    return G + 1

def write_global():
    global G
    G = 20

def local_only():
    G = 5
    return G

print(read_global(), local_only(), G)
write_global()
print(read_global(), G)
