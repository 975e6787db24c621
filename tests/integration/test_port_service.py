"""One owner for a port's life (issue 9): a change through the API is
applied live exactly as it would be after a restart, the field table is
served as the schema, and bad strings change nothing (CONTRACT §4, §5)."""

import json
import time

from api_helpers import assert_error, start_api_gateway
from helpers import PORT_OBJECT_KEYS, sync_rx


def base(gw_id, name):
    return "mqttty/%s/%s" % (gw_id, name)


def read_until(app, want, timeout=5.0):
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and want not in got:
        got += app.read_some(0.2)
    return got


# --------------------------------------------------------------------------
# live PATCH of the peer: no restart needed


def test_patch_peer_is_applied_live(broker, gateway, mqtt, app):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["vp"])
    a = app(gw.link("vp"))
    c = mqtt([])
    sync_rx(a, c, base(gw.id, "vp") + "/rx")     # the gateway is up and subscribed

    r = api.patch("/api/v1/ports/vp", {"peer": "gw2/B"})
    assert r.status == 200, r
    assert r.json()["peer"] == "gw2/B"
    # the peer's tx is this port's rx, at once: probe until the
    # subscription is in place (it is asynchronous), then check exact bytes
    sync_rx(a, c, base("gw2", "B") + "/tx")
    c.publish(base("gw2", "B") + "/tx", b"FA00014074000;")
    got = read_until(a, b"FA00014074000;")
    assert got == b"FA00014074000;", "peer tx after a live PATCH: %r" % got

    # a new peer replaces the old one: the old peer's tx no longer arrives
    r = api.patch("/api/v1/ports/vp", {"peer": "gw3/C"})
    assert r.status == 200, r
    sync_rx(a, c, base("gw3", "C") + "/tx")
    c.publish(base("gw2", "B") + "/tx", b"OLD")
    c.publish(base("gw3", "C") + "/tx", b"NEW")
    got = read_until(a, b"NEW")
    assert got == b"NEW", "only the new peer's bytes may arrive, got %r" % got

    # and null removes it
    r = api.patch("/api/v1/ports/vp", {"peer": None})
    assert r.status == 200 and r.json()["peer"] is None, r
    sync_rx(a, c, base(gw.id, "vp") + "/rx")
    c.publish(base("gw3", "C") + "/tx", b"GONE")
    c.publish(base(gw.id, "vp") + "/rx", b"MINE")
    got = read_until(a, b"MINE")
    assert got == b"MINE", "a removed peer's bytes arrived: %r" % got
    a.close()


def test_patch_qos_keeps_rx_flowing(broker, gateway, mqtt, app):
    """A QoS change resubscribes without a gap: rx published right after
    the PATCH answered is delivered, in order."""
    gw, api = start_api_gateway(gateway, broker=broker, ports=["q"])
    a = app(gw.link("q"))
    c = mqtt([])
    rx = base(gw.id, "q") + "/rx"
    sync_rx(a, c, rx)
    for qos in (0, 1, 0):
        r = api.patch("/api/v1/ports/q", {"qos": qos})
        assert r.status == 200 and r.json()["qos"] == qos, r
        msgs = [b"<%d:%d>" % (qos, i) for i in range(20)]
        for m in msgs:
            c.publish(rx, m, qos=1)
        want = b"".join(msgs)
        got = read_until(a, want)
        assert got == want, "rx around a qos change: %r" % got
    a.close()


# --------------------------------------------------------------------------
# the schema


