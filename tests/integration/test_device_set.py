"""Line settings on a `device` port (CONTRACT.md §3 `BASE/set`, §5 "Line
speeds"; issue 9 defects 3 and 6).

The device is the fake one of cable_helpers: a pty whose master the test
holds. termios ioctls on a pty master act on its slave, so the test reads
what the gateway set on the "device" the way stty or the far end would:
Python's termios.tcgetattr (glibc's cfgetispeed/cfgetospeed: the speed
code) and, for speeds without a code, TCGETS2.

A pty has no modem lines (TIOCMGET/TIOCMBIS answer ENOTTY): such a device
reports dtr/rts null, and a `set` asking for dtr or rts cannot be applied,
so it must change nothing at all (applied whole or not at all).
"""

import re
import termios
import time

import pytest

from cable_helpers import Api, Cable, FakeDevice, read_termios, topic
from helpers import COUNTERS, MODEM_LINES, free_port, wait_until

BOTHER = 0o010000
CBAUD = 0o010017


class Shack:
    """One gateway with one device port `dev` on the fake device."""

    def __init__(self, gateway, broker, mqtt, tmp_path):
        hp = free_port()
        self.gw = gateway(ports=(), broker=broker, extra=["--http", "127.0.0.1:%d" % hp])
        self.api = Api(hp).wait_up(self.gw)
        self.dev = FakeDevice(tmp_path / "ttyFAKE0").plug()
        self.state = topic(self.gw.id, "dev", "state")
        self.set = topic(self.gw.id, "dev", "set")
        self.mon = mqtt([self.state])

    def add(self, **settings):
        mark = self.mon.count()
        port = {"name": "dev", "kind": "device", "device": self.dev.link}
        port.update(settings)
        self.api.add_port(port)
        return self.mon.wait_json(self.state, lambda s: s["open"] is True, start=mark,
                                  what="dev open:true")

    def publish_set(self, payload):
        self.mon.publish(self.set, payload, qos=0)

    def latest(self):
        m = self.mon.latest(self.state)
        return m.json() if m is not None and m.payload else None

    def speed_codes(self):
        """(ispeed, ospeed) as cfgetispeed/cfgetospeed of the device give them."""
        attrs = termios.tcgetattr(self.dev.master)
        return attrs[4], attrs[5]

    def close(self):
        self.dev.close()


@pytest.fixture
def shack(broker, gateway, mqtt, tmp_path):
    s = Shack(gateway, broker, mqtt, tmp_path)
    try:
        yield s
    finally:
        s.close()


def baud_is(baud):
    return lambda s: s["open"] is True and s["baud"] == baud


def test_standard_speeds_use_their_code(shack):
    # initial settings of the port
    st = shack.add(baud=38400)
    assert st["baud"] == 38400, st
    assert shack.speed_codes() == (termios.B38400, termios.B38400), \
        "the device's speed code after opening at 38400: %r (BOTHER is %d)" % (
            shack.speed_codes(), BOTHER)

    # set, to another standard speed and back
    for baud, code in ((9600, termios.B9600), (115200, termios.B115200),
                       (38400, termios.B38400)):
        mark = shack.mon.count()
        shack.publish_set(b'{"baud":%d}' % baud)
        shack.mon.wait_json(shack.state, baud_is(baud), start=mark,
                            what="state after set baud %d" % baud)
        assert shack.speed_codes() == (code, code), \
            "set baud %d: speed codes %r, want %d" % (baud, shack.speed_codes(), code)
        assert read_termios(shack.dev.master)["baud"] == baud


