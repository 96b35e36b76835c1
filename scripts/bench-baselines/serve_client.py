"""bench-serve's measuring client: one JSON line per run.

  serve_client.py pingpong PORT COUNT EXPECTED_MS   100-byte echoes; error = rtt - expected, p50/p99 in µs
  serve_client.py receive PORT BYTES                 sends 1 byte, reads BYTES from a sink server; rate in KB/s
  serve_client.py sink PORT                           a server that answers each connection with endless bytes
"""
import json
import socket
import sys
import time

mode, port = sys.argv[1], int(sys.argv[2])

if mode == "sink":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    block = b"z" * 65536
    while True:
        connection, _ = listener.accept()
        try:
            connection.recv(1)
            while True:
                connection.sendall(block)
        except OSError:
            connection.close()

if mode == "pingpong":
    count, expected = int(sys.argv[3]), float(sys.argv[4])
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    errors = []
    for _ in range(count):
        start = time.monotonic()
        s.sendall(b"p" * 100)
        got = 0
        while got < 100:
            chunk = s.recv(100 - got)
            if not chunk:
                sys.exit("echo closed")
            got += len(chunk)
        errors.append(((time.monotonic() - start) * 1000 - expected) * 1000)
    errors.sort()
    print(json.dumps({"p50_us": round(errors[len(errors) // 2], 1), "p99_us": round(errors[int(len(errors) * 0.99) - 1], 1),
                      "max_us": round(errors[-1], 1)}))

if mode == "receive":
    total = int(sys.argv[3])
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"g")
    first = s.recv(65536)
    start, got = time.monotonic(), 0  # timed from the first byte: the connect and first slice are not the rate
    while got < total:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    elapsed = time.monotonic() - start
    print(json.dumps({"bytes": got, "seconds": round(elapsed, 3), "kb_s": round(got / elapsed / 1000, 1)}))
