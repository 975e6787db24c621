"""Broker outages: nothing the application wrote is lost (CONTRACT.md §3
"Nothing is silently lost"), and the gateway serves its ports while no
broker is reachable (§1)."""

import json
import os
import threading
import time

import pytest

from helpers import sync_rx


def numbered_stream(n_chunks, size):
    out = []
    for i in range(n_chunks):
        head = b"<%05d:" % i
        out.append(head + b"." * (size - len(head) - 1) + b">")
    return out


def check_stream(messages, data):
    """messages (payloads in arrival order) must rebuild data with no gap
    and in order. QoS 1 allows a message to be delivered twice across a
    reconnect: an exact repeat of a message already received is tolerated
    and counted. Returns the number of such duplicates."""
    pos = 0
    seen = []
    dups = 0
    for i, p in enumerate(messages):
        if data[pos:pos + len(p)] == p:
            pos += len(p)
            seen.append(p)
            continue
        if p in seen[-200:]:
            dups += 1
            continue
        raise AssertionError(
            "tx message #%d (%d bytes) does not continue the stream at offset %d: got %r..., "
            "expected %r..." % (i, len(p), pos, p[:24], data[pos:pos + 24]))
    assert pos == len(data), "tx stopped at %d of %d bytes (gap / loss)" % (pos, len(data))
    return dups


def test_broker_restart_mid_stream_loses_nothing(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    tx = "mqttty/%s/p1/tx" % gw.id
    st = "mqttty/%s/p1/state" % gw.id
    sub = mqtt([tx], client_id="outage-sub-" + gw.id, clean_session=False)
    watch = mqtt([st])
    a = app(gw.link("p1"), baud=115200)
    watch.wait_json(st, lambda s: s["open"] is True, timeout=5, what="state open:true")

    chunks = numbered_stream(200, 100)   # 20 000 bytes
    data = b"".join(chunks)
    errors = []

    def writer():
        try:
            for ch in chunks:
                a.write_all(ch, timeout=20)
                time.sleep(0.02)
        except Exception as e:  # reported below
            errors.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    time.sleep(1.0)
    broker.stop()
    time.sleep(2.0)
    broker.start()
    t.join(30)
    assert not t.is_alive(), "the application's writes were still blocked 30 s later"
    assert not errors, errors
    sub.wait_connected(10)
    sub.wait_bytes(tx, len(data), timeout=20)
    time.sleep(0.5)  # let a possible duplicate arrive before judging
    payloads = [m.payload for m in sub.snapshot(tx)]
    dups = check_stream(payloads, data)
    if dups:
        print("note: %d QoS1 duplicate message(s) after the broker restart" % dups)


def test_starts_without_broker_and_delivers_later(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker, start=False)
    tx = "mqttty/%s/p1/tx" % gw.id
    status = "mqttty/%s/status" % gw.id
    # A persistent session that exists before the gateway ever connects,
    # so tx published the moment it connects is queued for us.
    sid = "late-sub-" + gw.id
    sub = mqtt([tx], client_id=sid, clean_session=False)
    sub.disconnect()
    broker.stop()

    gw.start()
    a = app(gw.link("p1"), baud=9600)
    data = b"written while no broker was reachable\r\n" + bytes(range(256)) * 8
    a.write_all(data, timeout=10)
    time.sleep(1.5)
    assert gw.running(), "gateway exited with no broker"

    broker.start()
    st = mqtt([status])
    st.wait_for(lambda m: m.payload == b"online", topic=status, timeout=20,
                what="status online once the broker is up")
    sub2 = mqtt([], client_id=sid, clean_session=False)
    if not sub2.session_present:
        pytest.fail("broker lost the test's persistent session (test setup problem)")
    sub2.wait_bytes(tx, len(data), timeout=15)
    time.sleep(0.3)
    dups = check_stream([m.payload for m in sub2.snapshot(tx)], data)
    if dups:
        print("note: %d QoS1 duplicate message(s)" % dups)


def test_broker_that_forgot_everything_gets_state_again(broker, gateway, mqtt, app):
    """A broker restarted without its data (SIGKILL, nothing saved): the
    gateway publishes status, ports and state again and subscribes rx again."""
    gw = gateway(["p1"], broker=broker)
    base = "mqttty/%s" % gw.id
    c = mqtt([base + "/status", base + "/p1/state"])
    c.wait_for(lambda m: m.payload == b"online", topic=base + "/status", timeout=10)
    a = app(gw.link("p1"), baud=38400)
    c.wait_json(base + "/p1/state", lambda s: s["open"] is True and s["baud"] == 38400,
                timeout=5)
    c.disconnect()
    broker.kill()
    for f in os.listdir(broker.persist_dir):
        os.unlink(os.path.join(broker.persist_dir, f))
    time.sleep(0.5)
    broker.start()

    seen = {}

    def retained_all():
        late = mqtt([base + "/status", base + "/ports", base + "/p1/state"])
        time.sleep(0.5)
        for m in late.snapshot():
            if m.retain and m.payload:
                seen[m.topic] = m.payload
        late.disconnect()
        return len(seen) == 3 and seen[base + "/status"] == b"online"
    deadline = time.monotonic() + 20
    while not retained_all():
        assert time.monotonic() < deadline, "retained after the broker forgot: %r" % seen
    s = json.loads(seen[base + "/p1/state"])
    assert s["open"] is True and s["baud"] == 38400, s
    c2 = mqtt()
    sync_rx(a, c2, base + "/p1/rx", timeout=10)
