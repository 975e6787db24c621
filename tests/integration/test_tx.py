"""Bytes the application writes reach BASE/tx byte-exact (CONTRACT.md §3)."""

import random
import time

ALL_BYTES = bytes(range(256))


def tx_topics(gw, name="p1"):
    base = "mqttty/%s/%s" % (gw.id, name)
    return base + "/tx", base + "/state"


def test_every_byte_value_and_64k_random(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    tx, st = tx_topics(gw)
    c = mqtt([tx, st])
    a = app(gw.link("p1"), baud=115200)
    c.wait_json(st, lambda s: s["open"] is True, timeout=10, what="state open:true")

    rnd = random.Random(0x5eed)
    data = ALL_BYTES + rnd.randbytes(64 * 1024)
    a.write_all(ALL_BYTES)
    got = c.wait_bytes(tx, len(ALL_BYTES), timeout=5)
    assert got == ALL_BYTES, "first %d bytes differ" % len(ALL_BYTES)

    a.write_all(data[len(ALL_BYTES):], timeout=15)
    got = c.wait_bytes(tx, len(data), timeout=15)
    assert len(got) == len(data), "%d bytes on tx, %d written (extra bytes)" % (len(got), len(data))
    if got != data:
        i = next(i for i in range(len(data)) if got[i] != data[i])
        raise AssertionError("tx differs from what was written at offset %d: got %r, wrote %r"
                             % (i, got[i:i + 16], data[i:i + 16]))
    # Nothing comes back to the application (no echo, no stray bytes).
    assert a.read_for(0.3) == b""
    # tx_bytes counts what was read from the application.
    c.wait_json(st, lambda s: s["tx_bytes"] == len(data), timeout=5,
                what="state tx_bytes == %d" % len(data))
    assert max(m.json()["tx_bytes"] for m in c.snapshot(st) if m.payload) == len(data)


def test_write_then_close_at_once(broker, gateway, mqtt, app):
    """`printf ... > LINK`-style: bytes written just before close arrive."""
    gw = gateway(["p1"], broker=broker)
    tx, st = tx_topics(gw)
    c = mqtt([tx, st])
    data = random.Random(7).randbytes(3000)
    a = app(gw.link("p1"))
    a.write_all(data)
    a.close()
    got = c.wait_bytes(tx, len(data), timeout=10)
    assert got == data


def test_reopen_cycles_keep_bytes(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    tx, st = tx_topics(gw)
    c = mqtt([tx, st])
    expect = b""
    for i in range(4):
        mark = c.count()
        a = app(gw.link("p1"), baud=9600)
        c.wait_json(st, lambda s: s["open"] is True, start=mark, timeout=5,
                    what="open:true on open #%d" % (i + 1))
        chunk = ("open %d: " % i).encode() + bytes([i]) * 100 + b"\r\n"
        a.write_all(chunk)
        expect += chunk
        got = c.wait_bytes(tx, len(expect), timeout=5)
        assert got == expect, "after open #%d" % (i + 1)
        mark = c.count()
        a.close()
        c.wait_json(st, lambda s: s["open"] is False, start=mark, timeout=5,
                    what="open:false after close #%d" % (i + 1))


def test_two_ports_do_not_mix(broker, gateway, mqtt, app):
    gw = gateway(["left", "right"], broker=broker)
    tl, _ = tx_topics(gw, "left")
    tr, _ = tx_topics(gw, "right")
    c = mqtt([tl, tr])
    a = app(gw.link("left"))
    b = app(gw.link("right"))
    dl = b"L" * 5000
    dr = b"R" * 7000
    a.write_all(dl)
    b.write_all(dr)
    assert c.wait_bytes(tl, len(dl), timeout=10) == dl
    assert c.wait_bytes(tr, len(dr), timeout=10) == dr


def test_state_rate_while_counters_move(broker, gateway, mqtt, app):
    """While only counters move, state is published about once a second:
    not per write, and not never."""
    gw = gateway(["p1"], broker=broker)
    tx, st = tx_topics(gw)
    c = mqtt([st])
    a = app(gw.link("p1"), baud=115200)
    c.wait_json(st, lambda s: s["open"] is True, timeout=5)
    time.sleep(1.2)
    mark = c.count()
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 4.0:
        a.write_all(b"tick\n")
        n += 5
        time.sleep(0.02)
    time.sleep(1.5)
    states = [m.json() for m in c.snapshot(st, mark)]
    assert 3 <= len(states) <= 7, "%d state messages for 4 s of steady traffic" % len(states)
    assert states[-1]["tx_bytes"] == n, "final tx_bytes %s, wrote %d" % (states[-1]["tx_bytes"], n)
