"""Repeated warnings are rate-limited (issue 10 item 6): 500 bad `set`
payloads do not write 500 lines; the log says how many were suppressed."""

import re
import time

from helpers import MqttClient, wait_until

N = 500


def test_bad_set_flood_logs_a_bounded_number_of_lines(broker, gateway, gw_id):
    gw = gateway(["p1"], broker=broker)
    c = MqttClient(broker.port).connect()
    topic = "mqttty/%s/p1/set" % gw_id
    # the gateway is subscribed once a probe shows in its log (a set a pty
    # port ignores: another call site than the flood's "not JSON")
    wait_until(lambda: c.publish(topic, b'{"baud":9600}', qos=1) and
               "set ignored" in gw.log_text(), 10, interval=0.2, what="set subscribed")
    before = gw.log_text()
    t0 = time.monotonic()
    for i in range(N):
        c.publish(topic, b"not json %d" % i, qos=0)
    c.publish(topic, b"{last", qos=1)          # acknowledged: all are at the broker
    c.disconnect()
    time.sleep(1.0)                            # the gateway took them all in
    secs = time.monotonic() - t0
    assert gw.terminate() == 0
    log = gw.log_text()[len(before):]
    lines = log.splitlines()
    written = [l for l in lines if "not JSON" in l and "suppressed" not in l]
    summaries = [l for l in lines if "similar messages suppressed" in l and "not JSON" in l]
    suppressed = sum(int(re.search(r"(\d+) similar messages suppressed", l).group(1))
                     for l in summaries)
    print("\n%d bad set payloads in %.1f s: %d lines written, %d suppressed, %d summary "
          "line(s); %d log lines in all" % (N + 1, secs, len(written), suppressed,
                                             len(summaries), len(lines)))
    assert summaries, "no line says how many messages were suppressed"
    # per 10 s window a call site writes the same line 5 times and any
    # lines 20 times
    windows = int(secs / 10) + 2
    assert len(written) <= 20 * windows, "%d 'not JSON' lines" % len(written)
    assert len(written) + suppressed == N + 1, (len(written), suppressed)
