# ---
# exclude:
#   webassembly: the pyscript build's asyncio runs on the JS event loop, not asyncio.run
# ---
try:
    import asyncio
except ImportError:
    print("SKIP")
    raise SystemExit

async def work(n):
    await asyncio.sleep(0)
    return n * 2

async def main():
    results = []
    for i in range(3):
        results.append(await work(i))
    print(results)

asyncio.run(main())
