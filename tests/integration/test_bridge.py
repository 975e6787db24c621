"""Many brokers (README "Many gateways"): two Mosquitto instances joined by
Mosquitto's own bridge on loopback, one gateway on each, and a serial
cable across them. Home ("home", pty port vp) is on broker 1; the remote
site ("shack", device port dev on a fake device) is on broker 2, whose
mosquitto.conf bridges `mqttty/#` both ways to broker 1. Bytes cross both
ways and `follow` works through the bridge."""

import termios
import time

import pytest

from cable_helpers import PREFIX, Cable, sync_cable
from helpers import Broker, MqttClient, wait_until

ALL_BYTES = bytes(range(256))


def bridge_conf(remote_port):
    return [
        "connection home",
        "address 127.0.0.1:%d" % remote_port,
        "topic %s/# both 1" % PREFIX,
        "bridge_protocol_version mqttv311",
        "try_private true",            # the other side knows it is a bridge: no loops,
        "cleansession true",           # retained flags kept
        "restart_timeout 1",
        "keepalive_interval 10",
        "notifications false",
    ]


class BridgedCable(Cable):
    """The cable of test_cable.py with B on its own broker."""

    def __init__(self, gateway, broker, broker_b, mqtt, workdir):
        Cable.__init__(self, gateway, broker, mqtt, workdir)
        self.broker_a, self.broker_b = broker, broker_b

    def _start_gateway(self, gw_id):
        # Cable._start_gateway uses self.broker: point it at this side's
        self.broker = self.broker_a if gw_id == self.A_ID else self.broker_b
        try:
            return Cable._start_gateway(self, gw_id)
        finally:
            self.broker = self.broker_a


def wait_bridged(b1, b2, timeout=15.0):
    """Both directions of the bridge carry messages: a probe published on
    each broker reaches a subscriber on the other."""
    c1, c2 = MqttClient(b1.port).connect(), MqttClient(b2.port).connect()
    try:
        t1, t2 = "%s/probe/one/x" % PREFIX, "%s/probe/two/x" % PREFIX
        c1.subscribe(t2)
        c2.subscribe(t1)
        deadline = time.monotonic() + timeout
        for pub, sub, t in ((c2, c1, t2), (c1, c2, t1)):
            while True:
                mark = sub.count()
                pub.publish(t, b"probe")
                try:
                    sub.wait_for(lambda m: True, topic=t, start=mark, timeout=0.5)
                    break
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise AssertionError("the Mosquitto bridge did not carry %s within "
                                             "%.0f s" % (t, timeout))
    finally:
        c1.disconnect()
        c2.disconnect()


@pytest.fixture
def bridged(broker, gateway, mqtt, tmp_path):
    b2 = Broker(tmp_path / "broker2")
    b2.extra_conf = bridge_conf(broker.port)
    c = None
    try:
        b2.start()
        wait_bridged(broker, b2)
        c = BridgedCable(gateway, broker, b2, mqtt, tmp_path)
        yield c
    finally:
        if c is not None:
            c.close()
        b2.cleanup()


def test_cable_across_bridged_brokers(bridged, app):
    cable = bridged
    cable.start_gateways()
    assert cable.gw_a.broker_uri != cable.gw_b.broker_uri, "the gateways share a broker"
    link = cable.add_a()
    cable.add_b()
    dev = cable.dev

    # follow through the bridge: the program's 38400 8N2 reaches the device
    mark = cable.mon.count()
    prog = app(link, baud=38400, stop_bits=2)
    cable.wait_b(lambda s: s["open"] and s["baud"] == 38400 and s["stop_bits"] == 2,
                 start=mark, timeout=10, what="dev following 38400 8N2 across the bridge")
    t = dev.termios()
    assert t["baud"] == 38400 and t["stop_bits"] == 2, t

    sync_cable(prog, dev)
    # program -> device, every byte value
    start = len(dev.got())
    prog.write_all(ALL_BYTES * 4)
    assert dev.wait_bytes(1024, timeout=10, start=start) == ALL_BYTES * 4
    # device -> program
    dev.write(ALL_BYTES[::-1] * 4)
    assert prog.read_exact(1024, timeout=10) == ALL_BYTES[::-1] * 4
    time.sleep(0.3)
    assert prog.drain(quiet=0.3) == b"" and dev.got()[start + 1024:] == b"", \
        "bytes arrived twice (a bridge loop?)"

    # the program changes speed: followed again
    prog.configure(baud=19200, stop_bits=1)
    wait_until(lambda: dev.termios()["baud"] == 19200 and dev.termios()["stop_bits"] == 1, 10,
               what="device termios at 19200 8N1")

    # the remote gateway restarts: its device opens at its own 9600 8N1 and
    # must learn the program's 19200 from vp's retained state, which only
    # the bridge brought to broker 2 (retained flag kept)
    assert cable.gw_b.terminate() == 0
    with dev._io:   # the line goes elsewhere meanwhile (a pty master sets its slave)
        attrs = termios.tcgetattr(dev.master)
        attrs[4] = attrs[5] = termios.B4800
        termios.tcsetattr(dev.master, termios.TCSANOW, attrs)
    assert dev.termios()["baud"] == 4800
    cable.gw_b.start(wait_links=False)
    wait_until(lambda: dev.termios()["baud"] == 19200, 10,
               what="the restarted gateway's device at 19200 (retained state via the bridge)")
    sync_cable(prog, dev)
    assert not dev.errors, dev.errors
    for g in (cable.gw_a, cable.gw_b):
        assert g.running(), "gateway %s exited" % g.id
