# f-strings, formatting, slicing, string methods, escapes.
name = "world"
n = 42
pi = 3.14159
print(f"hello {name}!")
print(f"{n:>8} {pi:.2f} {name.upper()}")
print("%s has %d chars" % (name, len(name)), "{}-{}".format(1, 2))
s = "The quick brown fox jumps over the lazy dog"
print(s[4:9], s[::-1], s[-3:], s.split()[2], s.replace("o", "0"))
print("tab\tnew\nline\\ quote' \" \x01 end")
words = ", ".join(w.capitalize() for w in s.split() if len(w) > 3)
print(words, s.startswith("The"), "fox" in s, "cat" not in s, s is not None)
