# ---
# requires: [stdin]
# ---
# Two instances in step (mpcheck's own multi-instance rules, as run-multitests.py's):
# instance 0 runs on the trial's board, instance 1 on its partner (the board itself on a
# host VM, else the unix port). Each prints what the other sent: globals and broadcasts
# (set before instance 0's first `next()`, seen by the later instances) cross between
# two VMs, judged against the same case on two CPython instances.
import sys


def instance0():
    multitest.globals(GREETING="from instance0", N=3)
    multitest.next()
    multitest.wait("ready")
    print("instance0 heard ready")
    total = 0
    for i in range(3):
        total += i * i
    multitest.broadcast("sum {}".format(total))
    print("instance0 sent", total)


def instance1():
    multitest.next()
    print("instance1 got", GREETING, N)
    multitest.broadcast("ready")
    multitest.wait("sum 5")
    print("instance1 heard the sum")
    print("platform is a string:", isinstance(sys.platform, str))
