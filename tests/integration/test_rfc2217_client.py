"""Ports of kind rfc2217 (ports/port_rfc2217.c) against Debian's ser2net,
on loopback.

ser2net serves a pseudo-terminal as RFC 2217 (`accepter:
telnet(rfc2217),tcp,127.0.0.1,PORT`, `connector: serialdev,PATH,9600n81,
local`); the test holds that pty's master (cable_helpers.FakeDevice), so
it sees the bytes ser2net writes to the "device", writes the device's
answers, and reads the termios ser2net applied (the far end of what the
mqttty side asked). ser2net does not answer SET-CONTROL for a device
without modem lines: the port must carry on regardless.
"""

import json
import os
import shutil
import subprocess
import termios
import time

import pytest

from api_helpers import start_api_gateway
from cable_helpers import Cable, FakeDevice, KenwoodRadio, sync_cable, topic
from helpers import end_process, free_port, port_accepts, wait_until

SER2NET = shutil.which("ser2net") or "/usr/sbin/ser2net"


class Ser2net:
    def __init__(self, workdir, device, port=None):
        self.workdir = str(workdir)
        self.device = device
        self.port = port or free_port()
        self.proc = None
        self.runs = 0

    @property
    def url(self):
        return "rfc2217://127.0.0.1:%d" % self.port

    def start(self):
        if not os.access(SER2NET, os.X_OK):
            pytest.fail("ser2net not installed (deploy/install-deps.sh --test)")
        self.runs += 1
        conf = os.path.join(self.workdir, "ser2net.yaml")
        with open(conf, "w") as f:
            f.write("%%YAML 1.1\n---\nconnection: &rfc\n"
                    "  accepter: telnet(rfc2217),tcp,127.0.0.1,%d\n"
                    "  connector: serialdev,%s,9600n81,local\n" % (self.port, self.device))
        self.log = open(os.path.join(self.workdir, "ser2net-%d.log" % self.runs), "wb")
        self.proc = subprocess.Popen(
            [SER2NET, "-n", "-u", "-c", conf, "-P", os.path.join(self.workdir, "ser2net.pid")],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(lambda: port_accepts(self.port), 5, what="ser2net listening")
        return self

    def stop(self):
        if self.proc is not None:
            end_process(self.proc)
            self.proc = None
            self.log.close()


@pytest.fixture
def rig(tmp_path, gateway, broker, mqtt):
    """A fake device behind ser2net, and a gateway with its API."""
    dev = FakeDevice(os.path.join(str(tmp_path), "ttyFAKE0"))
    dev.plug()
    s2n = Ser2net(tmp_path, dev.link).start()
    gw, api = start_api_gateway(gateway, broker=broker, ports=())
    mon = mqtt(["mqttty/%s/#" % gw.id])
    yield dev, s2n, gw, api, mon
    s2n.stop()
    dev.close()


def add_port(api, mon, gw, s2n, **settings):
    body = {"name": "r1", "kind": "rfc2217", "device": s2n.url}
    body.update(settings)
    mark = mon.count()
    r = api.post("/api/v1/ports", body)
    assert r.status == 201, r
    return mon.wait_json(topic(gw.id, "r1", "state"), lambda s: s["open"] is True, start=mark,
                         what="r1 open:true")


def far(dev, key, value, timeout=5.0):
    wait_until(lambda: dev.termios()[key] == value, timeout,
               what="the far pty's %s = %r (is %r)" % (key, value, dev.termios()[key]))


def set_far_baud(dev, speed):
    """Set the pty's speed through its master (the termios is the slave's)."""
    with dev._io:
        attrs = termios.tcgetattr(dev.master)
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(dev.master, termios.TCSANOW, attrs)


def test_bytes_both_ways_and_the_far_line_follows(rig):
    dev, s2n, gw, api, mon = rig
    add_port(api, mon, gw, s2n, baud=19200, stop_bits=2)
    # ser2net opened the pty at 9600n81; what the port asked reaches it
    far(dev, "baud", 19200)
    far(dev, "stop_bits", 2)
    st = mon.wait_json(topic(gw.id, "r1", "state"), lambda s: s["baud"] == 19200, what="baud")
    assert st["stop_bits"] == 2
    data = bytes(range(256)) * 3
    mon.publish(topic(gw.id, "r1", "rx"), data)
    assert dev.wait_bytes(len(data)) == data
    mark = mon.count()
    dev.write(data[::-1])
    assert mon.wait_bytes(topic(gw.id, "r1", "tx"), len(data), start=mark) == data[::-1]
    st = mon.wait_json(topic(gw.id, "r1", "state"),
                       lambda s: s["tx_bytes"] >= len(data) and s["rx_bytes"] >= len(data),
                       timeout=5, what="the counters")
    assert st["dropped"] == 0


def test_set_goes_through_and_an_unanswered_control_does_not_block(rig):
    dev, s2n, gw, api, mon = rig
    add_port(api, mon, gw, s2n)
    mark = mon.count()
    mon.publish(topic(gw.id, "r1", "set"), json.dumps({"baud": 57600, "dtr": True}).encode(), qos=0)
    far(dev, "baud", 57600)
    mon.wait_json(topic(gw.id, "r1", "state"), lambda s: s["baud"] == 57600, start=mark,
                  what="state baud 57600")
    # ser2net never answers SET-CONTROL for a pty: said once, and on we go
    gw.wait_log("did not answer", timeout=8)
    st = mon.latest(topic(gw.id, "r1", "state")).json()
    assert st["open"] is True and st["dtr"] is None and st["rts"] is None
    mon.publish(topic(gw.id, "r1", "rx"), b"after")
    assert dev.wait_bytes(5).endswith(b"after")
    mon.publish(topic(gw.id, "r1", "set"), json.dumps({"baud": 4800}).encode(), qos=0)
    far(dev, "baud", 4800)
    assert gw.log_text().count("did not answer") == 1   # once per connection


def test_reconnects_and_applies_the_settings_again(rig):
    dev, s2n, gw, api, mon = rig
    add_port(api, mon, gw, s2n, baud=38400)
    far(dev, "baud", 38400)
    mark = mon.count()
    s2n.stop()
    mon.wait_json(topic(gw.id, "r1", "state"), lambda s: s["open"] is False, start=mark,
                  what="r1 open:false once ser2net is gone")
    # someone else sets the line meanwhile; the next ser2net opens the pty
    # at its own 9600 ...
    set_far_baud(dev, termios.B1200)
    far(dev, "baud", 1200)
    mark = mon.count()
    s2n.start()
    mon.wait_json(topic(gw.id, "r1", "state"), lambda s: s["open"] is True, start=mark,
                  timeout=10, what="r1 open:true again")
    # ... and the port sets it back to what it is configured with
    far(dev, "baud", 38400)
    mon.publish(topic(gw.id, "r1", "rx"), b"again")
    dev.wait_for(lambda b: b.endswith(b"again"), what="data after the reconnect")


def test_bad_url_is_refused(rig):
    dev, s2n, gw, api, mon = rig
    r = api.post("/api/v1/ports", {"name": "r2", "kind": "rfc2217", "device": "/dev/ttyS0"})
    assert r.status == 400, r
    assert "rfc2217://" in r.json()["error"]


# ---------------------------------------------------------------------------
# An extension cord through ser2net: gateway A ("home") has the pty port vp
# that a program opens; gateway B ("shack") has the rfc2217 port dev,
# following vp, attached to ser2net in front of the radio's pty.


@pytest.fixture
def cord(broker, gateway, mqtt, tmp_path):
    c = Cable(gateway, broker, mqtt, tmp_path)
    servers = []

    def add_b(handler=None, frame=None):
        c.dev = FakeDevice(os.path.join(str(tmp_path), "ttyRADIO0"), handler)
        c.dev.plug()
        s2n = Ser2net(tmp_path, c.dev.link).start()
        servers.append(s2n)
        mark = c.mon.count()
        port = {"name": c.B_PORT, "kind": "rfc2217", "device": s2n.url, "follow": True,
                "peer": "%s/%s" % (c.A_ID, c.A_PORT)}
        if frame:
            port["frame"] = frame
        c.api_b.add_port(port)
        c.wait_b(lambda s: s["open"] is True, start=mark, what="dev open:true")
        return s2n

    c.add_b = add_b
    try:
        yield c
    finally:
        for s in servers:
            s.stop()
        c.close()


def test_follow_through_ser2net(cord, app):
    cord.start_gateways()
    link = cord.add_a()
    cord.add_b()
    mark = cord.mon.count()
    prog = app(link, baud=38400, stop_bits=2)
    cord.wait_b(lambda s: s["baud"] == 38400 and s["stop_bits"] == 2, start=mark,
                what="dev following 38400 8N2")
    far(cord.dev, "baud", 38400)
    far(cord.dev, "stop_bits", 2)
    sync_cable(prog, cord.dev)
    start = len(cord.dev.got())
    prog.write_all(bytes(range(256)))
    assert cord.dev.wait_bytes(256, start=start) == bytes(range(256))
    cord.dev.write(bytes(range(255, -1, -1)))
    assert prog.read_exact(256, timeout=10) == bytes(range(255, -1, -1))
    prog.configure(baud=4800)
    far(cord.dev, "baud", 4800)


def run_rigctl(model, link, *args, timeout=20):
    cmd = ["timeout", str(timeout), "rigctl", "-m", str(model), "-r", link, "-s", "38400"]
    p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout + 5)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


