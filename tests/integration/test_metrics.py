"""GET /metrics (CONTRACT.md §5): the Prometheus text format, checked with
`promtool check metrics`, and values that agree with the API after real
traffic; auth as the API, plus an optional --metrics-token for scrapers."""

import re
import shutil
import subprocess

import pytest

from api_helpers import Api, assert_error, set_password, start_api_gateway
from helpers import free_port, sync_rx, wait_until

PROMTOOL = shutil.which("promtool")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels.items())): float}, plus the TYPE of each
    family. Every line must be a comment or a sample."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in samples, "no sample %s%r in the scrape" % (name, labels)
    return samples[key]


def scrape(api, **kw):
    r = api.get("/metrics", **kw)
    assert r.status == 200, "GET /metrics: %r" % r
    ctype = r.header("content-type") or ""
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
    return r.body.decode("utf-8")


def promtool_check(text):
    if PROMTOOL is None:
        pytest.fail("promtool not found (Debian package prometheus; deploy/install-deps.sh --test)")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0 and not out.strip(), "promtool check metrics:\n%s\n---\n%s" % (
        out, text)


def port_states(api):
    return {p["name"]: p["state"] for p in api.ports()}


def test_metrics_pass_promtool_and_match_the_api(broker, gateway, mqtt, app):
    gw, api = start_api_gateway(gateway, broker, ports=("lines", "idle.port-2"))
    mon = mqtt(["mqttty/%s/+/tx" % gw.id])
    # one MQTT message per line on "lines"
    r = api.patch("/api/v1/ports/lines", {"frame": {"mode": "delim", "delim": "\n"}})
    assert r.status == 200, r
    base = "mqttty/%s/lines/" % gw.id
    a = app(gw.link("lines"))
    sync_rx(a, mon, base + "rx")

    text = scrape(api)
    promtool_check(text)
    s0, types = parse(text)
    for name, typ in [("mqttty_port_tx_bytes_total", "counter"),
                      ("mqttty_port_rx_bytes_total", "counter"),
                      ("mqttty_port_dropped_total", "counter"),
                      ("mqttty_port_messages_total", "counter"),
                      ("mqttty_port_open", "gauge"),
                      ("mqttty_broker_connected", "gauge"),
                      ("mqttty_broker_reconnects_total", "counter"),
                      ("mqttty_websocket_clients", "gauge"),
                      ("mqttty_loop_lag_seconds", "summary"),
                      ("process_resident_memory_bytes", "gauge")]:
        assert types.get(name) == typ, "TYPE of %s: %r" % (name, types.get(name))

    # traffic: 3 lines from the application (3 tx messages), 5 rx messages
    # to it, and 10 rx bytes to the port nobody holds open (dropped)
    mark = mon.count()
    a.write_all(b"one\ntwo\nthree\n")
    mon.wait_bytes(base + "tx", 14, start=mark)
    for i in range(5):
        mon.publish(base + "rx", b"rx%d" % i)
    assert a.read_exact(15) == b"rx0rx1rx2rx3rx4"
    mon.publish("mqttty/%s/idle.port-2/rx" % gw.id, b"0123456789")
    wait_until(lambda: port_states(api)["idle.port-2"]["dropped"] == 10, 5,
               what="10 dropped bytes on idle.port-2 in the API")

    # the API, a scrape, the API again: equal whenever the API did not move
    for _ in range(5):
        before = port_states(api)
        text = scrape(api)
        if port_states(api) == before:
            break
    promtool_check(text)
    s1, _ = parse(text)
    for name, st in before.items():
        assert value(s1, "mqttty_port_tx_bytes_total", port=name) == st["tx_bytes"], name
        assert value(s1, "mqttty_port_rx_bytes_total", port=name) == st["rx_bytes"], name
        assert value(s1, "mqttty_port_dropped_total", port=name) == st["dropped"], name
        assert value(s1, "mqttty_port_open", port=name) == (1 if st["open"] else 0), name
    assert before["lines"]["tx_bytes"] >= 14 and before["lines"]["open"] is True
    assert value(s1, "mqttty_port_dropped_total", port="idle.port-2") == 10
    tx = [m for m in mon.snapshot(base + "tx")]
    assert value(s1, "mqttty_port_messages_total", port="lines", dir="tx") == len(tx), \
        "tx messages: the broker got %d" % len(tx)
    assert (value(s1, "mqttty_port_messages_total", port="lines", dir="rx") -
            value(s0, "mqttty_port_messages_total", port="lines", dir="rx")) == 5
    assert value(s1, "mqttty_port_messages_total", port="idle.port-2", dir="tx") == 0

    status = api.status()
    assert value(s1, "mqttty_broker_connected") == 1
    assert value(s1, "mqttty_broker_reconnects_total") == 0
    assert value(s1, "mqttty_websocket_clients") == status["websocket_clients"]
    p99 = value(s1, "mqttty_loop_lag_seconds", quantile="0.99")
    mx = value(s1, "mqttty_loop_lag_seconds", quantile="1")
    assert 0 <= p99 <= mx < 5, (p99, mx)
    rss = value(s1, "process_resident_memory_bytes")
    assert 1 << 20 < rss < 4 << 30, rss


