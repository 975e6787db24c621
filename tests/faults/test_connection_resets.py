"""Connection resets while QoS 1 tx streams (issue 10, Paho's lost topic).

The broker stays up; the network between it and the gateway fails: a
loopback proxy cuts the gateway's connection with an RST again and again
while an application writes tx records without pause, so Paho's send
thread is often writing a QoS 1 PUBLISH at the moment the socket breaks.
Paho 1.3.12 then fails that publish with a socket error and frees its topic
while keeping the message in flight; resuming that client's session re-sent
it from freed memory (ASan: heap-use-after-free in Paho's receive thread;
eclipse-paho/paho.mqtt.c#1621, #1622). The gateway leaves such a client
alone and connects with a fresh one (mqtt_bridge.c, client_renew).

Checked: the gateway lives through every reset (no sanitizer report at
teardown), tx loses nothing and keeps its order, and the session is
resumed each time (rx hold), and the idle gateway sleeps afterwards
(no completion of the abandoned client is waited for). Printed: resets, fresh clients (every reset
with publishes in flight), how many of those replaced a client Paho had
poisoned (a reset that hit a write), duplicates, RSS growth."""

import os
import random
import time

from faults_util import Proxy, pick, record, rss_kb
from helpers import MqttClient, wait_until
from test_broker_faults import Writer, connects, tx_arrived


def loop_wakeups(pid, seconds):
    """Voluntary context switches of the loop (main) thread in `seconds`."""
    def count():
        with open("/proc/%d/task/%d/status" % (pid, pid)) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
        return 0
    n0 = count()
    time.sleep(seconds)
    return count() - n0


def test_tx_through_connection_resets(broker, gateway):
    cycles = pick(12, 80)
    seed = int(os.environ.get("FAULTS_SEED", "0")) or random.randrange(1 << 30)
    rnd = random.Random(seed)
    print("seed", seed)
    proxy = Proxy(broker.port)
    app = sub = None
    try:
        gw = gateway(["p1"], broker_uri="mqtt://127.0.0.1:%d" % proxy.port,
                     extra=["--rx-hold", "30"])
        base = "mqttty/%s/p1" % gw.id
        sub = MqttClient(broker.port, client_id="resets-sub-" + gw.id, clean_session=False)
        sub.connect().subscribe(base + "/tx", 1)
        wait_until(lambda: connects(gw) >= 1, 15, what="the gateway's first connect")
        app = Writer(gw.link("p1"), gap=0)
        app.start()
        time.sleep(0.5)
        rss0 = rss_kb(gw.proc.pid)
        t0 = time.monotonic()
        cut = 0
        for i in range(cycles):
            time.sleep(rnd.uniform(0.2, 0.8))
            n_before = connects(gw)
            cut += proxy.reset()
            wait_until(lambda: connects(gw) > n_before, 20,
                       what="the gateway to reconnect after reset %d" % (i + 1))
        time.sleep(0.5)
        app.stop = True
        app.join(10)
        want, (lost, dups, disorder) = tx_arrived(app, sub, base + "/tx")
        log = gw.log_text()
        poisoned = log.count("a fresh MQTT client replaces")
        fresh = log.count("a fresh MQTT client")
        resumed = log.count("(session resumed")
        rss1 = rss_kb(gw.proc.pid)
        # an idle gateway sleeps, fresh clients or not: the loop thread may
        # wake for the 1 s state timer, not for completions that never come
        time.sleep(2)
        woke = loop_wakeups(gw.proc.pid, 3.0)
        record("connection_resets", cycles=cycles, connections_cut=cut,
               seconds=round(time.monotonic() - t0, 1), tx_records=len(want),
               tx_lost_bytes=len(lost) * 10, tx_duplicates=dups, tx_out_of_order=disorder,
               fresh_clients=fresh, poisoned_clients_left=poisoned, sessions_resumed=resumed, idle_wakeups_3s=woke,
               rss_start_kb=rss0, rss_end_kb=rss1, rss_growth_kb=rss1 - rss0)
        assert gw.proc.poll() is None, "the gateway died:\n" + log[-3000:]
        assert not lost, "tx lost %d of %d records (first %s)" % (len(lost), len(want), lost[:5])
        assert disorder == 0, "tx records out of order: %d" % disorder
        assert woke <= 12, "the idle loop woke %d times in 3 s" % woke
        assert resumed >= cycles, "sessions resumed %d times in %d resets" % (resumed, cycles)
    finally:
        if sub is not None:
            sub.disconnect()
        if app is not None:
            app.stop = True
            app.join(5)
            os.close(app.fd)
        proxy.close()