def test_schema_describes_every_setting(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=[])
    r = api.get("/api/v1/schema")
    assert r.status == 200, r
    schema = r.json()
    settings = PORT_OBJECT_KEYS - {"path"}
    assert set(schema) == settings, "schema fields %s" % sorted(schema)
    # the defaults are those a new port gets
    created = api.post("/api/v1/ports", {"name": "fresh"}).json()
    for name, f in schema.items():
        for k in ("type", "default", "kinds", "reopens"):
            assert k in f, "%s lacks %s: %r" % (name, k, f)
        if name not in ("name",):
            assert f["default"] == created[name], \
                "%s: schema default %r, a new port has %r" % (name, f["default"], created[name])
    assert schema["parity"]["values"] == ["none", "even", "odd", "mark", "space"]
    assert schema["flow"]["values"] == ["none", "rtscts", "xonxoff"]
    assert (schema["qos"]["min"], schema["qos"]["max"]) == (0, 1)
    assert "device" in schema["baud"]["kinds"] and "pty" not in schema["baud"]["kinds"]
    assert schema["baud"]["reopens"] is True
    assert schema["peer"]["reopens"] is False
    assert schema["name"]["fixed"] is True and schema["kind"]["fixed"] is True


def test_status_reports_loop_lag_and_clients(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    time.sleep(2.3)     # at least two samples of the 1 s timer
    s = api.status()
    lag = s["loop_lag_ms"]
    assert set(lag) >= {"p99", "max"}, s
    assert 0 <= lag["p99"] <= lag["max"] < 1000, "an idle loop lags less than its timer: %r" % lag
    assert s["websocket_clients"] == 0, s


# --------------------------------------------------------------------------
# U+0000 inside a string (issue 10, contract §5)

NUL_BODIES = [
    ("POST", "/api/v1/ports", {"name": "a\u0000b"}, "name"),
    ("POST", "/api/v1/ports", {"name": "nk", "kind": "pty\u0000x"}, "kind"),
    ("POST", "/api/v1/ports", {"name": "np", "parity": "none\u0000"}, "parity"),
    ("POST", "/api/v1/ports", {"name": "nf", "flow": "none\u0000x"}, "flow"),
    ("POST", "/api/v1/ports", {"name": "nq", "peer": "gw/x\u0000y"}, "peer"),
    ("POST", "/api/v1/ports", {"name": "nd", "kind": "device",
                               "device": "/dev/ttyS0\u0000x"}, "device"),
    ("PATCH", "/api/v1/ports/keep", {"name": "keep\u0000zz"}, "name"),
    ("PATCH", "/api/v1/ports/keep", {"peer": "gw/other\u0000"}, "peer"),
]


def test_nul_in_strings_is_refused_and_nothing_stored(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["keep"])
    before = api.get("/api/v1/ports").json()
    for method, path, body, field in NUL_BODIES:
        raw = json.dumps(body).encode()
        r = api.request(method, path, raw, ctype="application/json")
        assert_error(r, 400, field)
    after = api.get("/api/v1/ports").json()
    strip = lambda a: [{k: v for k, v in p.items() if k != "state"} for p in a]  # noqa: E731
    assert strip(after) == strip(before), "a refused body changed the ports"
    # the frame delimiter is the one place U+0000 is a value: the byte 0x00
    r = api.patch("/api/v1/ports/keep", {"frame": {"mode": "delim", "delim": "\u0000"}})
    assert r.status == 200 and r.json()["frame"]["delim"] == "\u0000", r



# --------------------------------------------------------------------------
# a port that cannot work says why (issue 13: a missing device is not an
# idle port)


def test_missing_device_has_a_visible_reason(broker, gateway, tmp_path):
    from cable_helpers import FakeDevice
    gw, api = start_api_gateway(gateway, broker=broker, ports=[])
    link = tmp_path / "ttyGONE0"
    r = api.post("/api/v1/ports", {"name": "rig", "kind": "device", "device": str(link),
                                   "baud": 38400})
    assert r.status == 201, r
    p = r.json()
    assert p["state"]["open"] is False and p["baud"] == 38400, p
    s = api.status()
    assert "rig" in s["problems"], s
    assert str(link) in s["problems"]["rig"] and "retrying" in s["problems"]["rig"], s
    # plugged in: the reason goes
    dev = FakeDevice(link).plug()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "rig" in api.status()["problems"]:
            time.sleep(0.1)
        assert "rig" not in api.status()["problems"], api.status()
        assert api.get("/api/v1/ports/rig").json()["state"]["open"] is True
    finally:
        dev.close()