def test_metrics_follow_the_broker(broker, gateway):
    gw, api = start_api_gateway(gateway, broker, ports=("p1",))
    wait_until(lambda: api.status()["broker"]["connected"], 10, what="broker connected")
    broker.stop()
    wait_until(lambda: value(parse(scrape(api))[0], "mqttty_broker_connected") == 0, 20,
               what="mqttty_broker_connected 0 with the broker stopped")
    broker.start()
    wait_until(lambda: value(parse(scrape(api))[0], "mqttty_broker_connected") == 1, 20,
               what="mqttty_broker_connected 1 after the broker came back")
    s, _ = parse(scrape(api))
    assert value(s, "mqttty_broker_reconnects_total") == 1


def test_metrics_auth(broker, gateway):
    hp = free_port()
    gw = gateway(["p1"], broker=broker, start=False,
                 extra=["--http", "127.0.0.1:%d" % hp, "--metrics-token", "scrape-secret-1"])
    token = set_password(gw.db, "correct horse battery", gw.workdir)
    gw.start()
    api = Api(hp).wait_up(gw)

    assert_error(api.get("/metrics"), 401)
    assert_error(api.get("/metrics", headers={"Authorization": "Bearer scrape-secret-2"}), 401)
    assert_error(api.get("/metrics", headers={"Authorization": "Bearer "}), 401)
    # the scrape token reads /metrics and nothing else
    scraper = Api(hp)
    scraper.token = "scrape-secret-1"
    assert 'port="p1"' in scrape(scraper)
    assert_error(scraper.get("/api/v1/ports"), 401)
    # an API token, or a session, reads it too
    user = Api(hp)
    user.token = token
    assert 'port="p1"' in scrape(user)
    r = Api(hp).post("/api/v1/login", {"password": "correct horse battery"})
    assert r.status == 204, r
    cookie = r.header("set-cookie").split(";", 1)[0]
    assert 'port="p1"' in scrape(Api(hp), headers={"Cookie": cookie})
    assert_error(user.post("/metrics", {"x": 1}), 405)


def test_metrics_token_without_password(broker, gateway):
    gw, api = start_api_gateway(gateway, broker, extra=["--metrics-token", "tok-abc"])
    # no password: the API is open, but a scrape token closes /metrics
    assert api.get("/api/v1/status").status == 200
    assert_error(api.get("/metrics"), 401)
    assert "mqttty_port_open" in scrape(api, headers={"Authorization": "Bearer tok-abc"})


def test_metrics_open_without_any_credentials(broker, gateway):
    gw, api = start_api_gateway(gateway, broker)
    assert 'mqttty_port_open{port="p1"} 0' in scrape(api)
