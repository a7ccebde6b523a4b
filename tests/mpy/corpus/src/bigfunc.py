# Many locals, long jumps, star-unpacking, slices, globals, deletes.
counter = 0


def big(flag):
    global counter
    v0 = 0 * flag
    v1 = 1 * flag
    v2 = 2 * flag
    v3 = 3 * flag
    v4 = 4 * flag
    v5 = 5 * flag
    v6 = 6 * flag
    v7 = 7 * flag
    v8 = 8 * flag
    v9 = 9 * flag
    v10 = 10 * flag
    v11 = 11 * flag
    v12 = 12 * flag
    v13 = 13 * flag
    v14 = 14 * flag
    v15 = 15 * flag
    v16 = 16 * flag
    v17 = 17 * flag
    v18 = 18 * flag
    v19 = 19 * flag
    if flag:
        counter += v0 + 0
        counter += v1 + 1
        counter += v2 + 2
        counter += v3 + 3
        counter += v4 + 4
        counter += v5 + 5
        counter += v6 + 6
        counter += v7 + 7
        counter += v8 + 8
        counter += v9 + 9
        counter += v10 + 10
        counter += v11 + 11
        counter += v12 + 12
        counter += v13 + 13
        counter += v14 + 14
        counter += v15 + 15
        counter += v16 + 16
        counter += v17 + 17
        counter += v18 + 18
        counter += v19 + 19
        counter += v0 + 20
        counter += v1 + 21
        counter += v2 + 22
        counter += v3 + 23
        counter += v4 + 24
        counter += v5 + 25
        counter += v6 + 26
        counter += v7 + 27
        counter += v8 + 28
        counter += v9 + 29
        counter += v10 + 30
        counter += v11 + 31
        counter += v12 + 32
        counter += v13 + 33
        counter += v14 + 34
        counter += v15 + 35
        counter += v16 + 36
        counter += v17 + 37
        counter += v18 + 38
        counter += v19 + 39
    else:
        counter = -1
    a, *rest, b = [v0, v1, v2, v3, v19]
    first, second = rest[:1] + rest[1:2]
    del v5
    x = [1, 2, 3, 4, 5]
    x[1:3] = [9]
    del x[0]
    return a + b + first + second + v17 + sum(x)












































































































































































































































































































print(big(1), big(0), counter)
