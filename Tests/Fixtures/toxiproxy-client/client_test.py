"""Drives `faultproxy serve` (or toxiproxy-server) with the unmodified toxiproxy-python client.

Each check measures a toxic's effect with a real socket through the proxy to an echo server and
prints one JSON line; the exit status is the number of failed checks. PATCH is not in
toxiproxy-python 0.1.1, so it is sent with plain `requests`.

usage: client_test.py API_PORT ECHO_PORT [CHECK ...]
"""
import json
import socket
import sys
import time

import requests
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

API_PORT, ECHO_PORT = int(sys.argv[1]), int(sys.argv[2])
ONLY = set(sys.argv[3:])
APIConsumer.host, APIConsumer.port = "127.0.0.1", API_PORT
API = "http://127.0.0.1:%d" % API_PORT
UPSTREAM = "127.0.0.1:%d" % ECHO_PORT
LISTEN_PORT = 17401
LISTEN = "127.0.0.1:%d" % LISTEN_PORT
failures = 0
server = Toxiproxy()


def report(name, ok, **figures):
    global failures
    failures += 0 if ok else 1
    print(json.dumps(dict(check=name, ok=bool(ok), **figures)), flush=True)


def connect(timeout=5.0):
    s = socket.create_connection(("127.0.0.1", LISTEN_PORT), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exactly(s, n):
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def rtt_ms(s, size=100):
    start = time.monotonic()
    s.sendall(b"x" * size)
    got = recv_exactly(s, size)
    assert len(got) == size, "short echo: %d of %d" % (len(got), size)
    return (time.monotonic() - start) * 1000


def median_rtt(count=5):
    with connect() as s:
        samples = sorted(rtt_ms(s) for _ in range(count))
    return samples[len(samples) // 2]


def fresh_proxy():
    server.destroy_all()
    return server.create(upstream=UPSTREAM, name="echo", listen=LISTEN)


def check_create_and_list():
    proxy = fresh_proxy()
    listed = server.proxies()
    base = median_rtt()
    try:
        server.create(upstream=UPSTREAM, name="echo", listen=LISTEN)
        duplicate_refused = False
    except ProxyExists:
        duplicate_refused = True
    report("create_and_list", "echo" in listed and listed["echo"].listen == LISTEN and proxy.enabled and base < 20
           and duplicate_refused, rtt_ms=round(base, 2))


def check_latency():
    proxy = fresh_proxy()
    proxy.add_toxic(type="latency", attributes={"latency": 100})
    down = median_rtt()
    proxy.destroy_toxic("latency_downstream")
    proxy.add_toxic(type="latency", stream="upstream", attributes={"latency": 60})
    up = median_rtt()
    proxy.destroy_toxic("latency_upstream")
    after = median_rtt()
    report("latency", 98 <= down <= 130 and 58 <= up <= 90 and after < 20,
           downstream_100_ms=round(down, 2), upstream_60_ms=round(up, 2), removed_ms=round(after, 2))


def check_jitter():
    proxy = fresh_proxy()
    proxy.add_toxic(type="latency", attributes={"latency": 50, "jitter": 20})
    with connect() as s:
        samples = [rtt_ms(s) for _ in range(20)]
    report("jitter", all(29 <= x <= 95 for x in samples) and max(samples) - min(samples) > 5,
           min_ms=round(min(samples), 2), max_ms=round(max(samples), 2))


def check_toxicity():
    proxy = fresh_proxy()
    proxy.add_toxic(type="latency", toxicity=0.0, attributes={"latency": 300})
    never = median_rtt(3)
    proxy.destroy_toxic("latency_downstream")
    proxy.add_toxic(type="latency", toxicity=1.0, attributes={"latency": 100})
    always = median_rtt(3)
    report("toxicity", never < 20 and always >= 98, toxicity_0_ms=round(never, 2), toxicity_1_ms=round(always, 2))


def check_bandwidth():
    proxy = fresh_proxy()
    proxy.add_toxic(type="bandwidth", attributes={"rate": 2000})  # KB/s
    size = 1_000_000
    with connect(timeout=10) as s:
        start = time.monotonic()
        s.sendall(b"b" * size)
        got = recv_exactly(s, size)
        elapsed = time.monotonic() - start
    rate = len(got) / elapsed / 1000
    report("bandwidth", len(got) == size and 1900 <= rate <= 2040, asked_kb_s=2000, measured_kb_s=round(rate, 1))


def check_slow_close():
    proxy = fresh_proxy()
    proxy.add_toxic(type="slow_close", attributes={"delay": 500})
    with connect() as s:
        rtt_ms(s)
        start = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        eof = s.recv(10)
        held = (time.monotonic() - start) * 1000
    report("slow_close", eof == b"" and 490 <= held <= 700, close_held_ms=round(held, 1))


def check_timeout():
    proxy = fresh_proxy()
    proxy.add_toxic(type="timeout", attributes={"timeout": 300})
    with connect() as s:
        start = time.monotonic()
        s.sendall(b"hello")
        data = s.recv(10)
        closed_ms = (time.monotonic() - start) * 1000
    proxy.destroy_toxic("timeout_downstream")
    proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    with connect(timeout=0.8) as s:
        s.sendall(b"hello")
        try:
            held = s.recv(10)
        except socket.timeout:
            held = None
    report("timeout", data == b"" and 290 <= closed_ms <= 500 and held is None,
           closed_after_ms=round(closed_ms, 1), timeout_0_kept_open=held is None)


def check_reset_peer():
    proxy = fresh_proxy()
    proxy.add_toxic(type="reset_peer", attributes={"timeout": 200})
    with connect() as s:
        start = time.monotonic()
        s.sendall(b"hello")
        try:
            s.recv(10)
            reset = False
        except ConnectionResetError:
            reset = True
        reset_ms = (time.monotonic() - start) * 1000
    report("reset_peer", reset and 190 <= reset_ms <= 400, reset_after_ms=round(reset_ms, 1))


def check_slicer():
    proxy = fresh_proxy()
    proxy.add_toxic(type="slicer", attributes={"average_size": 10, "size_variation": 4, "delay": 10000})
    with connect() as s:
        start = time.monotonic()
        s.sendall(b"s" * 200)
        pieces, total = 0, 0
        while total < 200:
            chunk = s.recv(1000)
            if not chunk:
                break
            pieces += 1
            total += len(chunk)
        elapsed = (time.monotonic() - start) * 1000
    report("slicer", total == 200 and pieces >= 8 and elapsed >= 80, pieces=pieces, elapsed_ms=round(elapsed, 1))


def check_limit_data():
    proxy = fresh_proxy()
    proxy.add_toxic(type="limit_data", attributes={"bytes": 50})
    with connect() as s:
        s.sendall(b"l" * 100)
        got = b""
        while True:
            try:
                chunk = s.recv(1000)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    report("limit_data", len(got) == 50, received_bytes=len(got))


def refused():
    try:
        with connect(timeout=1):
            return False
    except (ConnectionRefusedError, socket.timeout):
        return True


def check_enable_disable():
    proxy = fresh_proxy()
    live = connect()
    rtt_ms(live)
    proxy.disable()
    down = refused()
    live_closed = live.recv(10) == b""
    live.close()
    proxy.enable()
    back = median_rtt(3) < 20
    with proxy.down():
        down_in_context = refused()
    report("enable_disable", down and live_closed and back and down_in_context and not refused())


def check_populate_reset_delete():
    server.destroy_all()
    made = server.populate([{"name": "p1", "listen": "127.0.0.1:17411", "upstream": UPSTREAM},
                            {"name": "p2", "listen": "127.0.0.1:17412", "upstream": UPSTREAM}])
    names = sorted(server.proxies())
    p1 = server.get_proxy("p1")
    p1.add_toxic(type="latency", attributes={"latency": 100})
    p1.disable()
    server.reset()
    after = server.get_proxy("p1")
    toxics_gone = after.toxics() == {} and after.enabled
    p1.destroy()
    try:
        requests_gone = requests.get(API + "/proxies/p1").status_code == 404
    except requests.RequestException:
        requests_gone = False
    report("populate_reset_delete", len(made) == 2 and names == ["p1", "p2"] and toxics_gone and requests_gone
           and sorted(server.proxies()) == ["p2"])


def check_errors():
    proxy = fresh_proxy()
    outcomes = []
    for attempt, expected in ((lambda: proxy.add_toxic(type="bogus"), InvalidToxic),
                              (lambda: proxy.add_toxic(type="latency", stream="sideways"), InvalidToxic),
                              (lambda: proxy.destroy_toxic("nope"), NotFound),
                              (lambda: server.create(upstream=UPSTREAM, name="echo"), ProxyExists)):
        try:
            attempt()
            outcomes.append(False)
        except expected:
            outcomes.append(True)
    bad_json = requests.post(API + "/proxies", data="{bad")
    report("errors", all(outcomes) and bad_json.status_code == 400 and "error" in bad_json.json(),
           outcomes=outcomes, bad_json_status=bad_json.status_code)


def check_patch_live():
    proxy = fresh_proxy()
    proxy.add_toxic(type="latency", name="lag", attributes={"latency": 100})
    with connect() as s:
        before = rtt_ms(s)
        answer = requests.patch(API + "/proxies/echo/toxics/lag", json={"attributes": {"latency": 20}})
        after = sorted(rtt_ms(s) for _ in range(3))[1]
        requests.delete(API + "/proxies/echo/toxics/lag")
        removed = sorted(rtt_ms(s) for _ in range(3))[1]
    disabled = requests.patch(API + "/proxies/echo", json={"enabled": False})
    report("patch_live", answer.status_code == 200 and answer.json()["attributes"]["latency"] == 20
           and before >= 98 and 19 <= after <= 45 and removed < 20
           and disabled.status_code == 200 and disabled.json()["enabled"] is False and refused(),
           before_ms=round(before, 1), patched_ms=round(after, 1), removed_ms=round(removed, 1))


CHECKS = [check_create_and_list, check_latency, check_jitter, check_toxicity, check_bandwidth, check_slow_close,
          check_timeout, check_reset_peer, check_slicer, check_limit_data, check_enable_disable,
          check_populate_reset_delete, check_errors, check_patch_live]
for check in CHECKS:
    if ONLY and check.__name__[len("check_"):] not in ONLY:
        continue
    try:
        check()
    except Exception as error:  # a check that raised is a failed check, with its reason
        report(check.__name__[len("check_"):], False, error="%s: %s" % (type(error).__name__, error))
server.destroy_all()
sys.exit(min(failures, 100))
