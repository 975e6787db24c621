"""rx across reconnects (CONTRACT §5 "rx across reconnects"): the gateway
keeps a persistent MQTT session and resumes it after an absence of at most
--rx-hold seconds, so QoS 1 rx that the broker accepted meanwhile reaches
the application in order; at start, and with --rx-hold 0, it connects
clean and nothing stale is replayed; `set` is never held for later."""

import time

from helpers import sync_rx


def base(gw, name):
    return "mqttty/%s/%s" % (gw.id, name)


def read_until(app, want, timeout=10.0):
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(got) < len(want):
        got += app.read_some(0.2)
    return got


def numbered(n, tag):
    return [b"<%s%04d>" % (tag, i) for i in range(n)]


def publish_while_gateway_away(broker, mqtt, topic, msgs):
    """Restart the broker (persistence on) and publish at once, before the
    gateway's reconnect (its backoff starts at 250 ms) comes in."""
    broker.stop()
    broker.start()
    c = mqtt([])
    for m in msgs:
        c.publish(topic, m, qos=1)
    return c


def test_rx_published_during_a_broker_restart_is_delivered(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    a = app(gw.link("p1"))
    c0 = mqtt([])
    sync_rx(a, c0, base(gw, "p1") + "/rx")
    c0.disconnect()
    msgs = numbered(300, b"r")
    t0 = time.monotonic()
    publish_while_gateway_away(broker, mqtt, base(gw, "p1") + "/rx", msgs)
    want = b"".join(msgs)
    got = read_until(a, want)
    print("rx held across a broker restart: %d of %d bytes in %.2f s"
          % (len(got), len(want), time.monotonic() - t0))
    assert got == want, "rx published while the gateway was away: got %d of %d bytes" % (
        len(got), len(want))
    with open(gw.log) as f:
        assert "session resumed" in f.read()
    a.close()


def test_rx_hold_zero_connects_clean(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker, extra=["--rx-hold", "0"])
    a = app(gw.link("p1"))
    c0 = mqtt([])
    sync_rx(a, c0, base(gw, "p1") + "/rx")
    c0.disconnect()
    c = publish_while_gateway_away(broker, mqtt, base(gw, "p1") + "/rx", numbered(50, b"z"))
    # after the gateway is back, only what is published from then on
    sync_rx(a, c, base(gw, "p1") + "/rx")
    c.publish(base(gw, "p1") + "/rx", b"NOW", qos=1)
    got = read_until(a, b"NOW", timeout=5)
    assert got == b"NOW", "with --rx-hold 0 nothing is held: got %r" % got[:80]
    with open(gw.log) as f:
        assert "session resumed" not in f.read()
    a.close()


def test_nothing_stale_at_start_and_set_never_held(broker, gateway, mqtt, app):
    """A gateway that stopped (its persistent session stays on the broker)
    starts clean: rx and set published while it was down are not replayed."""
    gw = gateway(["p1"], broker=broker)
    a = app(gw.link("p1"))
    c = mqtt([])
    sync_rx(a, c, base(gw, "p1") + "/rx")
    a.close()
    assert gw.terminate() == 0
    c.publish(base(gw, "p1") + "/rx", b"STALE", qos=1)
    c.publish(base(gw, "p1") + "/set", b'{"baud": 1200}', qos=1)
    gw.start()
    a = app(gw.link("p1"))
    sync_rx(a, c, base(gw, "p1") + "/rx")
    c.publish(base(gw, "p1") + "/rx", b"FRESH", qos=1)
    got = read_until(a, b"FRESH", timeout=5)
    assert got == b"FRESH", "stale rx replayed at start: %r" % got
    with open(gw.log) as f:
        log = f.read()
    assert "1200" not in log, "a set published while the gateway was down was applied"
    a.close()
