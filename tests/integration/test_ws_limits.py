"""Websocket bounds (CONTRACT.md §5 "Memory and fairness", issue 10 item
4): at most 64 clients (more get 503); the memory queued for all clients
together is bounded, clients that never read are dropped, and the
gateway's memory comes back once they are gone."""

import os
import random
import threading
import time

from api_helpers import Ws, WsRefused, start_api_gateway
from helpers import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def is_asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def test_at_most_64_websocket_clients(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker)
    held, refused = [], []
    try:
        for i in range(70):
            try:
                held.append(Ws(api.port))
            except WsRefused as e:
                refused.append(e.status)
        print("\n70 websocket upgrades: %d accepted, refused with %r" % (len(held), refused))
        assert len(held) == 64, "accepted %d websocket clients" % len(held)
        assert refused == [503] * 6, refused
        # a place frees up when a client leaves
        held.pop().close()
        wait_until(lambda: _try_ws(api, held), 5, interval=0.2, what="a free websocket place")
        assert api.answers()
    finally:
        for w in held:
            w.close()


def _try_ws(api, held):
    try:
        held.append(Ws(api.port))
        return True
    except WsRefused as e:
        assert e.status == 503, e
        return False


def test_clients_that_never_read_are_dropped_and_memory_returns(broker, gateway, app,
                                                                 monkeypatch):
    # RSS only means something without ASan (its allocator quarantines freed
    # memory): use the release build beside the ASan one when there is one
    binp = os.environ.get("MQTTTY_BIN", "build/mqttty")
    binp = binp if os.path.isabs(binp) else os.path.join(ROOT, binp)
    asan = is_asan(binp)
    release = os.path.join(ROOT, "build", "mqttty")
    if asan and os.access(release, os.X_OK) and not is_asan(release):
        monkeypatch.setenv("MQTTTY_BIN", release)
        asan = False
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    pid = gw.proc.pid
    a = app(gw.link("p1"), baud=115200)
    wait_until(lambda: api.get_port("p1")["state"]["open"], 5, what="p1 open")
    time.sleep(0.3)
    base = rss_kb(pid)

    slow = [Ws(api.port, rcvbuf=4096) for _ in range(64)]   # never read again
    data = random.Random(4).randbytes(4 * 1024 * 1024)
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], rss_kb(pid))
            except (OSError, AssertionError):
                return
            time.sleep(0.02)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        for i in range(0, len(data), 65536):
            a.write_all(data[i:i + 65536], timeout=10)
            time.sleep(0.01)
        t = time.monotonic()
        assert api.get("/api/v1/status", timeout=5).status == 200
        api_ms = (time.monotonic() - t) * 1000
        deadline = time.monotonic() + 20
        dropped = sum(1 for w in slow
                      if w.read_until_eof(max(0.5, deadline - time.monotonic())))
    finally:
        stop.set()
        th.join(2)
        for w in slow:
            w.close()
    time.sleep(1.0)               # the gateway closes them and trims
    after = rss_kb(pid)
    print("\n64 websocket clients that never read, 4 MiB written: %d dropped; VmRSS "
          "baseline %.1f MB, peak %.1f MB, after %.1f MB%s; GET /status %.1f ms"
          % (dropped, base / 1024, peak[0] / 1024, after / 1024,
             " (ASan build: not asserted)" if asan else "", api_ms))
    assert dropped == 64, "%d of 64 clients that never read were dropped" % dropped
    assert "all websocket queues together are full" in gw.log_text(), \
        "the total bound did not act (64 x 1 MiB per client is more than the total)"
    assert gw.running()
    if not asan:
        # 16 MiB of queues at most, plus what lws and the kernel hold
        assert peak[0] - base < 64 * 1024, "peak RSS %d kB over the baseline" % (peak[0] - base)
        assert after - base < 8 * 1024, "RSS stayed %d kB over the baseline" % (after - base)
