"""The HTTP JSON API and dashboard (CONTRACT.md §4): every route, what it
answers, what it does to ports, links, the store and the MQTT topics
(§2, §3) — including changes made while an application is using a port."""

import json
import os
import random
import re
import subprocess
import threading
import time

from api_helpers import assert_error, links, start_api_gateway, without_state, wsc  # noqa: F401
from gateway_proc import binary_path, clean_env, wait_gone
from helpers import PORT_OBJECT_KEYS, STATE_KEYS, free_port, sync_rx, wait_until

ALL_BYTES = bytes(range(256))
DEFAULTS = {
    "kind": "pty", "device": None, "baud": 9600, "data_bits": 8, "parity": "none",
    "stop_bits": 1, "flow": "none", "dtr": False, "rts": False, "peer": None,
    "follow": False, "frame": {"mode": "raw", "max": 4096}, "qos": 1, "enabled": True,
    "rfc2217": None,
}


def base(gw, name):
    return "mqttty/%s/%s" % (gw.id, name)


def ports_topic(gw):
    return "mqttty/%s/ports" % gw.id


def names(arr):
    return [p["name"] for p in arr]


def check_port_object(p, gw, name):
    keys = set(p)
    want = PORT_OBJECT_KEYS | {"state"}
    assert keys == want, "port object keys: extra %s, missing %s" % (
        sorted(keys - want), sorted(want - keys))
    assert set(p["state"]) == STATE_KEYS, "state keys: extra %s, missing %s" % (
        sorted(set(p["state"]) - STATE_KEYS), sorted(STATE_KEYS - set(p["state"])))
    assert p["name"] == name
    assert p["path"] == gw.link(name), "path %r, the link is %r" % (p["path"], gw.link(name))
    for k in ("tx_bytes", "rx_bytes", "dropped"):
        v = p["state"][k]
        assert isinstance(v, int) and not isinstance(v, bool) and v >= 0, p["state"]


def is_link_to_tty(path):
    return os.path.islink(path) and os.path.exists(path) and \
        os.path.realpath(path).startswith("/dev/")


# --------------------------------------------------------------------------
# GET /api/v1/status


