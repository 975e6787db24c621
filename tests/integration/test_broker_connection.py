"""How the gateway connects to the broker (CONTRACT.md §1, §3):
client id, keepalive, clean session, user:pass@ in the URI, mqtts://."""

import os
import re
import subprocess
import time

import pytest

from helpers import free_port, port_accepts, wait_until


def connect_lines(broker, client_id):
    with open(broker.log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return [l for l in text.splitlines() if "New client connected" in l and " as %s " % client_id in l]


def test_client_id_keepalive_clean_session(broker, gateway, mqtt):
    gw = gateway(["p1"], broker=broker)
    status = "mqttty/%s/status" % gw.id
    c = mqtt([status])
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10, what="online")
    lines = wait_until(lambda: connect_lines(broker, "mqttty-" + gw.id), 5,
                       what="a connection as mqttty-%s in the broker log" % gw.id)
    # mosquitto logs "(pN, cC, kK)": protocol, clean session, keepalive.
    m = re.search(r"\(p(\d+), c(\d), k(\d+)", lines[0])
    assert m, lines[0]
    assert m.group(2) == "1", "the gateway must connect with a clean session: %s" % lines[0]
    assert m.group(3) == "10", "MQTT keepalive must be 10 s: %s" % lines[0]


USER = "us@er"
PASSWORD = "p:ss/w@rd%"


def pw_broker(broker):
    pwfile = os.path.join(broker.dir, "passwd")
    open(pwfile, "w").close()
    subprocess.run(["mosquitto_passwd", "-b", pwfile, USER, PASSWORD], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    broker.stop()
    broker.allow_anonymous = False
    broker.extra_conf.append("password_file %s" % pwfile)
    broker.start()


def test_percent_encoded_credentials(broker, gateway, mqtt):
    pw_broker(broker)
    uri = "mqtt://us%40er:p%3Ass%2Fw%40rd%25@127.0.0.1:" + str(broker.port)
    gw = gateway(["p1"], broker_uri=uri)
    status = "mqttty/%s/status" % gw.id
    c = mqtt([status], username=USER, password=PASSWORD)
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10,
               what="online with user:pass@ from the URI")
    log = gw.log_text()
    for secret in (PASSWORD, "p%3Ass%2Fw%40rd%25"):
        assert secret not in log, "the broker password appears in the gateway log"


def test_wrong_password_is_refused_and_gateway_keeps_running(broker, gateway, mqtt):
    pw_broker(broker)
    uri = "mqtt://us%40er:wrong@127.0.0.1:" + str(broker.port)
    gw = gateway(["p1"], broker_uri=uri)
    status = "mqttty/%s/status" % gw.id
    c = mqtt([status], username=USER, password=PASSWORD)
    time.sleep(3)
    assert not [m for m in c.snapshot(status) if m.payload == b"online"]
    assert gw.running(), "a refused connection must not end the gateway"
    assert os.path.exists(gw.link("p1"))


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
            "-out", name + ".crt", "-days", "2", "-subj", "/CN=" + name, cwd=d)
    return os.path.join(d, name + ".crt")


@pytest.fixture
def tls_broker(broker, tmp_path):
    d = str(tmp_path / "pki")
    os.makedirs(d)
    ca = make_ca(d, "test-ca")
    other = make_ca(d, "other-ca")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/CN=127.0.0.1", cwd=d)
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "test-ca.crt", "-CAkey", "test-ca.key",
            "-CAcreateserial", "-out", "srv.crt", "-days", "2", "-extfile", "san.ext", cwd=d)
    broker.tls_port = free_port()
    broker.stop()
    broker.extra_conf += ["listener %d 127.0.0.1" % broker.tls_port,
                          "cafile %s" % ca,
                          "certfile %s" % os.path.join(d, "srv.crt"),
                          "keyfile %s" % os.path.join(d, "srv.key")]
    broker.start()
    wait_until(lambda: port_accepts(broker.tls_port), 5, what="TLS listener")
    broker.ca, broker.other_ca = ca, other
    return broker


def test_mqtts_with_own_ca(tls_broker, gateway, mqtt):
    b = tls_broker
    gw = gateway(["p1"], broker_uri="mqtts://127.0.0.1:%d" % b.tls_port,
                 extra=["--ca-file", b.ca])
    status, tx = "mqttty/%s/status" % gw.id, "mqttty/%s/p1/tx" % gw.id
    c = mqtt([status, tx])  # plain listener of the same broker
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10,
               what="online over TLS")
    assert connect_lines(b, "mqttty-" + gw.id), "gateway did not connect"


def test_mqtts_rejects_unknown_ca(tls_broker, gateway, mqtt):
    b = tls_broker
    gw = gateway(["p1"], broker_uri="mqtts://127.0.0.1:%d" % b.tls_port,
                 extra=["--ca-file", b.other_ca])
    status = "mqttty/%s/status" % gw.id
    c = mqtt([status])
    time.sleep(3)
    assert not [m for m in c.snapshot(status) if m.payload == b"online"], \
        "the gateway trusted a broker certificate its CA file does not vouch for"
    assert not connect_lines(b, "mqttty-" + gw.id)
    assert gw.running()
