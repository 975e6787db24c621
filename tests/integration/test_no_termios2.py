"""Ports on a system without termios2 (issue 11 item 4).

qemu-user 7.2 (a Raspberry Pi root emulated here) and some sandboxes answer
TCGETS2/TCSETS2 with ENOSYS; the gateway then uses the classic termios,
standard speeds only, and says so once. This kernel has termios2, so the
gateway's test seam MQTTTY_TEST_NO_TERMIOS2=1 makes its own TCGETS2 and
TCSETS2 answer ENOSYS. Everything else is real: the pty, the application's
tcsetattr, Mosquitto, the fake device's pty.

The portable build (-DMQTTTY_PORTABLE=ON: what macOS and the BSDs get) has
no termios2 at all and must behave the same way: the test command runs this
file against it too. It logs why once, in its own words, and its pty ports
read the application's settings themselves (no EXTPROC there).
"""

import os
import re
import termios

import pytest

from cable_helpers import Api, FakeDevice, topic
from helpers import free_port, sync_rx

NO_T2 = {"MQTTTY_TEST_NO_TERMIOS2": "1"}
# the Linux build after TCGETS2 failed; the portable build from the start
FALLBACK_LINE = re.compile(r"termios2 is not available|"
                           r"this build uses the POSIX termios only \(no termios2\)")
ALL_BYTES = bytes(range(256))


def base(gw, name):
    return "mqttty/%s/%s" % (gw.id, name)


def test_pty_ports_work_without_termios2(broker, gateway, mqtt, app):
    gw = gateway(["p1", "p2"], broker=broker, env=NO_T2)
    st, tx, rx = (base(gw, "p1") + leaf for leaf in ("/state", "/tx", "/rx"))
    c = mqtt([st, tx])
    c.wait_json(st, lambda s: s["open"] is False and s["baud"] == 9600, timeout=10,
                what="p1 closed at 9600")

    # the application's tcsetattr (a standard speed) shows in the state
    mark = c.count()
    a = app(gw.link("p1"), baud=38400, stop_bits=2, crtscts=True)
    c.wait_json(st, lambda s: (s["open"] is True and s["baud"] == 38400 and
                               s["stop_bits"] == 2 and s["flow"] == "rtscts"),
                start=mark, timeout=5, what="p1 open at 38400 8N2 rtscts")
    mark = c.count()
    a.configure(baud=115200)
    c.wait_json(st, lambda s: s["baud"] == 115200 and s["stop_bits"] == 1, start=mark,
                timeout=5, what="p1 at 115200")

    # bytes both ways
    mark = c.count()
    a.write_all(ALL_BYTES)
    assert c.wait_bytes(tx, 256, timeout=5, start=mark) == ALL_BYTES
    sync_rx(a, c, rx)
    c.publish(rx, ALL_BYTES)
    assert a.read_exact(256, timeout=5) == ALL_BYTES

    # a raw-mode program that zeroes c_lflag clears EXTPROC; it is set again
    # (through the classic termios too), so later changes are still seen
    mark = c.count()
    a.configure(baud=57600, zero_lflag=True)
    c.wait_json(st, lambda s: s["baud"] == 57600, start=mark, timeout=5, what="p1 at 57600")
    mark = c.count()
    a.configure(baud=19200, zero_lflag=True)
    c.wait_json(st, lambda s: s["baud"] == 19200, start=mark, timeout=5, what="p1 at 19200")

    a.close()
    said = FALLBACK_LINE.findall(gw.log_text())
    assert len(said) == 1, "the fallback must be logged once:\n" + gw.log_text()[-3000:]
    if said[0].startswith("termios2"):
        assert re.search(r"termios2 is not available here \(TCGETS2: Function not "
                         r"implemented", gw.log_text()), gw.log_text()[-3000:]
    else:
        # no EXTPROC, and Linux has no TIOCEXT: the port reads the settings
        assert "ptys here are not told of the application's tcsetattr" in gw.log_text()


@pytest.fixture
def shack(broker, gateway, mqtt, tmp_path):
    hp = free_port()
    gw = gateway(ports=(), broker=broker, env=NO_T2, extra=["--http", "127.0.0.1:%d" % hp])
    dev = FakeDevice(tmp_path / "ttyFAKE0").plug()
    try:
        yield gw, Api(hp).wait_up(gw), dev
    finally:
        dev.close()


def test_device_ports_take_standard_speeds_only(shack, mqtt):
    gw, api, dev = shack
    st, set_ = topic(gw.id, "dev", "state"), topic(gw.id, "dev", "set")
    c = mqtt([st])
    api.add_port({"name": "dev", "kind": "device", "device": dev.link, "baud": 38400})
    c.wait_json(st, lambda s: s["open"] is True and s["baud"] == 38400, timeout=5,
                what="dev open at 38400")
    assert termios.tcgetattr(dev.master)[5] == termios.B38400

    mark = c.count()
    c.publish(set_, b'{"baud":115200}', qos=0)
    c.wait_json(st, lambda s: s["baud"] == 115200, start=mark, timeout=5, what="dev at 115200")
    assert termios.tcgetattr(dev.master)[5] == termios.B115200

    # a speed without a code cannot be set here: refused, with the reason
    mark = c.count()
    c.publish(set_, b'{"baud":250000}', qos=0)
    gw.wait_log("port dev: set failed")
    assert re.search(r"port dev: set failed: .*250000 baud is not a standard speed.*"
                     r"standard speeds only", gw.log_text()), gw.log_text()[-2000:]
    assert termios.tcgetattr(dev.master)[5] == termios.B115200
    assert [m for m in c.snapshot(st, mark) if m.json()["baud"] != 115200] == []

    # a port configured with one is not opened, and says why
    dev2 = FakeDevice(os.path.join(os.path.dirname(dev.link), "ttyFAKE1")).plug()
    try:
        api.add_port({"name": "dev2", "kind": "device", "device": dev2.link, "baud": 250000})
        gw.wait_log("port dev2: cannot open")
    finally:
        dev2.close()
    assert re.search(r"port dev2: cannot open .*250000 baud is not a standard speed",
                     gw.log_text()), gw.log_text()[-2000:]
