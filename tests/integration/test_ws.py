"""The /ws websocket (CONTRACT.md §4): a hello, then live port, state,
traffic and broker events; foreign Origins refused; broken or lagging
clients dropped without hurting the gateway or the other clients."""

import base64
import json
import random
import threading
import time

import pytest

from api_helpers import OP_BINARY, OP_PING, OP_TEXT, Ws, WsRefused, start_api_gateway, wsc  # noqa: F401
from helpers import PORT_OBJECT_KEYS, STATE_KEYS, sync_rx, wait_until

ALL_BYTES = bytes(range(256))


def base(gw, name):
    return "mqttty/%s/%s" % (gw.id, name)


def traffic(w, name, dir_, start=0):
    """The bytes of every traffic event for (name, dir) so far, in order."""
    with w.cond:
        evs = [e for e in w.events[start:] if e.get("type") == "traffic"
               and e.get("name") == name and e.get("dir") == dir_]
    return b"".join(base64.b64decode(e["data"], validate=True) for e in evs)


def b64len(s):
    return len(s) // 4 * 3 - s[-2:].count("=") if s else 0


def wait_traffic(w, name, dir_, n, timeout=5.0, start=0):
    def count():
        with w.cond:
            return sum(b64len(e["data"]) for e in w.events[start:]
                       if e.get("type") == "traffic" and e.get("name") == name
                       and e.get("dir") == dir_)
    try:
        wait_until(lambda: count() >= n or w.closed, timeout, interval=0.2,
                   what="%d bytes of %s traffic on %s over the websocket" % (n, dir_, name))
    except AssertionError as e:
        raise AssertionError("%s (got %d)" % (e, count()))
    assert not w.closed or count() >= n, "the websocket was closed (%s) after %d of %d bytes" \
        % (w.close_reason, count(), n)
    return traffic(w, name, dir_, start)


def test_hello_then_live_events(broker, gateway, mqtt, app, wsc):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    wait_until(lambda: api.status()["broker"]["connected"], 10, what="broker connected")
    w = wsc(api)

    hello = w.wait_event(lambda e: True, timeout=5, what="the first message")
    assert w.events[0] is hello
    assert hello.get("type") == "hello", "first message is not a hello: %r" % hello
    st = hello["status"]
    assert st["id"] == gw.id and st["ports"] == 1 and st["broker"]["connected"] is True, st
    assert st == api.status(), "hello status differs from GET /api/v1/status"
    assert [p["name"] for p in hello["ports"]] == ["p1"]
    assert set(hello["ports"][0]) == PORT_OBJECT_KEYS | {"state"}
    assert set(hello["ports"][0]["state"]) == STATE_KEYS

    # a port added through the API
    mark = w.count()
    r = api.post("/api/v1/ports", {"name": "w1", "baud": 115200})
    assert r.status == 201, r
    ev = w.wait_event(lambda e: e["type"] == "port" and e["op"] == "added", start=mark,
                      what="port added")
    assert ev["port"]["name"] == "w1" and ev["port"]["baud"] == 115200, ev
    assert set(ev["port"]) >= PORT_OBJECT_KEYS, ev

    # an application opens it
    mark = w.count()
    a = app(gw.link("w1"), baud=115200)
    ev = w.wait_event(lambda e: e["type"] == "state" and e["name"] == "w1"
                      and e["state"]["open"] is True, start=mark, what="state w1 open:true")
    assert set(ev["state"]) == STATE_KEYS, ev

    # the application's bytes, as traffic tx
    mark = w.count()
    t0 = time.time() * 1000
    a.write_all(ALL_BYTES)
    got = wait_traffic(w, "w1", "tx", len(ALL_BYTES), start=mark)
    assert got == ALL_BYTES, "traffic tx decodes to %r" % got
    ev = [e for e in w.events[mark:] if e.get("type") == "traffic"][0]
    assert isinstance(ev["ts"], int) and abs(ev["ts"] - t0) < 60000, \
        "ts must be the time in ms: %r (now %d)" % (ev["ts"], t0)

    # an MQTT publish on rx, as traffic rx
    c = mqtt([])
    sync_rx(a, c, base(gw, "w1") + "/rx")
    mark = w.count()
    payload = bytes(reversed(ALL_BYTES)) + b"\x00end"
    c.publish(base(gw, "w1") + "/rx", payload)
    assert a.read_exact(len(payload), timeout=5) == payload
    got = wait_traffic(w, "w1", "rx", len(payload), start=mark)
    assert got == payload

    # a change
    mark = w.count()
    assert api.patch("/api/v1/ports/w1", {"qos": 0}).status == 200
    ev = w.wait_event(lambda e: e["type"] == "port" and e["op"] == "changed", start=mark,
                      what="port changed")
    assert ev["port"]["name"] == "w1" and ev["port"]["qos"] == 0, ev

    # the application closes
    mark = w.count()
    a.close()
    w.wait_event(lambda e: e["type"] == "state" and e["name"] == "w1"
                 and e["state"]["open"] is False, start=mark, what="state w1 open:false")

    # removal
    mark = w.count()
    assert api.delete("/api/v1/ports/w1").status == 204
    ev = w.wait_event(lambda e: e["type"] == "port" and e["op"] == "removed", start=mark,
                      what="port removed")
    assert ev["port"]["name"] == "w1", ev

    # the broker goes away and comes back
    mark = w.count()
    broker.stop()
    ev = w.wait_event(lambda e: e["type"] == "broker", start=mark, timeout=15,
                      what="a broker event after the broker stopped")
    assert ev == {"type": "broker", "connected": False}, ev
    assert api.status()["broker"]["connected"] is False
    mark = w.count()
    broker.start()
    ev = w.wait_event(lambda e: e["type"] == "broker" and e["connected"] is True, start=mark,
                      timeout=20, what="broker connected:true after the broker restarted")
    assert not w.closed


