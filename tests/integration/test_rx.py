"""Bytes published to BASE/rx reach the application in order, byte-exact;
retained rx is never replayed; rx without an application is dropped and
counted (CONTRACT.md §3)."""

import random
import time

from helpers import sync_rx

SPECIAL = bytes([0x00, 0xFF, 0x0A, 0x0D, 0x11, 0x13, 0x03, 0x04, 0x1A, 0x7F])


def topics(gw, name="p1"):
    base = "mqttty/%s/%s" % (gw.id, name)
    return base + "/rx", base + "/state"


def opened(gw, c, app, st, **kw):
    mark = c.count()
    a = app(gw.link("p1"), **kw)
    c.wait_json(st, lambda s: s["open"] is True, start=mark, timeout=5,
                what="state open:true")
    return a


def test_200_binary_messages_in_order(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    rx, st = topics(gw)
    c = mqtt([st])
    a = opened(gw, c, app, st, baud=115200)
    sync_rx(a, c, rx)
    time.sleep(1.2)
    rx0 = c.latest(st).json()["rx_bytes"]

    rnd = random.Random(200)
    msgs = []
    for i in range(200):
        n = rnd.randint(1, 300)
        body = bytearray(rnd.randbytes(n))
        # Make sure the bytes a tty likes to interpret are all there.
        for j in range(0, n, 7):
            body[j] = SPECIAL[(i + j) % len(SPECIAL)]
        msgs.append(bytes(body))
    expect = b"".join(msgs)
    infos = [c.client.publish(rx, m, qos=1) for m in msgs]
    got = a.read_exact(len(expect), timeout=15)
    for info in infos:
        info.wait_for_publish(5)
    if got != expect:
        i = next(i for i in range(len(expect)) if got[i] != expect[i])
        raise AssertionError("rx differs at offset %d of %d: got %r, published %r"
                             % (i, len(expect), got[i:i + 16], expect[i:i + 16]))
    assert a.read_for(0.3) == b"", "extra bytes after the 200 messages"
    c.wait_json(st, lambda s: s["rx_bytes"] == rx0 + len(expect), timeout=5,
                what="rx_bytes to grow by %d" % len(expect))


def test_retained_rx_is_not_replayed(broker, gateway, mqtt, app):
    """A retained rx message must not be delivered when the gateway
    (re)subscribes — here after a broker restart."""
    gw = gateway(["p1"], broker=broker)
    rx, st = topics(gw)
    c = mqtt([st])
    a = opened(gw, c, app, st)
    sync_rx(a, c, rx)

    c.publish(rx, b"STALE-COMMAND", qos=1, retain=True)
    # Delivered live or not (MQTT 3.1.1 cannot tell a live retained publish
    # apart); either way drain it.
    a.read_for(0.5)
    a.drain()

    c.disconnect()
    broker.stop()
    time.sleep(0.5)
    broker.start()
    c2 = mqtt()
    # The retained message survived the restart (broker persistence) ...
    probe = mqtt([rx])
    m = probe.wait_for(lambda m: m.retain, topic=rx, timeout=3, what="retained rx on the broker")
    assert m.payload == b"STALE-COMMAND"
    probe.disconnect()

    # ... and once the gateway is subscribed again, the app got only probes.
    deadline = time.monotonic() + 20
    got = b""
    while time.monotonic() < deadline and not got:
        c2.publish(rx, b"~", qos=1)
        got += a.read_some(0.4)
    got += a.drain()
    assert got, "the gateway never delivered rx again after the broker restart"
    assert b"STALE" not in got, "retained rx was replayed to the application: %r" % got
    assert set(got) == {ord("~")}, got
    c2.publish(rx, b"FRESH", qos=1)
    assert a.read_exact(5, timeout=5) == b"FRESH"
    c2.publish(rx, b"", qos=1, retain=True)  # clear the retained message


def test_rx_without_application_is_dropped_and_counted(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    rx, st = topics(gw)
    c = mqtt([st])
    a = opened(gw, c, app, st)
    sync_rx(a, c, rx)
    mark = c.count()
    a.close()
    s = c.wait_json(st, lambda s: s["open"] is False, start=mark, timeout=5,
                    what="state open:false")
    # Counters move once a second at most; take the newest value.
    time.sleep(1.2)
    base = c.latest(st).json()["dropped"]

    lost = b"NOBODY-IS-LISTENING\x00\xff" * 10
    c.publish(rx, lost, qos=1)
    s = c.wait_json(st, lambda s: s["dropped"] >= base + len(lost), timeout=5,
                    what="dropped to grow by %d" % len(lost))
    assert s["dropped"] == base + len(lost), s
    assert s["open"] is False

    mark = c.count()
    a = opened(gw, c, app, st)
    got = a.read_for(1.0)
    assert got == b"", "rx published while no application held the port arrived later: %r" % got[:64]
    # And the port still works both ways.
    c.publish(rx, b"hello", qos=1)
    got = a.read_exact(5, timeout=5)
    assert got == b"hello"
