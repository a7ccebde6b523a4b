for i in range(5):
    if i == 3:
        break
else:
    print("no break")
print("i", i)
n = 0
while n < 3:
    n += 1
else:
    print("while else", n)
for x in []:
    pass
else:
    print("empty for else")