def test_send_through_api_shows_as_rx_traffic(broker, gateway, app, wsc):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    w = wsc(api)
    w.wait_event(lambda e: e["type"] == "hello", what="hello")
    a = app(gw.link("p1"))
    wait_until(lambda: api.get_port("p1")["state"]["open"], 5, what="p1 open")
    mark = w.count()
    assert api.post("/api/v1/ports/p1/send", ALL_BYTES,
                    ctype="application/octet-stream").status == 204
    assert a.read_exact(256) == ALL_BYTES
    assert wait_traffic(w, "p1", "rx", 256, start=mark) == ALL_BYTES


def test_large_traffic_event(broker, gateway, app, wsc):
    """One 60 kB frame makes one traffic event longer than 65535 bytes
    (a websocket frame with a 64-bit length), decoding to the same bytes."""
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    r = api.patch("/api/v1/ports/p1", {"frame": {"mode": "delim", "delim": "\n",
                                                 "max": 65536}})
    assert r.status == 200, r
    w = wsc(api)
    w.wait_event(lambda e: e["type"] == "hello", what="hello")
    a = app(gw.link("p1"), baud=115200)
    body = random.Random(8).randbytes(60000).replace(b"\n", b"N") + b"\n"
    mark = w.count()
    a.write_all(body)
    got = wait_traffic(w, "p1", "tx", len(body), start=mark, timeout=10)
    assert got == body
    evs = [e for e in w.events[mark:] if e.get("type") == "traffic"]
    assert len(evs) == 1, "one frame, one traffic event: got %d" % len(evs)
    assert max(len(m) for m in w.raw) > 65535


def test_every_client_gets_every_event(broker, gateway, wsc):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    ws = [wsc(api) for _ in range(3)]
    for w in ws:
        w.wait_event(lambda e: e["type"] == "hello", what="hello")
    assert api.post("/api/v1/ports", {"name": "x1"}).status == 201
    for w in ws:
        w.wait_event(lambda e: e["type"] == "port" and e["op"] == "added"
                     and e["port"]["name"] == "x1", what="x1 added on every client")


@pytest.mark.parametrize("origin", ["http://evil.example", "http://evil.example:%(port)d",
                                    "http://127.0.0.1:%(other)d", "null",
                                    "http://127.0.0.1.evil.example:%(port)d"])
def test_foreign_origin_refused(broker, gateway, wsc, origin):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    o = origin % {"port": api.port, "other": api.port + 1 if api.port < 65535 else 1024}
    with pytest.raises(WsRefused) as e:
        Ws(api.port, origin=o).close()
    assert e.value.status == 403, e.value
    # the same client with a matching Origin is served
    w = wsc(api)
    w.wait_event(lambda e: e["type"] == "hello", what="hello")