def test_nonstandard_speed_uses_bother(shack):
    try:
        shack.add(baud=250000)
    except AssertionError:
        if "has no termios2 to set it" in shack.gw.log_text():
            pytest.skip("no termios2 here (qemu-user): other speeds are refused, "
                        "as test_no_termios2 checks")
        raise
    t = read_termios(shack.dev.master)
    assert t["baud"] == 250000 and t["cflag"] & CBAUD == BOTHER, t
    assert shack.latest()["baud"] == 250000

    mark = shack.mon.count()
    shack.publish_set(b'{"baud":31250}')
    shack.mon.wait_json(shack.state, baud_is(31250), start=mark, what="state at 31250")
    t = read_termios(shack.dev.master)
    assert t["baud"] == 31250 and t["cflag"] & CBAUD == BOTHER, t

    # and from a custom speed back to a standard one: the code again
    mark = shack.mon.count()
    shack.publish_set(b'{"baud":38400}')
    shack.mon.wait_json(shack.state, baud_is(38400), start=mark, what="state at 38400")
    assert shack.speed_codes() == (termios.B38400, termios.B38400)


def lines(state):
    """A state without its counters."""
    return {k: v for k, v in state.items() if k not in COUNTERS}


SET_FAILED = re.compile(r"port dev: set failed: (.*)")


def set_failures(gw):
    return SET_FAILED.findall(gw.log_text())


@pytest.mark.parametrize("payload", [
    b'{"baud":19200,"dtr":true}',
    b'{"rts":true,"baud":19200,"stop_bits":2}',
    b'{"dtr":false}',
])
def test_set_with_lines_the_device_lacks_changes_nothing(shack, payload):
    st = shack.add(baud=38400)
    for line in MODEM_LINES:
        assert st[line] is None, "a pty has no modem lines: %s must be null: %r" % (line, st)
    before = read_termios(shack.dev.master)
    failures = len(set_failures(shack.gw))

    mark = shack.mon.count()
    shack.publish_set(payload)
    wait_until(lambda: len(set_failures(shack.gw)) > failures, 5,
               what="the gateway to log that set %r failed" % payload)
    why = set_failures(shack.gw)[-1]
    assert re.search(r"dtr|rts|modem", why, re.I), "the reason names no line: %r" % why
    time.sleep(0.3)    # a state published after the failure would show by now
    after = read_termios(shack.dev.master)
    assert (after["baud"], after["stop_bits"], after["cflag"]) == \
        (before["baud"], before["stop_bits"], before["cflag"]), \
        "set %r changed the device: %r -> %r" % (payload, before, after)
    assert shack.speed_codes() == (termios.B38400, termios.B38400)
    # the state may be published again (counters), but says the same
    changed = [m.json() for m in shack.mon.snapshot(shack.state, mark)
               if lines(m.json()) != lines(st)]
    assert changed == [], "set %r changed the state: %r" % (payload, changed)

    # the same settings without the lines are applied
    mark = shack.mon.count()
    shack.publish_set(b'{"baud":19200}')
    shack.mon.wait_json(shack.state, baud_is(19200), start=mark, what="state at 19200")
    assert shack.speed_codes() == (termios.B19200, termios.B19200)


@pytest.fixture
def cable(broker, gateway, mqtt, tmp_path):
    c = Cable(gateway, broker, mqtt, tmp_path)
    try:
        yield c
    finally:
        c.close()


def test_follow_sets_standard_speeds_with_their_code(cable, app):
    cable.start_gateways()
    link = cable.add_a()
    cable.add_b()
    mark = cable.mon.count()
    prog = app(link, baud=38400)
    cable.wait_b(baud_is(38400), start=mark, what="dev following 38400 baud")
    attrs = termios.tcgetattr(cable.dev.master)
    assert (attrs[4], attrs[5]) == (termios.B38400, termios.B38400), \
        "following 38400: speed codes %r (BOTHER is %d)" % ((attrs[4], attrs[5]), BOTHER)

    # the program goes away: follow drops DTR/RTS, which this device does
    # not have; that is not an error and its speed stays
    mark = cable.mon.count()
    n_warn = cable.gw_b.log_text().count("follow:")
    prog.close()
    cable.wait_a(lambda s: s["open"] is False, start=mark, what="vp closed")
    time.sleep(0.5)
    assert cable.gw_b.log_text().count("follow:") == n_warn, cable.gw_b.log_text()[-2000:]
    attrs = termios.tcgetattr(cable.dev.master)
    assert attrs[5] == termios.B38400
