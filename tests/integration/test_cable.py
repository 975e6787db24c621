"""A serial cable across MQTT (CONTRACT.md §2 `device`, `peer`, `follow`;
§3 `BASE/set`, `state`).

Two gateways on one Mosquitto: A ("home") has the pty port `vp` that a
program opens; B ("shack") has the device port `dev` on a real tty — here a
pty whose master the test holds and plays the radio on, reached through a
symlink so it can be unplugged and plugged in again.
"""

import re
import shutil
import subprocess
import termios
import threading
import time

import pytest

from cable_helpers import Cable, KenwoodRadio, sync_cable
from helpers import MODEM_LINES, STATE_KEYS, wait_until

ALL_BYTES = bytes(range(256))


@pytest.fixture
def cable(broker, gateway, mqtt, tmp_path):
    c = Cable(gateway, broker, mqtt, tmp_path)
    try:
        yield c
    finally:
        c.close()


def settings_are(baud, stop_bits):
    return lambda s: s["open"] is True and s["baud"] == baud and s["stop_bits"] == stop_bits


def assert_running(*gws):
    for g in gws:
        assert g.running(), "gateway %s exited (rc=%s)" % (g.id, g.proc.returncode)


def test_cable_bytes_and_line_settings(cable, app):
    cable.start_gateways()
    link = cable.add_a()
    cable.add_b()
    dev = cable.dev

    mark = cable.mon.count()
    prog = app(link, baud=38400, stop_bits=2)
    # B's device follows the program's 38400 8N2
    s = cable.wait_b(settings_are(38400, 2), start=mark,
                     what="dev following 38400 baud, 2 stop bits")
    assert set(s) == STATE_KEYS, s
    assert s["open"] is True
    for line in MODEM_LINES:
        assert s[line] is None, "a pty has no modem lines: %s must be null: %r" % (line, s)
    assert s["data_bits"] == 8 and s["parity"] == "none", s
    t = dev.termios()
    assert t["baud"] == 38400 and t["stop_bits"] == 2, "device termios: %r" % t
    # the gateway put the device in raw mode: no echo, no line editing,
    # no output processing
    assert not t["lflag"] & (termios.ECHO | termios.ICANON), \
        "ECHO/ICANON still set on the device: %o" % t["lflag"]
    assert not t["oflag"] & termios.OPOST, "OPOST still set on the device: %o" % t["oflag"]

    sync_cable(prog, dev)

    # program -> radio, byte-exact (every byte value, then some text)
    start = len(dev.got())
    payload = ALL_BYTES + b"FA00014074000;\r\n\x00\xff" + ALL_BYTES[::-1]
    prog.write_all(payload)
    got = dev.wait_bytes(len(payload), timeout=10, start=start)
    assert got == payload, "device got %d bytes, differing from the program's %d" % (
        len(got), len(payload))

    # radio -> program, byte-exact
    answer = ALL_BYTES[::-1] + b"FA00014074000;" + ALL_BYTES
    dev.write(answer)
    back = prog.read_exact(len(answer), timeout=10)
    assert back == answer
    assert prog.drain(quiet=0.3) == b"", "extra bytes reached the program"
    time.sleep(0.2)
    assert dev.got()[start + len(payload):] == b"", "the device received extra bytes"

    # the program changes its speed: followed
    mark = cable.mon.count()
    prog.configure(baud=9600, stop_bits=2)
    cable.wait_b(settings_are(9600, 2), start=mark, what="dev following 9600 baud")
    wait_until(lambda: dev.termios()["baud"] == 9600, 3, what="device termios at 9600")
    assert dev.termios()["stop_bits"] == 2
    assert not dev.errors, dev.errors
    assert_running(cable.gw_a, cable.gw_b)


