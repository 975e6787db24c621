"""Load: hostile or careless HTTP clients while a port carries traffic.

Each test runs an echo application on port p2 and measures the MQTT round
trip through the gateway (publish on rx, the echo comes back on tx): before,
during and (where it matters) after the load, and prints p50/p99/max.
Asserted, generously: the gateway keeps answering the API, the round trip
stays under 10 ms at p50 during the load, and memory comes back.

- slowloris: many connections that trickle one header byte a second;
- websocket clients that never read while traffic events flow;
- a login storm: wrong passwords from 4 processes.
"""

import multiprocessing
import os
import socket
import threading
import time

import pytest

from api_helpers import Api, Ws, WsRefused, set_password, start_api_gateway
from faults_util import Echo, percentiles, pick, raise_fd_limit, record, rss_kb
from helpers import Broker

P50_BOUND_S = 0.010


def p50_bound_ms(before):
    """10 ms, or three times the round trip measured just before the load
    when the machine itself is that slow (it is shared): the load may not
    make the gateway's round trip much worse than the machine's."""
    b = percentiles(before)["p50_ms"] or 0.0
    return max(P50_BOUND_S * 1000, 3 * b)


@pytest.fixture
def broker(tmp_path):
    """The private Mosquitto with TCP_NODELAY toward its clients, so the
    round trip measures the gateway and not Nagle's algorithm."""
    b = Broker(tmp_path / "broker")
    b.extra_conf.append("set_tcp_nodelay true")
    try:
        b.start()
        yield b
    finally:
        b.cleanup()


def echo_port(gw, mqtt):
    base = "mqttty/%s/p2" % gw.id
    client = mqtt([])
    echo = Echo(gw.link("p2"), client, base)
    for _ in range(20):                 # warm up
        echo.round_trip()
    return echo


def serving(api, token=None):
    try:
        r = api.get("/api/v1/status", timeout=5)
    except OSError:
        return False
    return r.status == 200


class Prober(threading.Thread):
    """Asks the API every 0.5 s during the load; counts answers."""

    def __init__(self, api):
        super().__init__(daemon=True)
        self.api = api
        self.ok = self.failed = 0
        self.stop = False

    def run(self):
        while not self.stop:
            if serving(self.api):
                self.ok += 1
            else:
                self.failed += 1
            time.sleep(0.5)