@pytest.mark.skipif(shutil.which("rigctl") is None,
                    reason="rigctl (Debian package libhamlib-utils) is not installed")
def test_hamlib_through_ser2net(cord):
    radio = KenwoodRadio(freq_a=7000000)
    frame = {"mode": "delim", "delim": ";"}
    cord.start_gateways()
    link = cord.add_a(frame=frame)
    cord.add_b(handler=radio, frame=frame)
    rc, out, err = run_rigctl(2014, link, "F", "14074000")
    detail = "rc=%s\nstdout: %s\nstderr: %s\nradio saw: %r (unknown: %r)" % (
        rc, out, err[-2000:], radio.commands, radio.unknown)
    assert rc == 0, detail
    assert radio.freq_a == 14074000, detail
    assert "FA00014074000" in radio.commands, detail
    n = len(radio.commands)
    rc, out, err = run_rigctl(2014, link, "f")
    assert rc == 0 and "14074000" in out.split(), (rc, out, err[-2000:], radio.commands[n:])
    assert not cord.dev.errors, cord.dev.errors


# ---------------------------------------------------------------------------
# Against a server that answers everything and has modem lines: mqttty's own
# (the harness of test_rfc2217_server.py, a pretend device that echoes).


def test_modem_lines_and_answers_from_the_server(tmp_path, gateway, broker, mqtt):
    from test_rfc2217_server import Harness
    h = Harness(tmp_path)
    h.start()
    try:
        gw, api = start_api_gateway(gateway, broker=broker, ports=())
        mon = mqtt(["mqttty/%s/#" % gw.id])
        st_topic = topic(gw.id, "r1", "state")
        mark = mon.count()
        r = api.post("/api/v1/ports", {"name": "r1", "kind": "rfc2217", "device": h.url(),
                                       "baud": 2400, "parity": "odd", "data_bits": 7,
                                       "dtr": True, "rts": False})
        assert r.status == 201, r
        # DTR/RTS are shown once the server answered them
        mon.wait_json(st_topic, lambda s: s["open"] and s["dtr"] is True and s["rts"] is False
                      and s["baud"] == 2400 and s["parity"] == "odd" and s["data_bits"] == 7,
                      start=mark, what="the answered settings")
        st = h.last_set()
        assert (st["baud"], st["parity"], st["data_bits"], st["dtr"]) == ("2400", "odd", "7", "1")
        mark = mon.count()
        h.command("cts 1")
        h.command("ri 1")
        mon.wait_json(st_topic, lambda s: s["cts"] is True and s["ri"] is True, start=mark,
                      what="cts and ri from NOTIFY-MODEMSTATE")
        mark = mon.count()
        h.command("cts 0")
        mon.wait_json(st_topic, lambda s: s["cts"] is False, start=mark, what="cts off")
        mark = mon.count()
        mon.publish(topic(gw.id, "r1", "set"), json.dumps({"rts": True, "break_ms": 300}).encode(),
                    qos=0)
        mon.wait_json(st_topic, lambda s: s["rts"] is True, start=mark, what="rts answered on")
        line = h.wait_line(lambda l: l.startswith("set ") and "break_ms=0" not in l, 3, "a break")
        assert 250 <= int(line.rsplit("=", 1)[1]) <= 1500, line
        # the echoing device: bytes both ways, every value
        mark = mon.count()
        data = bytes(range(256))
        mon.publish(topic(gw.id, "r1", "rx"), data)
        assert mon.wait_bytes(topic(gw.id, "r1", "tx"), 256, start=mark) == data
        assert h.received() == data
        assert "did not answer" not in gw.log_text()
    finally:
        rc, problems, err = h.finish()
    assert not problems and rc == 0, err.decode(errors="replace")[-2000:]


