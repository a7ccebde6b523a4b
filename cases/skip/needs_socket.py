# ---
# skip_reason: the port has no socket module
# ---
# SKIP on a missing feature, as upstream tests do: the webassembly port has no socket.
try:
    import socket
except ImportError:
    print("SKIP")
    raise SystemExit

print(hasattr(socket, "socket"))
