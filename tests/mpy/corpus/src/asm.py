# Inline Thumb assembler (needs an ARM -march).
import micropython


@micropython.asm_thumb
def asm_add(r0, r1):
    add(r0, r0, r1)


@micropython.asm_thumb
def asm_const():
    mov(r0, 42)


def plain():
    return asm_add(1, 2) + asm_const()


print(plain())
