"""Churn: an application opens a port, sets its line, writes, and closes it,
again and again, while the port's settings are changed through the API now
and then. Measured: the gateway's open fds (/proc/PID/fd) and RSS before and
after; checked: no fd growth, every byte written reached MQTT once and in
order, tx_bytes counts exactly what was written, and the port shows closed
with the last line settings."""

import os
import time

from api_helpers import start_api_gateway
from faults_util import fd_count, pick, record, rss_kb
from helpers import App, wait_until

BAUDS = [9600, 19200, 38400, 57600, 115200]


def test_open_configure_write_close_cycles(broker, gateway, mqtt):
    cycles = pick(100, 1000)
    gw, api = start_api_gateway(gateway, broker, ports=("c1",))
    base = "mqttty/%s/c1" % gw.id
    client = mqtt([base + "/tx"])
    pid = gw.proc.pid
    sent = bytearray()

    def cycle(i):
        """One application session; the next starts once its bytes are on
        MQTT, so every open and close is one the gateway handles."""
        a = App(gw.link("c1"), baud=BAUDS[i % len(BAUDS)], stop_bits=1 + (i % 2))
        data = b"[%06d]" % i
        a.write_all(data)
        sent.extend(data)
        a.close()
        client.wait_bytes(base + "/tx", len(sent), timeout=10)

    for i in range(10):                 # warm up: first allocations, first state
        cycle(i)
    wait_until(lambda: len(client.concat(base + "/tx")) >= len(sent), 15,
               what="warm-up bytes on tx")
    fd0, rss0 = fd_count(pid), rss_kb(pid)
    t0 = time.monotonic()
    for i in range(10, 10 + cycles):
        cycle(i)
        if i % 25 == 0:                  # a live change: a new framer
            mx = 64 + i % 200
            r = api.patch("/api/v1/ports/c1", {"frame": {"mode": "raw", "max": mx}})
            assert r.status == 200, r
    elapsed = time.monotonic() - t0
    wait_until(lambda: len(client.concat(base + "/tx")) >= len(sent), 30,
               what="%d bytes on tx" % len(sent))

    def settled():
        st = api.get_port("c1")["state"]
        return st if (not st["open"] and st["tx_bytes"] == len(sent)) else None
    st = wait_until(settled, 10, what="state closed with every byte counted")
    time.sleep(0.5)
    fd1, rss1 = fd_count(pid), rss_kb(pid)
    got = client.concat(base + "/tx")
    record("churn", cycles=cycles, seconds=round(elapsed, 1), bytes=len(sent),
           bytes_lost=max(0, len(sent) - len(got)), duplicates=max(0, len(got) - len(sent)),
           fd_start=fd0, fd_end=fd1, fd_growth=fd1 - fd0,
           rss_start_kb=rss0, rss_end_kb=rss1, rss_growth_kb=rss1 - rss0)
    assert got == bytes(sent), "tx differs from what was written (%d vs %d bytes)" % (
        len(got), len(sent))
    assert fd1 - fd0 <= 2, "the gateway holds %d more fds after %d cycles" % (fd1 - fd0, cycles)
    last = 10 + cycles - 1
    assert st["baud"] == BAUDS[last % len(BAUDS)] and st["stop_bits"] == 1 + (last % 2), st
    r = api.get_port("c1")
    assert r["frame"]["mode"] == "raw"