def test_unplug_replug_while_traffic_flows(cable, app):
    cable.start_gateways()
    link = cable.add_a()
    cable.add_b()
    dev = cable.dev
    prog = app(link, baud=38400)
    cable.wait_b(settings_are(38400, 1), what="dev following 38400")
    probes = sync_cable(prog, dev)
    gen1, start1 = dev.generation, len(dev.got())

    # the program writes numbered lines all along
    stream = bytearray()
    stop = threading.Event()
    failure = []

    def writer():
        i = 0
        try:
            while not stop.is_set():
                line = b"L%05d\n" % i
                prog.write_all(line, timeout=5)
                stream.extend(line)
                i += 1
                time.sleep(0.005)
        except Exception as e:  # reported below
            failure.append(repr(e))

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    try:
        dev.wait_bytes(300, timeout=10, start=start1)      # flowing before

        mark = cable.mon.count()
        dev.unplug()
        cable.wait_b(lambda s: s["open"] is False, start=mark, timeout=5,
                     what="dev open:false after the device vanished")
        time.sleep(1.0)
        assert_running(cable.gw_a, cable.gw_b)

        mark = cable.mon.count()
        dev.plug()
        gen2 = dev.generation
        cable.wait_b(lambda s: s["open"] is True, start=mark, timeout=8,
                     what="dev open:true again after the device came back")
        dev.wait_bytes(300, timeout=10, gen=gen2)           # flowing after
    finally:
        stop.set()
        th.join(10)
    assert not failure, "the program's writes failed: %s" % failure
    total = probes + len(stream)
    stream = bytes(stream)

    # everything the program wrote reaches the end of the new device
    last = stream[stream.rindex(b"L", 0, len(stream) - 1):]
    dev.wait_for(lambda b: b.endswith(last), timeout=10, gen=gen2,
                 what="the last line %r" % last)
    time.sleep(0.3)
    before = dev.got(gen1)[start1:]
    after = dev.got(gen2)
    assert stream.startswith(before), (
        "before the unplug the device got something other than the start of the "
        "stream (%d bytes, ends %r)" % (len(before), before[-40:]))
    assert stream.endswith(after), (
        "after the replug the device got something other than a contiguous tail of "
        "the stream (%d bytes, starts %r)" % (len(after), after[:40]))
    assert len(before) + len(after) <= len(stream)

    # counters add up: A read every byte the program wrote; B delivered
    # each to the device or counted it as dropped
    a = cable.wait_a(lambda s: s["tx_bytes"] == total, timeout=5,
                     what="A's tx_bytes == %d (what the program wrote)" % total)
    try:
        b = cable.wait_b(lambda s: s["rx_bytes"] + s["dropped"] == total, timeout=5,
                         what="B's rx_bytes + dropped == %d" % total)
    except AssertionError:
        raise AssertionError("B's counters do not add up to the %d bytes A sent: "
                             "latest state %r" % (total, cable.latest_b()))
    # the gateway wrote at least what the device read (bytes still in the
    # first pty's buffer at the unplug are lost with it, as on real wires)
    assert b["rx_bytes"] >= len(dev.got(gen1)) + len(dev.got(gen2)), (a, b)
    assert b["open"] is True
    assert not dev.errors, dev.errors
    assert_running(cable.gw_a, cable.gw_b)


@pytest.mark.parametrize("while_away", [None, 19200], ids=["unchanged", "changed-while-away"])
def test_replug_applies_followed_settings_again(cable, app, while_away):
    """The device comes back at its configured settings (9600 8N1); follow
    must bring it to what the peer's program uses, since a radio at the
    wrong speed receives garbage: the settings from before the unplug, or
    those the program chose while the device was away."""
    cable.start_gateways()
    link = cable.add_a()
    cable.add_b()
    dev = cable.dev
    prog = app(link, baud=38400, stop_bits=2)
    cable.wait_b(settings_are(38400, 2), what="dev following 38400 8N2")

    mark = cable.mon.count()
    dev.unplug()
    cable.wait_b(lambda s: s["open"] is False, start=mark, what="dev open:false")
    want = 38400
    if while_away:
        mark = cable.mon.count()
        prog.configure(baud=while_away, stop_bits=2)
        cable.wait_a(settings_are(while_away, 2), start=mark, what="A's state at %d" % while_away)
        want = while_away
    time.sleep(0.5)
    mark = cable.mon.count()
    dev.plug()
    cable.wait_b(lambda s: s["open"] is True, start=mark, timeout=8,
                 what="dev open:true after the replug")
    try:
        cable.wait_b(settings_are(want, 2), start=mark, timeout=3,
                     what="dev at the peer's %d 8N2 after the replug" % want)
    except AssertionError:
        raise AssertionError(
            "after the replug the device stays at %r (termios %r) while the peer's "
            "program uses %d 8N2" % (cable.latest_b(), dev.termios(), want))
    t = dev.termios()
    assert t["baud"] == want and t["stop_bits"] == 2, t
    prog.close()


INVALID_SETS = [
    b"not json",
    b"[1]",
    b'{"baud":"fast"}',
    b'{"baud":0}',
    b'{"baud":-9600}',
    b'{"data_bits":9}',
    b'{"parity":"weird"}',
    b'{"stop_bits":3}',
    b'{"flow":"sideways"}',
    b'{"dtr":"yes"}',
    b'{"bogus":1}',
    b'{"baud":4800,"parity":"weird"}',
    b'{"baud":4800,"stop_bits":2,"bogus":true}',
    b'{"baud":4800',
]


# log lines about a set on port dev (their wording is not the contract)
SET_LINE = re.compile(r"\bport dev\b.*\bset\b", re.I)
SET_RETAINED = re.compile(r"\bport dev\b.*retained.*\bset\b|\bport dev\b.*\bset\b.*retained",
                          re.I)


