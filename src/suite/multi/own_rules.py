# mpcheck's own multi-instance rules, for multi-instance cases in a project's cases/
# (a checkout's tests use its run-multitests.py). Written in run-multitests.py's form,
# read by the same reader (src/suite/multi/protocol.rs), never run: the `multitest`
# helper speaks upstream's line protocol (NEXT, BROADCAST, SET, SKIP, OUTPUT_METRIC).

INSTANCE_READ_TIMEOUT_S = 10

APPEND_CODE_TEMPLATE = """
import sys
class multitest:
    @staticmethod
    def flush():
        try:
            sys.stdout.flush()
        except AttributeError:
            pass
    @staticmethod
    def skip():
        print("SKIP")
        multitest.flush()
        raise SystemExit
    @staticmethod
    def next():
        print("NEXT")
        multitest.flush()
    @staticmethod
    def broadcast(msg):
        print("BROADCAST", msg)
        multitest.flush()
    @staticmethod
    def wait(msg):
        msg = "BROADCAST " + msg
        while True:
            if sys.stdin.readline().rstrip() == msg:
                return
    @staticmethod
    def globals(**gs):
        for g in gs:
            print("SET {{}} = {{!r}}".format(g, gs[g]))
        multitest.flush()
    @staticmethod
    def get_network_ip():
        return HOST_IP
    @staticmethod
    def output_metric(data):
        print("OUTPUT_METRIC", data)

{}

instance{}()
multitest.flush()
"""

IGNORE_OUTPUT_MATCHES = (
)

# A process instance runs without its directory on sys.path, as upstream's does.
remove_cwd_from_sys_path = b"import sys\nsys.path.remove('')\n\n"


# Instances are counted by the pattern upstream counts them by.
def instance_number(line):
    m = re.match(r"def instance([0-9]+)\(\):", line)
    return m and int(m.group(1))
