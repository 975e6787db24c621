"""A device unplugged while the gateway still holds bytes for it
(CONTRACT.md §3: nothing is silently lost; `dropped` counts what had to be
discarded).

The device is a pty whose master the test holds and does not read, so the
tty fills and the gateway buffers the rest up to its bound. Closing the
master unplugs it: every byte published to `rx` is then either written to
the device (`rx_bytes`) or counted in `dropped`.
"""

import os
import select
import time

from cable_helpers import Api, topic
from helpers import free_port, wait_until


def test_bytes_buffered_for_an_unplugged_device_are_counted(broker, gateway, mqtt, tmp_path):
    hp = free_port()
    gw = gateway(ports=(), broker=broker, extra=["--http", "127.0.0.1:%d" % hp])
    api = Api(hp).wait_up(gw)
    master, slave = os.openpty()
    link = str(tmp_path / "ttyRAW0")
    os.symlink(os.ttyname(slave), link)
    os.close(slave)
    st, rx = topic(gw.id, "dev", "state"), topic(gw.id, "dev", "rx")
    c = mqtt([st])
    try:
        api.add_port({"name": "dev", "kind": "device", "device": link})
        c.wait_json(st, lambda s: s["open"] is True, timeout=5, what="dev open")

        # rx reaches the device (the gateway is subscribed)
        probes = 0
        deadline = time.monotonic() + 10
        while True:
            c.publish(rx, b"~", qos=1)
            probes += 1
            if select.select([master], [], [], 0.3)[0]:
                break
            assert time.monotonic() < deadline, "no rx probe reached the device"
        time.sleep(0.3)
        os.read(master, 4096)

        # 512 KiB the device does not read: the tty takes some, the
        # gateway buffers up to its bound, the rest is dropped
        total = 512 * 1024
        for _ in range(total // 1024):
            c.client.publish(rx, bytes(1024), qos=1)
        c.publish(rx, b"", qos=1, timeout=30)   # all above were acknowledged
        wait_until(lambda: c.latest(st).json()["rx_bytes"] + c.latest(st).json()["dropped"]
                   > probes, 5, what="counters to move")
        time.sleep(1.5)                          # the 1 Hz counter state
        before = c.latest(st).json()
        assert before["dropped"] > 0, before

        mark = c.count()
        os.close(master)                         # unplugged
        master = None
        s = c.wait_json(st, lambda s: s["open"] is False, start=mark, timeout=5,
                        what="dev open:false after the unplug")
        assert s["rx_bytes"] + s["dropped"] == total + probes, \
            "written %d + dropped %d != published %d: the bytes the gateway held " \
            "for the device went uncounted" % (s["rx_bytes"], s["dropped"], total + probes)
    finally:
        if master is not None:
            os.close(master)
        os.unlink(link)