def set_lines(gw):
    return sum(1 for line in gw.log_text().splitlines() if SET_LINE.search(line))


def test_set_on_the_device(cable, mqtt):
    cable.start_gateways()
    cable.add_a()
    # a retained set left on the broker must not be replayed on subscribe
    cable.mon.publish(cable.b_set, b'{"baud":4800,"stop_bits":1}', qos=1, retain=True)
    st = cable.add_b(baud=9600, stop_bits=2)
    gw_b, dev = cable.gw_b, cable.dev
    assert st["baud"] == 9600 and st["stop_bits"] == 2, st
    # the gateway says so at debug level; without that line, give it time
    try:
        wait_until(lambda: SET_RETAINED.search(gw_b.log_text()), 3,
                   what="the gateway to log the retained set it ignored")
    except AssertionError:
        time.sleep(1.0)
    time.sleep(0.2)
    t = dev.termios()
    assert (t["baud"], t["stop_bits"]) == (9600, 2), "the retained set was applied: %r" % t
    assert settings_are(9600, 2)(cable.latest_b()), cable.latest_b()

    # a valid set: applied whole
    mark = cable.mon.count()
    cable.mon.publish(cable.b_set, b'{"baud":19200,"stop_bits":1}')
    cable.wait_b(settings_are(19200, 1), start=mark, what="state after a valid set")
    t = dev.termios()
    assert (t["baud"], t["stop_bits"]) == (19200, 1), t

    # invalid ones: logged, nothing applied
    for payload in INVALID_SETS:
        before = set_lines(gw_b)
        mark = cable.mon.count()
        cable.mon.publish(cable.b_set, payload)
        try:
            wait_until(lambda: set_lines(gw_b) > before, 5,
                       what="the gateway to log that it ignored set %r" % payload)
        except AssertionError:
            raise AssertionError("set %r: not logged; state now %r, termios %r"
                                 % (payload, cable.latest_b(), dev.termios()))
        t = dev.termios()
        assert (t["baud"], t["stop_bits"], t["data_bits"], t["parity"]) == \
            (19200, 1, 8, "none"), "set %r changed the device: %r" % (payload, t)
        time.sleep(0.05)
        changed = [m for m in cable.mon.snapshot(cable.b_state, mark)
                   if m.payload and not settings_are(19200, 1)(m.json())]
        assert not changed, "set %r changed the state: %r" % (payload, changed)
        assert_running(gw_b)

    # still passing bytes both ways
    c = mqtt([cable.b_tx])
    start = len(dev.got())
    cable.mon.publish(cable.b_rx, ALL_BYTES)
    assert dev.wait_bytes(256, timeout=5, start=start) == ALL_BYTES
    mark = c.count()
    dev.write(b"still here;")
    assert c.wait_bytes(cable.b_tx, 11, timeout=5, start=mark) == b"still here;"
    t = dev.termios()
    assert (t["baud"], t["stop_bits"]) == (19200, 1), t
    assert_running(cable.gw_a, gw_b)


def run_rigctl(model, link, *args, timeout=20):
    cmd = ["timeout", str(timeout), "rigctl", "-m", str(model), "-r", link, "-s", "38400"]
    p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout + 5)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


@pytest.mark.skipif(shutil.which("rigctl") is None,
                    reason="rigctl (Debian package libhamlib-utils) is not installed")
def test_hamlib_through_the_cable(cable):
    radio = KenwoodRadio(freq_a=7000000)
    frame = {"mode": "delim", "delim": ";"}
    cable.start_gateways()
    link = cable.add_a(frame=frame)
    cable.add_b(handler=radio, frame=frame)

    rc, out, err = run_rigctl(2014, link, "F", "14074000")
    detail = "rc=%s\nstdout: %s\nstderr: %s\nradio saw: %r (unknown: %r)" % (
        rc, out, err[-2000:], radio.commands, radio.unknown)
    assert rc == 0, detail
    assert "error" not in (out + err).lower(), detail
    assert radio.freq_a == 14074000, detail
    assert "FA00014074000" in radio.commands, detail
    assert "ID" in radio.commands and "IF" in radio.commands, detail

    n = len(radio.commands)
    rc, out, err = run_rigctl(2014, link, "f")
    detail = "rc=%s\nstdout: %s\nstderr: %s\nradio saw: %r (unknown: %r)" % (
        rc, out, err[-2000:], radio.commands[n:], radio.unknown)
    assert rc == 0, detail
    assert "14074000" in out.split(), detail
    assert "FA" in radio.commands[n:], "rigctl f must ask the radio: " + detail
    assert not cable.dev.errors, cable.dev.errors
    assert_running(cable.gw_a, cable.gw_b)