def test_foreign_host_refused(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    h = "evil.example:%d" % api.port
    with pytest.raises(WsRefused) as e:
        Ws(api.port, host_header=h, origin="http://" + h).close()
    assert e.value.status == 403, e.value


def unmasked(w):
    w.send_frame(OP_TEXT, b'{"hello":1}', mask=False)


def huge_length(w):
    # a 64-bit length with the most significant bit set (RFC 6455 5.2)
    w.sock.sendall(bytes([0x80 | OP_BINARY, 0x80 | 127]) + (1 << 63 | 5).to_bytes(8, "big")
                   + b"\x00\x00\x00\x00" + b"xxxxx")


def long_ping(w):
    # control frames carry at most 125 bytes
    w.send_frame(OP_PING, b"p" * 200)


def bad_utf8(w):
    w.send_frame(OP_TEXT, b"\xff\xfe\xc0\x80")


def reserved_opcode(w):
    w.send_frame(0x3, b"??")


def garbage(w):
    w.sock.sendall(random.Random(3).randbytes(4000))


@pytest.mark.parametrize("breaker", [unmasked, huge_length, long_ping, bad_utf8,
                                     reserved_opcode, garbage],
                         ids=lambda f: f.__name__)
def test_broken_frame_drops_only_that_client(broker, gateway, wsc, breaker):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    good = wsc(api)
    bad = wsc(api)
    for w in (good, bad):
        w.wait_event(lambda e: e["type"] == "hello", what="hello")
    breaker(bad)
    assert bad.wait_closed(5), "the gateway kept a websocket that sent a broken frame (%s; " \
        "RFC 6455 5.1/5.2/5.5 say the server must close)" % breaker.__name__
    # the gateway serves on
    t = time.monotonic()
    assert api.status()["id"] == gw.id
    assert time.monotonic() - t < 2
    mark = good.count()
    assert api.post("/api/v1/ports", {"name": "after"}).status == 201
    good.wait_event(lambda e: e["type"] == "port" and e["port"]["name"] == "after",
                    start=mark, what="events on the other client")
    assert not good.closed
    third = wsc(api)
    third.wait_event(lambda e: e["type"] == "hello", what="hello on a new client")


def test_client_may_close_cleanly(broker, gateway, wsc):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    w = wsc(api, reader=False)
    assert json.loads(w.recv_msg(5))["type"] == "hello"
    w.send_frame(0x8, b"\x03\xe8bye")
    assert w.read_until_eof(5), "no close after the client's close frame"
    assert api.status()["id"] == gw.id


def test_lagging_client_is_dropped(broker, gateway, app, wsc):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    good = wsc(api)
    slow = wsc(api, reader=False, rcvbuf=4096)   # never reads after the handshake
    good.wait_event(lambda e: e["type"] == "hello", what="hello")
    a = app(gw.link("p1"), baud=115200)
    wait_until(lambda: api.get_port("p1")["state"]["open"], 5, what="p1 open")

    # 6 MB written: its traffic events (base64 JSON, ~8 MB) are more than a
    # client that never reads can be allowed to hold in the gateway
    data = random.Random(2).randbytes(6 * 1024 * 1024)
    err = []
    done = threading.Event()

    def writer():
        # paced (~3 MB/s at most) so that a client that does read keeps up
        try:
            for i in range(0, len(data), 65536):
                a.write_all(data[i:i + 65536], timeout=10)
                time.sleep(0.02)
        except BaseException as e:
            err.append(e)
        done.set()
    mark = good.count()
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    slowest = 0.0
    while not done.wait(0.25):      # the API stays quick while traffic flows
        t = time.monotonic()
        assert api.get("/api/v1/status", timeout=5).status == 200
        slowest = max(slowest, time.monotonic() - t)
    th.join(5)
    assert not err, "the application's writes stalled: %r" % err
    assert slowest < 2.0, "the API took %.1f s to answer during the traffic" % slowest

    got = wait_traffic(good, "p1", "tx", len(data), timeout=20, start=mark)
    assert got == data, "the reading client's traffic events differ from what was written"
    assert not good.closed
    assert slow.read_until_eof(10), "the client that never read was not dropped"
    t = time.monotonic()
    assert api.status()["id"] == gw.id
    assert time.monotonic() - t < 1.0
    assert gw.running()
