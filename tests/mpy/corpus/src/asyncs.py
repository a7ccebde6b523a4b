# async def, await, async with, async for.
class Ctx:
    async def __aenter__(self):
        return 1

    async def __aexit__(self, *exc):
        return False


class Ticker:
    def __init__(self, n):
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.n == 0:
            raise StopAsyncIteration
        self.n -= 1
        return self.n


async def work(x):
    total = 0
    async with Ctx() as c:
        total += c
    async for t in Ticker(x):
        total += t
    return total


async def main():
    return await work(3)


coro = main()
try:
    coro.send(None)
except StopIteration as e:
    print(e.value)
