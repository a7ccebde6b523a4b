# ---
# exclude:
#   webassembly: the pyscript build's asyncio runs on the JS event loop, not asyncio.run
# requires: [async]   # (probed) 1.9.2 for the micro:bit is built without async/await
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
