"""Issue 10 item 5: valgrind saw a 1-byte read past a 16-byte block inside
Paho (MQTTAsync_destroy after MQTTAsync_send) at shutdown, with ports that
have a peer and a device that is missing. The gateway handed Paho an empty
retained `state` for every port it removed during teardown, after the
disconnect had already started; it no longer publishes once the disconnect
starts. This runs that shutdown under valgrind (release build) with traffic
and peers, once with the broker answering and once with the broker stopped
(SIGSTOP) so the disconnect is never answered, and wants no report at all."""

import os
import shutil
import signal
import subprocess
import time

import pytest

from api_helpers import Api
from helpers import App, free_port, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.parametrize("broker_stalls", [False, True], ids=["broker-answers", "broker-stalls"])
def test_shutdown_with_peers_and_missing_devices_under_valgrind(broker, gateway, mqtt,
                                                                monkeypatch, tmp_path,
                                                                broker_stalls):
    logs = tmp_path / "vg"
    logs.mkdir()
    monkeypatch.setenv("MQTTTY_BIN", os.path.join(HERE, "valgrind-mqttty"))
    monkeypatch.setenv("FAULTS_VALGRIND_LOGS", str(logs))
    hp = free_port()
    gw = gateway(["p1"], broker=broker, extra=["--http", "127.0.0.1:%d" % hp], start=False)
    gw.start(timeout=60)
    api = Api(hp, timeout=30)
    api.wait_up(gw, timeout=60)
    for i in range(3):
        r = api.post("/api/v1/ports", {"name": "d%d" % i, "kind": "device",
                                       "device": "/dev/ttyMISSING%d" % i,
                                       "peer": "%s/v%d" % (gw.id, i), "follow": i % 2 == 0})
        assert r.status == 201, r
        r = api.post("/api/v1/ports", {"name": "v%d" % i, "peer": "%s/d%d" % (gw.id, i)})
        assert r.status == 201, r
    c = mqtt(["mqttty/%s/p1/tx" % gw.id])
    a = App(gw.link("p1"))
    a.write_all(b"before shutdown\n")
    c.wait_bytes("mqttty/%s/p1/tx" % gw.id, 16, timeout=30)
    c.publish("mqttty/%s/p1/rx" % gw.id, b"to the app", qos=1)
    time.sleep(1)
    a.close()
    if broker_stalls:
        # the disconnect is never answered: the gateway gives up waiting
        # while Paho still holds the session open
        broker.proc.send_signal(signal.SIGSTOP)
    try:
        rc = gw.terminate(timeout=60)
    finally:
        if broker_stalls:
            broker.proc.send_signal(signal.SIGCONT)
    assert rc == 0
    out = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "vgreport.py"), str(logs)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    text = out.stdout.decode("utf-8", "replace")
    print(text)
    assert out.returncode == 0 and "0 reports from our code, 0 from libraries" in text, text
