"""Broker faults: numbered streams both ways through a Mosquitto restarted
again and again, with and without broker persistence (CONTRACT §3 "Nothing
is silently lost", §5 "rx across reconnects").

An application writes numbered tx records without pause and reads rx; a
test client publishes numbered rx records (QoS 1) without pause. Each cycle
stops the broker at a random moment, keeps it down for a random time, starts
it again and lets the test's own subscriber in before the gateway (the
gateway reaches the broker through a loopback proxy that turns it away
meanwhile), so every tx message the gateway publishes has a subscriber.

Rules checked: tx keeps its order, always, and loses nothing when the
broker keeps its sessions (persistence). Without persistence a broker that
stops loses what it had acknowledged to the gateway but not yet delivered
to the subscriber (its in-flight window to that subscriber; seen once in
the long run as a few records right at a restart): QoS 1 ends at the broker,
so that tx loss is measured and printed, not asserted. rx loses nothing, in
the order the broker hands it out (a second subscriber of the same broker
shows that order: the publisher's own client may re-send out of order after
a reconnect), when the broker keeps its sessions (persistence) and the gateway was
away no longer than --rx-hold. Without persistence the rx loss is measured
and printed (the broker's loss, README). Duplicates are printed (QoS 1 is
at-least-once). RSS growth of the gateway is printed."""

import os
import random
import select
import termios
import threading
import time

import pytest

from faults_util import FaultBroker, Proxy, pick, record, rss_kb
from helpers import MqttClient, wait_until

RX_HOLD = 30


class Stream:
    """Numbered records b"<T0000123>\\n" (10 bytes each)."""

    def __init__(self, tag):
        self.tag = tag

    def rec(self, i):
        return b"<%s%07d>\n" % (self.tag, i)

    def parse(self, data):
        out = []
        for line in bytes(data).split(b"\n"):
            if len(line) == 10 and line.startswith(b"<" + self.tag) and line.endswith(b">"):
                out.append(int(line[2:9]))
        return out


def analyse(sent, got):
    """sent: numbers that must arrive; got: numbers in arrival order.
    Returns (lost, duplicates, out_of_order)."""
    seen, dups, disorder, last = set(), 0, 0, -1
    for n in got:
        if n in seen:
            dups += 1
            continue
        seen.add(n)
        if n < last:
            disorder += 1
        last = max(last, n)
    lost = [n for n in sent if n not in seen]
    return lost, dups, disorder


