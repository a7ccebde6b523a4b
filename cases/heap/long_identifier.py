# ---
# exclude: {cpython: heap figures are MicroPython's}
# heap:
#   less: [[short_names, long_names]]
# ---
# Identifiers are interned as qstrs when code is compiled: longer global names cost
# more RAM. Each region compiles twenty assignments to new names (into its own fresh
# globals dict, so dict growth is the same for both) differing only in name length.
short = ";".join("s%d=1" % i for i in range(20))
long = ";".join("a_rather_long_global_identifier_number_%d=1" % i for i in range(20))
with mpcheck_region("short_names"):
    exec(short, {})
with mpcheck_region("long_names"):
    exec(long, {})
print("compiled")