def test_status_names_gateway_and_hides_broker_password(broker, gateway):
    uri = "mqtt://apiuser:s3cr%%40tpw@127.0.0.1:%d" % broker.port
    gw, api = start_api_gateway(gateway, broker_uri=uri, ports=["p1", "p2"])
    st = wait_until(lambda: (lambda s: s if s["broker"]["connected"] is True else None)(
        api.status()), 10, what="status broker.connected true")
    r = api.get("/api/v1/status")
    assert r.status == 200
    assert (r.header("content-type") or "").startswith("application/json")
    assert set(st) >= {"id", "version", "broker", "ports"}, st
    assert st["id"] == gw.id
    assert isinstance(st["version"], str) and st["version"], st
    ver = subprocess.run([binary_path(), "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=clean_env(gw.workdir), timeout=10)
    assert st["version"] in ver.stdout.decode(), \
        "status version %r is not what `mqttty --version` prints: %r" % (st["version"], ver.stdout)
    assert st["ports"] == 2, st
    assert set(st["broker"]) >= {"connected", "uri"}, st
    u = st["broker"]["uri"]
    assert u.startswith("mqtt://") and ("127.0.0.1:%d" % broker.port) in u, u
    assert b"s3cr" not in r.body, "the broker password shows in the status: %r" % r.body


def test_status_while_broker_unreachable(gateway, tmp_path):
    dead = "mqtt://127.0.0.1:%d" % free_port()
    gw, api = start_api_gateway(gateway, broker_uri=dead, ports=["p1"])
    st = api.status()
    assert st["broker"]["connected"] is False, st
    assert st["ports"] == 1 and st["id"] == gw.id
    # the ports are served all the same
    assert names(api.ports()) == ["p1"]
    assert is_link_to_tty(gw.link("p1"))


# --------------------------------------------------------------------------
# GET /api/v1/ports, GET /api/v1/ports/NAME


def test_ports_sorted_with_every_field(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["zeta", "alpha", "mid"])
    r = api.get("/api/v1/ports")
    assert r.status == 200 and (r.header("content-type") or "").startswith("application/json")
    arr = r.json()
    assert isinstance(arr, list)
    assert names(arr) == ["alpha", "mid", "zeta"], names(arr)
    for p in arr:
        check_port_object(p, gw, p["name"])
        for k, v in DEFAULTS.items():
            assert p[k] == v, "%s: %s is %r, default %r" % (p["name"], k, p[k], v)
        assert p["state"]["open"] is False, p["state"]
    assert api.status()["ports"] == 3


def test_many_ports_listed_sorted(broker, gateway, wsc):
    """Answers larger than any single write (40 ports) come whole."""
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    made = ["port-%02d" % i for i in range(40)]
    for n in random.Random(5).sample(made, len(made)):
        r = api.post("/api/v1/ports", {"name": n, "frame": {"mode": "delim", "delim": "\r\n"}})
        assert r.status == 201, r
    r = api.get("/api/v1/ports")
    assert r.status == 200 and len(r.body) > 16384, "a %d-byte answer" % len(r.body)
    arr = r.json()
    assert names(arr) == sorted(made + ["p1"]), names(arr)
    for p in arr:
        check_port_object(p, gw, p["name"])
    assert sorted(links(gw)) == sorted(made + ["p1"])
    assert api.status()["ports"] == 41
    w = wsc(api)
    hello = w.wait_event(lambda e: e["type"] == "hello", what="hello")
    assert names(hello["ports"]) == names(arr)


def test_get_one_port_and_unknown(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1", "p2"])
    r = api.get("/api/v1/ports/p2")
    assert r.status == 200, r
    p = r.json()
    check_port_object(p, gw, "p2")
    listed = [q for q in api.ports() if q["name"] == "p2"][0]
    assert without_state([p]) == without_state([listed])
    assert_error(api.get("/api/v1/ports/nosuch"), 404)
    assert_error(api.get("/api/v1/ports/p2x"), 404)
    assert_error(api.get("/api/v1/ports/P2"), 404)


# --------------------------------------------------------------------------
# POST /api/v1/ports


def test_post_creates_port_link_and_topics(broker, gateway, mqtt, app):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    c = mqtt([ports_topic(gw), base(gw, "radio1") + "/state", base(gw, "radio1") + "/tx"])
    c.wait_json(ports_topic(gw), lambda a: names(a) == ["p1"], timeout=10,
                what="the retained ports list [p1]")
    mark = c.count()

    r = api.post("/api/v1/ports", {"name": "radio1", "baud": 38400,
                                   "frame": {"mode": "delim", "delim": "\r"}})
    assert r.status == 201, r
    # the link is there as soon as the API answered
    assert is_link_to_tty(gw.link("radio1")), "no link %s right after 201" % gw.link("radio1")
    p = r.json()
    check_port_object(p, gw, "radio1")
    assert p["baud"] == 38400 and p["kind"] == "pty" and p["qos"] == 1 and p["enabled"] is True
    assert p["frame"] == {"mode": "delim", "delim": "\r", "max": 4096}, p["frame"]
    assert p["state"]["open"] is False

    assert names(api.ports()) == ["p1", "radio1"]
    assert api.status()["ports"] == 2

    lst = c.wait_json(ports_topic(gw), lambda a: "radio1" in names(a), start=mark, timeout=5,
                      what="radio1 in the ports topic")
    assert names(lst) == ["p1", "radio1"], lst
    for q in lst:
        assert set(q) == PORT_OBJECT_KEYS, "ports topic entries are port objects without state"
    st = c.wait_json(base(gw, "radio1") + "/state", lambda s: True, start=mark, timeout=5,
                     what="a state for radio1")
    assert set(st) == STATE_KEYS and st["open"] is False

    # both are retained: a late subscriber gets them at once
    late = mqtt([ports_topic(gw), base(gw, "radio1") + "/state"])
    m = late.wait_for(lambda m: m.retain and b"radio1" in m.payload, topic=ports_topic(gw),
                      timeout=3, what="the retained ports list with radio1")
    assert names(m.json()) == ["p1", "radio1"]
    late.wait_for(lambda m: m.retain and bool(m.payload), topic=base(gw, "radio1") + "/state",
                  timeout=3, what="the retained state of radio1")

    # and the new port works: a line written by an application is one message
    a = app(gw.link("radio1"))
    a.write_all(b"hello\r")
    got = c.wait_for(lambda m: True, topic=base(gw, "radio1") + "/tx", timeout=5,
                     what="radio1 tx")
    assert got.payload == b"hello\r"


def test_post_disabled_port_has_no_link(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    r = api.post("/api/v1/ports", {"name": "off1", "enabled": False})
    assert r.status == 201, r
    p = r.json()
    assert p["enabled"] is False and p["state"]["open"] is False
    assert not os.path.lexists(gw.link("off1"))
    assert names(api.ports()) == ["off1", "p1"]
    # enabling it makes the link
    r = api.patch("/api/v1/ports/off1", {"enabled": True})
    assert r.status == 200, r
    wait_until(lambda: is_link_to_tty(gw.link("off1")), 3, what="link of off1 after enabling")
    assert api.get_port("off1")["path"] == gw.link("off1")
    # disabling keeps the settings but removes the link
    r = api.patch("/api/v1/ports/off1", {"enabled": False, "baud": 4800})
    assert r.status == 200, r
    wait_gone(gw.link("off1"), timeout=2)
    p = api.get_port("off1")
    assert p["enabled"] is False and p["baud"] == 4800 and p["state"]["open"] is False, p
    assert names(api.ports()) == ["off1", "p1"]


# --------------------------------------------------------------------------
# PATCH /api/v1/ports/NAME


def test_patch_applies_live_and_persists_across_restart(broker, gateway, mqtt, app):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    r = api.post("/api/v1/ports", {"name": "p2", "baud": 57600})
    assert r.status == 201, r

    frame = {"mode": "delim", "delim": "\n", "max": 128}
    r = api.patch("/api/v1/ports/p1", {"frame": frame, "qos": 0})
    assert r.status == 200, r
    p = r.json()
    check_port_object(p, gw, "p1")
    assert p["frame"] == frame and p["qos"] == 0, p
    g = api.get_port("p1")
    assert g["frame"] == frame and g["qos"] == 0, g
    # the ports topic shows it too
    c = mqtt([ports_topic(gw), base(gw, "p1") + "/tx"])
    lst = c.wait_json(ports_topic(gw), lambda a: True, timeout=5, what="retained ports")
    assert [q for q in lst if q["name"] == "p1"][0]["frame"] == frame, lst

    # applied live: lines now go out one message each
    a = app(gw.link("p1"))
    a.write_all(b"one\ntwo\n")
    c.wait_bytes(base(gw, "p1") + "/tx", 8, timeout=5)
    msgs = [m.payload for m in c.snapshot(base(gw, "p1") + "/tx")]
    assert msgs == [b"one\n", b"two\n"], msgs
    a.close()

    before = without_state(api.ports())
    assert gw.terminate() == 0
    assert not os.path.lexists(gw.link("p1")), "links are removed when the gateway stops"
    gw.start(wait_links=False)      # same --db and link dir, --port p1 again
    api.wait_up(gw)
    gw.wait_link("p1")
    gw.wait_link("p2")
    after = without_state(api.ports())
    assert after == before, "the store lost settings across a restart:\n%r\n%r" % (before, after)
    assert api.get_port("p1")["frame"] == frame and api.get_port("p1")["qos"] == 0
    assert api.get_port("p2")["baud"] == 57600


def test_patch_null_restores_default_and_frame_merges(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    r = api.patch("/api/v1/ports/p1", {"qos": 0, "baud": 115200, "rts": True,
                                       "frame": {"mode": "delim", "delim": "\u00fd", "max": 300}})
    assert r.status == 200, r
    p = r.json()
    assert p["qos"] == 0 and p["baud"] == 115200 and p["rts"] is True
    assert p["frame"] == {"mode": "delim", "delim": "\u00fd", "max": 300}, p["frame"]

    # a merge patch of frame keeps what it does not name
    r = api.patch("/api/v1/ports/p1", {"frame": {"max": 100}})
    assert r.status == 200, r
    assert r.json()["frame"] == {"mode": "delim", "delim": "\u00fd", "max": 100}, r.json()

    # null = back to the default; other settings stay
    r = api.patch("/api/v1/ports/p1", {"qos": None, "rts": None})
    assert r.status == 200, r
    p = r.json()
    assert p["qos"] == 1 and p["rts"] is False, p
    assert p["baud"] == 115200 and p["frame"]["max"] == 100, p

    r = api.patch("/api/v1/ports/p1", {"frame": None, "baud": None})
    assert r.status == 200, r
    p = api.get_port("p1")
    assert p["frame"] == DEFAULTS["frame"] and p["baud"] == 9600, p

    # path and state are ignored in a patch (a GET-modify-PATCH round trip works)
    full = api.get_port("p1")
    full["qos"] = 0
    r = api.patch("/api/v1/ports/p1", full)
    assert r.status == 200, r
    assert api.get_port("p1")["qos"] == 0


# --------------------------------------------------------------------------
# DELETE /api/v1/ports/NAME


def test_delete_removes_link_state_and_listing(broker, gateway, mqtt):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1", "p2"])
    st2 = base(gw, "p2") + "/state"
    c = mqtt([ports_topic(gw), st2])
    c.wait_json(ports_topic(gw), lambda a: names(a) == ["p1", "p2"], timeout=10,
                what="ports [p1, p2]")
    c.wait_for(lambda m: bool(m.payload), topic=st2, timeout=5, what="a state of p2")
    mark = c.count()

    r = api.delete("/api/v1/ports/p2")
    assert r.status == 204, r
    assert r.body == b""
    wait_gone(gw.link("p2"), timeout=2)
    assert is_link_to_tty(gw.link("p1"))
    assert_error(api.get("/api/v1/ports/p2"), 404)
    assert names(api.ports()) == ["p1"]
    assert api.status()["ports"] == 1

    c.wait_for(lambda m: m.payload == b"", topic=st2, start=mark, timeout=5,
               what="an empty payload clearing p2's retained state")
    c.wait_json(ports_topic(gw), lambda a: names(a) == ["p1"], start=mark, timeout=5,
                what="ports topic without p2")
    late = mqtt([ports_topic(gw), st2])
    m = late.wait_for(lambda m: m.retain, topic=ports_topic(gw), timeout=3,
                      what="the retained ports list")
    assert names(m.json()) == ["p1"]
    time.sleep(0.5)
    left = [m for m in late.snapshot(st2) if m.payload]
    assert not left, "p2's state is still retained after DELETE: %r" % left

    assert_error(api.delete("/api/v1/ports/p2"), 404)

    # the name is free again
    r = api.post("/api/v1/ports", {"name": "p2"})
    assert r.status == 201, r
    wait_until(lambda: is_link_to_tty(gw.link("p2")), 2, what="p2's link again")


def test_delete_while_an_application_holds_the_port(broker, gateway, app):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1", "p2"])
    a = app(gw.link("p2"))
    wait_until(lambda: api.get_port("p2")["state"]["open"] is True, 5, what="p2 open")
    r = api.delete("/api/v1/ports/p2")
    assert r.status == 204, r
    wait_gone(gw.link("p2"), timeout=2)
    # the application sees the port go away (hang-up), not silence forever
    try:
        left = a.read_some(2.0)
        hung_up = left == b""
    except (AssertionError, OSError):
        hung_up = True
    assert hung_up, "the application still reads data from a deleted port: %r" % left
    assert names(api.ports()) == ["p1"]
    r = api.post("/api/v1/ports", {"name": "p2"})
    assert r.status == 201, r
    wait_until(lambda: is_link_to_tty(gw.link("p2")), 2, what="p2's new link")


def test_keep_alive_connection(broker, gateway):
    """A browser reuses one connection for several requests."""
    import http.client
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=5)
    try:
        seq = [("GET", "/api/v1/status", None, 200),
               ("POST", "/api/v1/ports", b'{"name": "ka1"}', 201),
               ("PATCH", "/api/v1/ports/ka1", b'{"qos": 0}', 200),
               ("POST", "/api/v1/ports", b'{"name": "ka1"}', 409),
               ("GET", "/api/v1/ports/ka1", None, 200),
               ("GET", "/api/v1/nope", None, 404),
               ("DELETE", "/api/v1/ports/ka1", None, 204),
               ("GET", "/api/v1/ports", None, 200)]
        for method, path, b, want in seq:
            hdrs = {"Content-Type": "application/json"} if b else {}
            conn.request(method, path, body=b, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            assert r.status == want, "%s %s on a kept-alive connection: %d %r" % (
                method, path, r.status, data[:200])
        assert names(json.loads(data)) == ["p1"]
    finally:
        conn.close()


def test_changes_while_broker_away_reach_mqtt_on_reconnect(broker, gateway, mqtt):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1", "p2"])
    c = mqtt([ports_topic(gw), base(gw, "p2") + "/state"])
    c.wait_json(ports_topic(gw), lambda a: names(a) == ["p1", "p2"], timeout=10,
                what="ports [p1, p2]")
    c.wait_for(lambda m: bool(m.payload), topic=base(gw, "p2") + "/state", timeout=5,
               what="p2's state")
    c.disconnect()
    broker.stop()
    wait_until(lambda: api.status()["broker"]["connected"] is False, 15,
               what="status broker.connected false")
    assert api.post("/api/v1/ports", {"name": "late"}).status == 201
    assert api.patch("/api/v1/ports/p1", {"qos": 0}).status == 200
    assert api.delete("/api/v1/ports/p2").status == 204
    broker.start()
    wait_until(lambda: api.status()["broker"]["connected"] is True, 20,
               what="status broker.connected true again")
    late = mqtt([ports_topic(gw), base(gw, "late") + "/state", base(gw, "p2") + "/state"])
    lst = late.wait_json(ports_topic(gw), lambda a: names(a) == ["late", "p1"], timeout=5,
                         what="the ports list made while the broker was away")
    assert [p for p in lst if p["name"] == "p1"][0]["qos"] == 0
    late.wait_for(lambda m: bool(m.payload), topic=base(gw, "late") + "/state", timeout=5,
                  what="late's state")
    time.sleep(1.0)
    ghost = [m for m in late.snapshot(base(gw, "p2") + "/state") if m.payload]
    assert not ghost, "p2 was deleted while the broker was away, yet its state is still " \
        "retained: %r" % ghost[-1:]


# --------------------------------------------------------------------------
# POST /api/v1/ports/NAME/send


def test_send_delivers_bytes_exactly(broker, gateway, app):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    a = app(gw.link("p1"), baud=115200)
    wait_until(lambda: api.get_port("p1")["state"]["open"] is True, 5, what="p1 open:true")

    r = api.post("/api/v1/ports/p1/send", ALL_BYTES, ctype="application/octet-stream")
    assert r.status == 204, r
    got = a.read_exact(len(ALL_BYTES), timeout=5)
    assert got == ALL_BYTES, "sent every byte value, the application read %r" % got

    data = random.Random(99).randbytes(20000)
    r = api.post("/api/v1/ports/p1/send", data, ctype="application/octet-stream")
    assert r.status == 204, r
    got = a.read_exact(len(data), timeout=10)
    assert got == data
    assert a.read_for(0.3) == b"", "more bytes than were sent"
    wait_until(lambda: api.get_port("p1")["state"]["rx_bytes"] >= len(data) + 256, 3,
               what="rx_bytes to count the sent bytes")

    a.close()
    wait_until(lambda: api.get_port("p1")["state"]["open"] is False, 5, what="p1 open:false")
    assert_error(api.post("/api/v1/ports/p1/send", b"x", ctype="application/octet-stream"),
                 409)
    assert_error(api.post("/api/v1/ports/nosuch/send", b"x",
                          ctype="application/octet-stream"), 404)


# --------------------------------------------------------------------------
# routes that do not exist, the dashboard


def test_unknown_routes_404(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    for path in ("/api/v1/nope", "/api/v2/status", "/api/v1/ports/p1/nope",
                 "/api/v1/statusx", "/api/v1/"):
        assert_error(api.get(path), 404)
    assert_error(api.post("/api/v1/nope", {"a": 1}), 404)
    r = api.get("/no-such-page.html")
    assert r.status == 404, r


def test_dashboard_html_with_csp(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    r = api.get("/")
    assert r.status == 200, r
    assert (r.header("content-type") or "").startswith("text/html"), r.headers
    assert b"<html" in r.body.lower()
    csp = r.header("content-security-policy")
    assert csp and "default-src" in csp, "no Content-Security-Policy on /: %r" % r.headers
    # what the page loads is served too
    refs = re.findall(rb'(?:src|href)="([^"#:]+)"', r.body)
    assert refs, "the page references no script or stylesheet?"
    for ref in refs:
        path = "/" + ref.decode().lstrip("./")
        rr = api.get(path)
        assert rr.status == 200, "%s referenced by / answers %r" % (path, rr)


# --------------------------------------------------------------------------
# live changes while an application uses a port


class Streamer(threading.Thread):
    """Writes a seeded byte stream to an App in small chunks until stopped."""

    def __init__(self, a, seed=1):
        threading.Thread.__init__(self, daemon=True)
        self.a = a
        self.rnd = random.Random(seed)
        self.sent = bytearray()
        self.stop_ev = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop_ev.is_set():
                chunk = self.rnd.randbytes(self.rnd.randint(20, 200))
                self.a.write_all(chunk, timeout=5)
                self.sent += chunk
                time.sleep(0.02)
        except BaseException as e:   # reported by the test
            self.error = e

    def stop(self):
        self.stop_ev.set()
        self.join(10)


def test_live_changes_do_not_disturb_an_open_port(broker, gateway, mqtt, app):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["A"])
    txA, rxA, stA = (base(gw, "A") + t for t in ("/tx", "/rx", "/state"))
    c = mqtt([txA, stA])
    target = os.readlink(gw.link("A"))
    a = app(gw.link("A"), baud=115200)
    c.wait_json(stA, lambda s: s["open"] is True, timeout=5, what="A open:true")
    sync_rx(a, c, rxA)

    s = Streamer(a, seed=42)
    s.start()
    received = []   # rx bytes the application read back

    def still_flowing(step):
        n0 = len(c.concat(txA))
        wait_until(lambda: len(c.concat(txA)) > n0 or s.error, 3,
                   what="A's tx bytes to keep arriving after %s" % step)
        assert s.error is None, "the application's writes failed after %s: %r" % (step, s.error)
        msg = ("rx after %s;" % step).encode()
        c.publish(rxA, msg)
        got = a.read_exact(len(msg), timeout=5)
        received.append(got)
        assert got == msg, "rx to A after %s: %r" % (step, got)
        assert os.readlink(gw.link("A")) == target, "A's link changed after %s" % step

    try:
        still_flowing("start")
        r = api.patch("/api/v1/ports/A", {"frame": {"mode": "delim", "delim": "\u00aa",
                                                    "max": 333}})
        assert r.status == 200, r
        assert r.json()["state"]["open"] is True, "PATCH of frame closed A: %r" % r.json()
        still_flowing("PATCH A frame")
        framed_from = c.count()
        r = api.patch("/api/v1/ports/A", {"qos": 0})
        assert r.status == 200, r
        still_flowing("PATCH A qos")
        r = api.post("/api/v1/ports", {"name": "B"})
        assert r.status == 201, r
        still_flowing("POST B")
        r = api.patch("/api/v1/ports/B", {"frame": {"mode": "idle", "idle_ms": 5}, "qos": 0})
        assert r.status == 200, r
        still_flowing("PATCH B")
        r = api.delete("/api/v1/ports/B")
        assert r.status == 204, r
        wait_gone(gw.link("B"), timeout=2)
        still_flowing("DELETE B")
    finally:
        s.stop()
    assert s.error is None, "the application's writes failed: %r" % s.error
    # end the last delim frame (a pending frame waits for its delimiter)
    a.write_all(b"end\xaa")
    sent = bytes(s.sent) + b"end\xaa"
    got = c.wait_bytes(txA, len(sent), timeout=15)
    assert len(got) == len(sent), "%d bytes on A's tx, %d written" % (len(got), len(sent))
    if got != sent:
        i = next(i for i in range(len(sent)) if got[i] != sent[i])
        raise AssertionError("A's tx differs from what was written at offset %d of %d"
                             % (i, len(sent)))
    # after the frame change A's messages respect max 333
    big = [len(m.payload) for m in c.snapshot(txA, framed_from) if len(m.payload) > 333]
    assert not big, "A's tx messages over the new frame max: %r" % big[:5]
    p = api.get_port("A")
    assert p["frame"] == {"mode": "delim", "delim": "\u00aa", "max": 333} and p["qos"] == 0
    assert p["state"]["open"] is True
    assert links(gw) == {"A": target}