class Writer(threading.Thread):
    """The application: writes a tx record every `gap` seconds (blocking
    while the gateway's bound is full), reads rx all the time."""

    def __init__(self, path, gap=0.002):
        super().__init__(daemon=True)
        self.gap = gap
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        a = termios.tcgetattr(self.fd)
        a[0] = a[1] = a[3] = 0
        a[2] |= termios.CS8 | termios.CREAD | termios.CLOCAL
        termios.tcsetattr(self.fd, termios.TCSANOW, a)
        self.tx = Stream(b"T")
        self.written = 0
        self.rx = bytearray()
        self.stop = False

    def _read(self):
        try:
            self.rx += os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            pass

    def run(self):
        pending = b""
        next_at = time.monotonic()
        while not self.stop or pending:
            if not pending and not self.stop and time.monotonic() >= next_at:
                pending = self.tx.rec(self.written)
                next_at = time.monotonic() + self.gap
            r, w, _ = select.select([self.fd], [self.fd] if pending else [], [], 0.002)
            if r:
                self._read()
            if pending and w:
                try:
                    n = os.write(self.fd, pending)
                    pending = pending[n:]
                    if not pending:
                        self.written += 1
                except BlockingIOError:
                    pass

    def read_more(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                self._read()


class Publisher(threading.Thread):
    """Publishes rx records at QoS 1 every 4 ms; paho keeps what it could
    not send and sends it after reconnecting."""

    def __init__(self, port, topic):
        super().__init__(daemon=True)
        self.c = MqttClient(port).connect()
        self.topic = topic
        self.rx = Stream(b"R")
        self.infos = []
        self.stop = False

    def run(self):
        i = 0
        while not self.stop:
            info = self.c.client.publish(self.topic, self.rx.rec(i), qos=1)
            self.infos.append((i, info))
            i += 1
            time.sleep(0.004)

    def acked(self):
        # paho raises from is_published() for a message queued while
        # disconnected, though it sends it later and marks it published
        return [i for i, info in self.infos if info._published]


def order_against(reference, got):
    """Descents in `got` (first occurrences) against the order in which
    `reference` (a subscriber of the same broker) received the records:
    how often the gateway delivered a record before one the broker had
    delivered earlier."""
    pos, seen = {}, set()
    for n in reference:
        pos.setdefault(n, len(pos))
    last, descents = -1, 0
    for n in got:
        if n in seen or n not in pos:
            continue
        seen.add(n)
        if pos[n] < last:
            descents += 1
        last = max(last, pos[n])
    return descents


def tx_arrived(app, sub, topic, seconds=30):
    """Waits up to `seconds` for every tx record the application wrote to
    reach `sub` on `topic`; returns analyse()'s (lost, dups, out of order)."""
    want = list(range(app.written))
    waited = time.monotonic()
    while time.monotonic() < waited + seconds:
        if not analyse(want, app.tx.parse(sub.concat(topic)))[0]:
            break
        time.sleep(0.2)
    return want, analyse(want, app.tx.parse(sub.concat(topic)))


def connects(gw):
    return gw.log_text().count("mqtt: connected to")


@pytest.mark.parametrize("persistence", [True, False], ids=["persistence", "no-persistence"])
def test_streams_through_broker_restarts(tmp_path, gateway, persistence):
    cycles = pick(3, 20)
    seed = int(os.environ.get("FAULTS_SEED", "0")) or random.randrange(1 << 30)
    rnd = random.Random(seed)
    print("seed", seed)
    broker = FaultBroker(tmp_path / "broker", persistence=persistence).start()
    proxy = Proxy(broker.port)
    app = pub = sub = obs = None
    try:
        gw = gateway(["p1"], broker_uri="mqtt://127.0.0.1:%d" % proxy.port,
                     extra=["--rx-hold", str(RX_HOLD)])
        base = "mqttty/%s/p1" % gw.id
        sub = MqttClient(broker.port, client_id="faults-sub-" + gw.id, clean_session=False)
        sub.connect().subscribe(base + "/tx", 1)
        # sees rx in the order the broker hands it out, through the same restarts
        obs = MqttClient(broker.port, client_id="faults-obs-" + gw.id, clean_session=False)
        obs.connect().subscribe(base + "/rx", 1)
        wait_until(lambda: connects(gw) >= 1, 15, what="the gateway's first connect")
        app = Writer(gw.link("p1"))
        app.start()
        pub = Publisher(broker.port, base + "/rx")
        time.sleep(0.5)   # the gateway's rx subscription is in before rx flows
        pub.start()
        rss0 = rss_kb(gw.proc.pid)
        longest_away = 0.0
        t0 = time.monotonic()
        for i in range(cycles):
            time.sleep(rnd.uniform(0.3, 1.2))
            n_before = connects(gw)
            proxy.hold()
            away_from = time.monotonic()
            broker.stop()
            time.sleep(rnd.uniform(0.1, 1.0))
            broker.start()
            sub.wait_connected(15)
            sub.subscribe(base + "/tx", 1)     # again, in case the broker forgot it
            obs.wait_connected(15)
            obs.subscribe(base + "/rx", 1)
            pub.c.wait_connected(15)
            proxy.release()
            wait_until(lambda: connects(gw) > n_before, 20,
                       what="the gateway to reconnect after restart %d" % (i + 1))
            longest_away = max(longest_away, time.monotonic() - away_from)
        time.sleep(0.5)
        app.stop = True
        pub.stop = True
        app.join(10)
        pub.join(10)
        # what was written and acknowledged has time to arrive
        want_tx, (tx_lost, tx_dups, tx_disorder) = tx_arrived(app, sub, base + "/tx")
        acked = pub.acked()
        waited = time.monotonic()
        while time.monotonic() < waited + 15:
            app.read_more(0.2)
            if not analyse(acked, pub.rx.parse(app.rx))[0]:
                break
            if not persistence and time.monotonic() > waited + 3:
                break   # what is lost here stays lost
        rx_lost, rx_dups, rx_publish_disorder = analyse(acked, pub.rx.parse(app.rx))
        rx_disorder = order_against(pub.rx.parse(obs.concat(base + "/rx")), pub.rx.parse(app.rx))
        rss1 = rss_kb(gw.proc.pid)
        record("broker_faults", persistence=persistence, cycles=cycles,
               seconds=round(time.monotonic() - t0, 1),
               tx_records=len(want_tx), tx_lost_bytes=len(tx_lost) * 10,
               tx_duplicates=tx_dups, tx_out_of_order=tx_disorder,
               rx_acked=len(acked), rx_lost_bytes=len(rx_lost) * 10,
               rx_duplicates=rx_dups, rx_out_of_order=rx_disorder,
               rx_out_of_publish_order=rx_publish_disorder,
               longest_away_s=round(longest_away, 2),
               rss_start_kb=rss0, rss_end_kb=rss1, rss_growth_kb=rss1 - rss0)
        assert tx_disorder == 0, "tx records out of order: %d" % tx_disorder
        if persistence:
            assert not tx_lost, "tx lost %d of %d records (first %s)" % (
                len(tx_lost), len(want_tx), tx_lost[:5])
            assert longest_away <= RX_HOLD
            assert not rx_lost, "rx lost %d of %d acknowledged records (first %s)" % (
                len(rx_lost), len(acked), rx_lost[:5])
            assert rx_disorder == 0, (
                "rx delivered out of the broker's order %d times (out of publish order %d "
                "times, as another subscriber got them too)" % (rx_disorder, rx_publish_disorder))
    finally:
        for c in (pub.c if pub else None, sub, obs):
            if c is not None:
                c.disconnect()
        if app is not None:
            app.stop = True
            app.join(5)
            os.close(app.fd)
        proxy.close()
        broker.cleanup()
