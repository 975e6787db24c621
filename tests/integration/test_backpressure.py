"""Per-port bounds (CONTRACT.md §3 "Nothing is silently lost"): a full tx
bound makes the application's writes block instead of losing bytes; rx
beyond the bound is discarded and counted in `dropped`."""

import os
import select
import time

from helpers import sync_rx

MB = 1024 * 1024


def test_tx_writes_block_while_broker_down_and_nothing_is_lost(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    tx = "mqttty/%s/p1/tx" % gw.id
    st = "mqttty/%s/p1/state" % gw.id
    sub = mqtt([tx], client_id="bp-sub-" + gw.id, clean_session=False)
    watch = mqtt([st])
    a = app(gw.link("p1"), baud=115200)
    watch.wait_json(st, lambda s: s["open"] is True, timeout=5, what="open:true")
    broker.stop()

    # Write until the port stops taking bytes for a full second.
    block = bytes(range(256)) * 16   # 4 KiB
    written = bytearray()
    stalled = False
    deadline = time.monotonic() + 30
    while len(written) < 16 * MB and time.monotonic() < deadline:
        _, w, _ = select.select([], [a.fd], [], 1.0)
        if not w:
            stalled = True
            break
        try:
            n = os.write(a.fd, block)
        except BlockingIOError:
            continue
        written += block[:n]
    assert stalled, ("the port took %d bytes with no broker and never pushed back "
                     "(no per-port bound?)" % len(written))
    assert gw.running()

    broker.start()
    sub.wait_connected(15)
    # The rest of the stream keeps flowing once the broker is back.
    tail_data = b"<after the outage>"
    a.write_all(tail_data, timeout=30)
    expect = bytes(written) + tail_data
    got = sub.wait_bytes(tx, len(expect), timeout=60)
    assert len(got) == len(expect), "%d bytes on tx, %d written" % (len(got), len(expect))
    if got != expect:
        i = next(i for i in range(len(expect)) if got[i] != expect[i])
        raise AssertionError("tx differs at offset %d of %d (loss or reordering)" % (i, len(expect)))


def test_rx_to_a_slow_application_is_bounded_and_counted(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    rx = "mqttty/%s/p1/rx" % gw.id
    st = "mqttty/%s/p1/state" % gw.id
    c = mqtt([st])
    a = app(gw.link("p1"), baud=115200)
    c.wait_json(st, lambda s: s["open"] is True, timeout=5, what="open:true")
    sync_rx(a, c, rx)
    time.sleep(1.2)
    d0 = c.latest(st).json()["dropped"]

    # The application does not read while 1 MiB arrives in numbered 1 KiB
    # messages.
    msgs = [(b"[%06d]" % i) + bytes([ord("a") + i % 26]) * (1024 - 8) for i in range(1024)]
    total = sum(len(m) for m in msgs)
    for m in msgs:
        c.client.publish(rx, m, qos=1)
    c.publish(rx, b"", qos=1, timeout=30)  # an empty marker: all above were acknowledged
    time.sleep(1.0)
    assert gw.running()

    got = a.drain(quiet=0.5, limit=30)
    s = c.wait_json(st, lambda s: s["dropped"] - d0 + len(got) >= total, timeout=5,
                    what="delivered + dropped to reach %d" % total)
    dropped = s["dropped"] - d0
    assert dropped > 0, "1 MiB to an application that does not read: nothing dropped?"
    assert len(got) + dropped == total, \
        "delivered %d + dropped %d != published %d" % (len(got), dropped, total)
    # What was delivered is published messages (possibly cut short at the
    # bound), in publish order, uncorrupted.
    if got:
        assert got.startswith(b"["), got[:40]
        last = -1
        for seg in got.split(b"[")[1:]:
            idx = int(seg[:6])
            assert idx > last, "message %d delivered after %d" % (idx, last)
            assert msgs[idx][1:].startswith(seg), "message %d corrupted" % idx
            last = idx
    # And the port works normally afterwards.
    c.publish(rx, b"after", qos=1)
    assert a.read_exact(5, timeout=5) == b"after"