def test_slowloris(broker, gateway, mqtt):
    n = pick(1000, 1000)
    seconds = pick(5, 30)
    raise_fd_limit(n + 1024)            # the gateway inherits it
    gw, api = start_api_gateway(gateway, broker, ports=("p2",))
    echo = echo_port(gw, mqtt)
    before, _ = echo.sample(1.5)
    socks = []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", api.port))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(0.5)
    opened = 0
    for s in socks:
        try:
            s.send(b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            opened += 1
        except OSError:
            pass
    stop = threading.Event()

    def trickle():
        while not stop.wait(1.0):
            for s in socks:
                try:
                    s.send(b"X")
                except OSError:
                    pass
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    prober = Prober(api)
    prober.start()
    during, fails = echo.sample(seconds)
    prober.stop = True
    prober.join(10)
    alive = 0
    for s in socks:
        try:
            alive += s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    stop.set()
    t.join(5)
    for s in socks:
        s.close()
    after_ok = serving(api)
    pd = percentiles(during)
    record("load_slowloris", connections=n, sent_headers=opened, still_open_at_end=alive,
           seconds=seconds, rtt_before=percentiles(before), rtt_during=pd,
           rtt_failures=fails, api_ok=prober.ok, api_failed=prober.failed,
           rss_kb=rss_kb(gw.proc.pid))
    echo.close()
    assert after_ok and prober.ok > 0, "the API stopped answering under slowloris"
    assert fails == 0, "%d round trips got no answer in 5 s" % fails
    assert pd["p50_ms"] < p50_bound_ms(before), "round trip p50 %.1f ms (before: %s)" % (
        pd["p50_ms"], percentiles(before))


def test_websocket_clients_that_never_read(broker, gateway, mqtt):
    n = pick(300, 300)
    seconds = pick(5, 30)
    raise_fd_limit(n + 1024)
    gw, api = start_api_gateway(gateway, broker, ports=("p2", "blast"))
    echo = echo_port(gw, mqtt)
    pid = gw.proc.pid
    rss0 = rss_kb(pid)
    before, _ = echo.sample(1.5)
    clients, refused = [], 0
    for _ in range(n):
        try:
            clients.append(Ws(api.port, rcvbuf=4096, timeout=5))
        except WsRefused as e:
            assert e.status == 503, "websocket refused with %d" % e.status
            refused += 1
    # traffic events for every client: 2 KiB rx messages on another port
    blaster = mqtt([])
    stop = threading.Event()
    blast_topic = "mqttty/%s/blast/rx" % gw.id

    def blast():
        payload = os.urandom(2048)
        while not stop.is_set():
            blaster.publish(blast_topic, payload, qos=0)
            time.sleep(0.005)
    holder = os.open(gw.link("blast"), os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)

    def drain():
        while not stop.is_set():
            try:
                os.read(holder, 65536)
            except BlockingIOError:
                time.sleep(0.01)
    threads = [threading.Thread(target=blast, daemon=True),
               threading.Thread(target=drain, daemon=True)]
    for t in threads:
        t.start()
    prober = Prober(api)
    prober.start()
    during, fails = echo.sample(seconds)
    rss_peak = rss_kb(pid)
    prober.stop = True
    prober.join(10)
    stop.set()
    for t in threads:
        t.join(5)
    os.close(holder)
    for c in clients:
        try:
            c.sock.close()
        except (OSError, AttributeError):
            pass
    time.sleep(2)
    after, _ = echo.sample(1.5)
    rss1 = rss_kb(pid)
    st = api.get("/api/v1/status").json()
    pd = percentiles(during)
    record("load_ws_never_read", clients=n, accepted=len(clients), refused_503=refused,
           seconds=seconds, rtt_before=percentiles(before), rtt_during=pd,
           rtt_after=percentiles(after), rtt_failures=fails,
           api_ok=prober.ok, api_failed=prober.failed, rss_start_kb=rss0,
           rss_peak_kb=rss_peak, rss_after_kb=rss1, rss_kept_kb=rss1 - rss0,
           websocket_clients_after=st.get("websocket_clients"))
    echo.close()
    assert prober.ok > 0 and prober.failed == 0, "the API did not always answer"
    assert fails == 0, "%d round trips got no answer in 5 s" % fails
    assert pd["p50_ms"] < p50_bound_ms(before), "round trip p50 %.1f ms (before: %s)" % (
        pd["p50_ms"], percentiles(before))
    assert len(clients) <= 64, "%d websocket clients accepted (at most 64)" % len(clients)
    assert rss1 - rss0 <= 64 * 1024, "%d MB kept after the clients left" % (
        (rss1 - rss0) // 1024)


def _storm(port, seconds, out):
    api = Api(port, timeout=10)
    counts = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            r = api.post("/api/v1/login", {"password": "wrong-%d" % os.getpid()}, auth=False)
            counts[r.status] = counts.get(r.status, 0) + 1
        except OSError:
            counts["error"] = counts.get("error", 0) + 1
    out.put(counts)


def test_login_storm(broker, gateway, mqtt, tmp_path):
    seconds = pick(5, 30)
    db = tmp_path / "mqttty.db"
    token = set_password(db, "right password", tmp_path)
    gw, api = start_api_gateway(gateway, broker, ports=("p2",))
    api.token = token
    echo = echo_port(gw, mqtt)
    before, _ = echo.sample(1.5)
    q = multiprocessing.get_context("fork").Queue()
    procs = [multiprocessing.get_context("fork").Process(
        target=_storm, args=(api.port, seconds, q)) for _ in range(4)]
    for p in procs:
        p.start()
    prober = Prober(api)
    prober.start()
    during, fails = echo.sample(seconds)
    prober.stop = True
    prober.join(10)
    counts = {}
    for _ in procs:
        for k, v in q.get(timeout=30).items():
            counts[str(k)] = counts.get(str(k), 0) + v
    for p in procs:
        p.join(10)
    pd = percentiles(during)
    record("load_login_storm", processes=4, seconds=seconds, answers=counts,
           rtt_before=percentiles(before), rtt_during=pd, rtt_failures=fails,
           api_ok=prober.ok, api_failed=prober.failed)
    echo.close()
    assert prober.ok > 0, "the API never answered during the storm"
    assert "200" not in counts and "204" not in counts, "a wrong password was accepted"
    assert "429" in counts, "failed logins were never limited: %s" % counts
    assert fails == 0, "%d round trips got no answer in 5 s" % fails
    assert pd["p50_ms"] < p50_bound_ms(before), "round trip p50 %.1f ms" % pd["p50_ms"]
    assert prober.failed == 0, "the API failed %d times" % prober.failed