def test_a_busy_server_is_retried_quietly(tmp_path, gateway, broker, mqtt):
    """mqttty's server takes one client: while pyserial holds it, the port
    is refused at once on each try; it backs off, logs that once, and gets
    in when pyserial lets go."""
    import serial
    from test_rfc2217_server import Harness
    h = Harness(tmp_path)
    h.start()
    s = None
    try:
        s = serial.serial_for_url(h.url(), timeout=1)
        gw, api = start_api_gateway(gateway, broker=broker, ports=())
        mon = mqtt(["mqttty/%s/#" % gw.id])
        r = api.post("/api/v1/ports", {"name": "r1", "kind": "rfc2217", "device": h.url()})
        assert r.status == 201, r
        time.sleep(4)
        log = gw.log_text()
        assert 1 <= log.count("r1: %s closed" % h.url()) <= 2, log
        assert log.count("r1: %s connected" % h.url()) <= 2, log
        mark = mon.count()
        s.close()
        s = None
        mon.wait_json(topic(gw.id, "r1", "state"), lambda st: st["open"] is True, start=mark,
                      timeout=10, what="r1 in once pyserial left")
        wait_until(lambda: h.snapshot().count("open 1") == 2, 5, what="the port connected")
        mark = mon.count()
        mon.publish(topic(gw.id, "r1", "rx"), b"hi")
        assert mon.wait_bytes(topic(gw.id, "r1", "tx"), 2, start=mark) == b"hi"
    finally:
        if s is not None:
            s.close()
        rc, problems, err = h.finish()
    assert not problems and rc == 0, err.decode(errors="replace")[-2000:]
