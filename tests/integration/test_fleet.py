"""The fleet view (CONTRACT.md §5: GET /api/v1/fleet and websocket `fleet`
events) built from retained status/ports/state on the broker, remote send
and set through it, and the per-port traffic ring the gateway keeps
(GET /api/v1/ports/NAME/traffic, .csv, .txt)."""

import base64
import json

from api_helpers import assert_error, start_api_gateway, wsc  # noqa: F401
from helpers import STATE_KEYS, wait_until

GHOST_STATE = {"open": True, "baud": 38400, "data_bits": 8, "parity": "none", "stop_bits": 1,
               "flow": "none", "dtr": False, "rts": False, "cts": None, "dsr": None,
               "dcd": None, "ri": None, "tx_bytes": 5, "rx_bytes": 7, "dropped": 0}


def ghost_port(name, peer=None, kind="device"):
    return {"name": name, "kind": kind, "device": "/dev/ttyUSB0", "baud": 38400, "data_bits": 8,
            "parity": "none", "stop_bits": 1, "flow": "none", "dtr": False, "rts": False,
            "peer": peer, "follow": False, "frame": {"mode": "raw", "max": 4096}, "qos": 1,
            "enabled": True, "path": None}


def publish_ghost(client, gid, online, ports, states):
    client.publish("mqttty/%s/status" % gid, b"online" if online else b"offline", retain=True)
    client.publish("mqttty/%s/ports" % gid, json.dumps(ports).encode(), retain=True)
    for name, st in states.items():
        client.publish("mqttty/%s/%s/state" % (gid, name), json.dumps(st).encode(), retain=True)


def clear_ghost(client, gid, names):
    for t in ["status", "ports"] + ["%s/state" % n for n in names]:
        client.publish("mqttty/%s/%s" % (gid, t), b"", retain=True)


def by_id(fleet):
    return {g["id"]: g for g in fleet["gateways"]}


def api_gateway(gateway, broker, **kw):
    """A gateway with its API up and its broker connection made."""
    gw, api = start_api_gateway(gateway, broker, **kw)
    wait_until(lambda: api.status()["broker"]["connected"], 10.0, what="the broker connection")
    return gw, api


def test_first_get_waits_for_the_retained_view(broker, gateway, mqtt, gw_id):
    """A GET that starts the watch answers with every gateway already on the
    broker, offline ones too, ports carrying their state and peer."""
    m = mqtt()
    ghost = gw_id + "-far"
    publish_ghost(m, ghost, False, [ghost_port("r1", peer=gw_id + "/p1")], {"r1": GHOST_STATE})
    try:
        gw, api = api_gateway(gateway, broker, ports=["p1"])
        r = api.get("/api/v1/fleet")
        assert r.status == 200, r
        f = r.json()
        assert f["prefix"] == "mqttty" and f["self"] == gw_id
        gws = by_id(f)
        assert ghost in gws, "the retained gateway is in the first answer: %r" % list(gws)
        g = gws[ghost]
        assert g["online"] is False
        assert [p["name"] for p in g["ports"]] == ["r1"]
        p = g["ports"][0]
        assert p["peer"] == gw_id + "/p1"
        assert p["state"] == GHOST_STATE
        assert set(p) == set(ghost_port("r1")) | {"state"}, "port object keys are the API's"
        me = gws[gw_id]
        assert me["online"] is True
        assert me["ports"][0]["name"] == "p1"
        assert set(me["ports"][0]["state"]) == set(STATE_KEYS)
    finally:
        clear_ghost(m, ghost, ["r1"])


def test_changes_are_followed_and_told_on_the_websocket(broker, gateway, mqtt, wsc, gw_id):
    m = mqtt()
    ghost = gw_id + "-ws"
    publish_ghost(m, ghost, True, [ghost_port("r1")], {"r1": GHOST_STATE})
    try:
        gw, api = api_gateway(gateway, broker, ports=["p1"])
        assert ghost in by_id(api.get("/api/v1/fleet").json())
        w = wsc(api)
        w.wait_event(lambda e: e["type"] == "hello")
        # a state change: one coalesced "states" event, and the GET follows
        st2 = dict(GHOST_STATE, open=False, tx_bytes=99)
        m.publish("mqttty/%s/r1/state" % ghost, json.dumps(st2).encode(), retain=True)
        ev = w.wait_event(lambda e: e["type"] == "fleet" and e["op"] == "states" and any(
            s["gateway"] == ghost and s["name"] == "r1" and s["state"]["tx_bytes"] == 99
            for s in e["states"]), what="a fleet states event")
        assert all(set(s) == {"gateway", "name", "state"} for s in ev["states"])
        g = by_id(api.get("/api/v1/fleet").json())[ghost]
        assert g["ports"][0]["state"]["open"] is False
        # the gateway goes offline: a gateway event
        m.publish("mqttty/%s/status" % ghost, b"offline", retain=True)
        w.wait_event(lambda e: e["type"] == "fleet" and e["op"] == "gateway" and e["id"] == ghost
                     and e["online"] is False, what="a fleet gateway event")
        # everything cleared: the gateway is gone
        clear_ghost(m, ghost, ["r1"])
        w.wait_event(lambda e: e["type"] == "fleet" and e["op"] == "removed" and e["id"] == ghost,
                     what="a fleet removed event")
        wait_until(lambda: ghost not in by_id(api.get("/api/v1/fleet").json()), 5.0,
                   what="the cleared gateway to leave the view")
    finally:
        clear_ghost(m, ghost, ["r1"])


def test_garbage_on_the_fleet_topics_is_ignored(broker, gateway, mqtt, gw_id):
    m = mqtt()
    junk = gw_id + "-junk"
    gw, api = api_gateway(gateway, broker, ports=["p1"])
    assert api.get("/api/v1/fleet").status == 200
    m.publish("mqttty/%s/ports" % junk, b"{not json", retain=True)
    m.publish("mqttty/%s/p/state" % junk, b"[1,2]", retain=True)
    m.publish("mqttty/%s/status" % junk, b"maybe", retain=True)
    m.publish("mqttty/%s/ok/state" % (gw_id + "-fine"), json.dumps(GHOST_STATE).encode(),
              retain=True)
    try:
        wait_until(lambda: (gw_id + "-fine") in by_id(api.get("/api/v1/fleet").json()), 5.0,
                   what="the well-formed state")
        f = by_id(api.get("/api/v1/fleet").json())
        assert junk not in f, "nothing well-formed came from %s: %r" % (junk, f.get(junk))
        fine = f[gw_id + "-fine"]
        assert fine["online"] is None and fine["ports"] == [{"name": "ok", "state": GHOST_STATE}]
        assert gw.running()
    finally:
        for t in ("ports", "p/state", "status"):
            m.publish("mqttty/%s/%s" % (junk, t), b"", retain=True)
        m.publish("mqttty/%s/ok/state" % (gw_id + "-fine"), b"", retain=True)


def test_oversized_payloads_are_left_out(broker, gateway, mqtt, gw_id):
    """Whatever sits on the broker cannot take the watching gateway's memory:
    a state over 4 KiB is left out (and said in the log), others are kept."""
    m = mqtt()
    big = gw_id + "-big"
    gw, api = api_gateway(gateway, broker, ports=["p1"])
    assert api.get("/api/v1/fleet").status == 200
    huge = dict(GHOST_STATE, note="x" * 5000)
    m.publish("mqttty/%s/fat/state" % big, json.dumps(huge).encode(), retain=True)
    m.publish("mqttty/%s/thin/state" % big, json.dumps(GHOST_STATE).encode(), retain=True)
    try:
        wait_until(lambda: big in by_id(api.get("/api/v1/fleet").json()), 5.0,
                   what="the gateway with a small state")
        names = [p["name"] for p in by_id(api.get("/api/v1/fleet").json())[big]["ports"]]
        assert names == ["thin"]
        gw.wait_log("left out of the view")
    finally:
        for n in ("fat", "thin"):
            m.publish("mqttty/%s/%s/state" % (big, n), b"", retain=True)


def test_send_and_set_to_a_remote_port(broker, gateway, mqtt, gw_id):
    m = mqtt()
    far = gw_id + "-far"
    publish_ghost(m, far, True, [ghost_port("rig")], {"rig": GHOST_STATE})
    try:
        gw, api = api_gateway(gateway, broker, ports=["p1"])
        assert api.get("/api/v1/fleet").status == 200
        m.subscribe("mqttty/%s/rig/rx" % far)
        m.subscribe("mqttty/%s/rig/set" % far)
        data = bytes(range(256))
        r = api.post("/api/v1/fleet/send", {"gateway": far, "port": "rig",
                                             "data": base64.b64encode(data).decode()})
        assert r.status == 200, r
        assert r.json() == {"topic": "mqttty/%s/rig/rx" % far, "bytes": 256, "gateway_online": True}
        assert m.wait_bytes("mqttty/%s/rig/rx" % far, 256) == data
        r = api.post("/api/v1/fleet/set", {"gateway": far, "port": "rig", "set": {"rts": False}})
        assert r.status == 200, r
        got = m.wait_for(lambda x: True, topic="mqttty/%s/rig/set" % far)
        assert json.loads(got.payload) == {"rts": False}
        assert got.qos == 0
        # refused: wildcards in names, unknown set keys, wrong types, empty data
        assert_error(api.post("/api/v1/fleet/send", {"gateway": "+", "port": "rig", "data": "QQ=="}),
                     400, "gateway")
        assert_error(api.post("/api/v1/fleet/send", {"gateway": far, "port": "#", "data": "QQ=="}),
                     400, "port")
        assert_error(api.post("/api/v1/fleet/send", {"gateway": far, "port": "rig", "data": "!!"}),
                     400, "base64")
        assert_error(api.post("/api/v1/fleet/set", {"gateway": far, "port": "rig",
                                                    "set": {"power": 1}}), 400, "set")
        assert_error(api.post("/api/v1/fleet/set", {"gateway": far, "port": "rig",
                                                    "set": {"dtr": 1}}), 400, "type")
        # an offline gateway: the send is queued at the broker (said so), a set refused
        m.publish("mqttty/%s/status" % far, b"offline", retain=True)
        wait_until(lambda: by_id(api.get("/api/v1/fleet").json())[far]["online"] is False, 5.0,
                   what="the remote gateway offline")
        r = api.post("/api/v1/fleet/send", {"gateway": far, "port": "rig", "data": "QQ=="})
        assert r.status == 200 and r.json()["gateway_online"] is False, r
        assert_error(api.post("/api/v1/fleet/set", {"gateway": far, "port": "rig",
                                                    "set": {"dtr": True}}), 409, "offline")
    finally:
        clear_ghost(m, far, ["rig"])


def test_remote_traffic_is_followed_once_watched(broker, gateway, mqtt, gw_id):
    m = mqtt()
    far = gw_id + "-far"
    gw, api = api_gateway(gateway, broker, ports=["p1"])
    m.publish("mqttty/%s/rig/tx" % far, b"before the watch")
    r = api.post("/api/v1/fleet/watch", {"gateway": far, "port": "rig"})
    assert r.status == 200 and r.json()["messages"] == [], r

    def kept():
        return api.post("/api/v1/fleet/watch", {"gateway": far, "port": "rig"}).json()["messages"]

    # the subscription takes a moment to be in place: knock until it is
    def knocked():
        m.publish("mqttty/%s/rig/tx" % far, b"knock")
        return len(kept()) > 0
    wait_until(knocked, 5.0, interval=0.2, what="the watch's subscription")
    m.publish("mqttty/%s/rig/tx" % far, b"FA00014074000;")
    m.publish("mqttty/%s/rig/rx" % far, b"FA;")
    wait_until(lambda: base64.b64decode(kept()[-1]["data"]) == b"FA;", 5.0,
               what="the remote port's messages")
    msgs = [(x["dir"], base64.b64decode(x["data"])) for x in kept()]
    assert msgs[-2:] == [("tx", b"FA00014074000;"), ("rx", b"FA;")]
    assert all(d == b"knock" for _, d in msgs[:-2]), "nothing from before the watch: %r" % msgs


def test_traffic_ring_keeps_the_last_500(broker, gateway, app, gw_id):
    gw, api = api_gateway(gateway, broker, ports=["p1"])
    r = api.patch("/api/v1/ports/p1", {"frame": {"mode": "delim", "delim": "\n"}})
    assert r.status == 200, r
    a = app(gw.link("p1"))
    lines = [b"line %03d\n" % i for i in range(600)]
    for i in range(0, 600, 50):
        a.write_all(b"".join(lines[i:i + 50]))

    def ring():
        r = api.get("/api/v1/ports/p1/traffic")
        assert r.status == 200, r
        return r.json()
    wait_until(lambda: ring()["messages"] and
               base64.b64decode(ring()["messages"][-1]["data"]) == lines[-1], 10.0,
               what="the last line in the ring")
    j = ring()
    assert j["name"] == "p1" and j["keep"] == 500
    got = [base64.b64decode(x["data"]) for x in j["messages"]]
    assert got == lines[100:], "the last 500 messages, oldest first"
    assert all(x["dir"] == "tx" and x["src"] == "port" for x in j["messages"])
    ts = [x["ts"] for x in j["messages"]]
    assert ts == sorted(ts)
    summary = api.get("/api/v1/traffic").json()
    assert summary["p1"]["messages"] == 500 and summary["p1"]["last_ts"] == ts[-1]
    # sent from the API: kept with src "api"
    assert api.post("/api/v1/ports/p1/send", b"IF;\r", ctype="application/octet-stream").status == 204
    a.read_exact(4)
    wait_until(lambda: ring()["messages"][-1]["src"] == "api", 5.0, what="the API send in the ring")
    last = ring()["messages"][-1]
    assert last["dir"] == "rx" and base64.b64decode(last["data"]) == b"IF;\r"
    # downloads
    csv = api.get("/api/v1/ports/p1/traffic.csv")
    assert csv.status == 200 and csv.header("content-type").startswith("text/csv")
    rows = csv.body.decode().split("\r\n")
    assert rows[0] == "ts_ms,time_utc,dir,src,bytes,hex,text"
    assert len([x for x in rows[1:] if x]) == 500
    assert rows[-2].endswith(',rx,api,4,49 46 3B 0D,"IF;\\r"'), rows[-2]
    txt = api.get("/api/v1/ports/p1/traffic.txt")
    assert txt.status == 200 and txt.header("content-type").startswith("text/plain")
    assert txt.body.decode().rstrip("\n").split("\n")[-1].endswith("RX api      4 B  IF;\\r")
    # a removed port's ring goes with it
    assert api.delete("/api/v1/ports/p1").status == 204
    assert_error(api.get("/api/v1/ports/p1/traffic"), 404, "p1")
    assert api.post("/api/v1/ports", {"name": "p1"}).status == 201
    assert api.get("/api/v1/ports/p1/traffic").json()["messages"] == []


def test_set_route_changes_a_device_port_directly(broker, gateway):
    """POST /api/v1/ports/NAME/set: the dashboard's DTR/RTS and line
    settings for device ports, applied like BASE/set without the broker.
    The device here is a pseudo-terminal's slave side (a tty without modem
    lines)."""
    import os
    master, slave = os.openpty()
    try:
        gw, api = api_gateway(gateway, broker, ports=["p1"])
        r = api.post("/api/v1/ports", {"name": "dv", "kind": "device",
                                       "device": os.ttyname(slave), "baud": 9600})
        assert r.status == 201, r
        wait_until(lambda: api.get_port("dv")["state"]["open"], 5.0, what="the device open")
        r = api.post("/api/v1/ports/dv/set", {"baud": 19200, "stop_bits": 2})
        assert r.status == 200, r
        wait_until(lambda: api.get_port("dv")["state"]["baud"] == 19200, 5.0,
                   what="the new speed in the state")
        st = api.get_port("dv")["state"]
        assert st["stop_bits"] == 2
        assert api.get_port("dv")["baud"] == 9600, "set changes the line, not the stored settings"
        assert_error(api.post("/api/v1/ports/dv/set", {"power": 1}), 400, "power")
        assert_error(api.post("/api/v1/ports/dv/set", b"{}", ctype="text/plain"), 415)
        assert_error(api.post("/api/v1/ports/nope/set", {"rts": True}), 404, "nope")
        assert_error(api.post("/api/v1/ports/p1/set", {"rts": True}), 400, "pty")
    finally:
        os.close(master)
        os.close(slave)


def test_without_a_broker_the_first_get_still_answers(gateway):
    """No broker: the first GET waits a moment (the broker may still be
    coming) and then says so; a client that gives up meanwhile harms
    nothing."""
    import socket
    import time
    from helpers import free_port
    dead = free_port()   # nothing listens there
    gw, api = start_api_gateway(gateway, broker_uri="mqtt://127.0.0.1:%d" % dead, ports=["p1"])
    try:
        api.get("/api/v1/fleet", timeout=0.3)
    except (socket.timeout, TimeoutError, OSError):
        pass                                  # gave up while the answer waits
    t0 = time.monotonic()
    r = api.get("/api/v1/fleet", timeout=10.0)
    assert r.status == 200, r
    assert time.monotonic() - t0 < 6.0
    f = r.json()
    assert f["broker_connected"] is False and f["gateways"] == []
    assert api.status()["id"] == gw.id


def test_the_new_routes_need_credentials_once_a_password_is_set(broker, gateway):
    from api_helpers import Api, set_password
    from helpers import free_port
    hp = free_port()
    gw = gateway(["p1"], broker=broker, extra=["--http", "127.0.0.1:%d" % hp], start=False)
    token = set_password(gw.db, "fleet-secret-1", gw.workdir)
    gw.start()
    api = Api(hp).wait_up(gw)
    for method, path, body in [("GET", "/api/v1/fleet", None),
                               ("GET", "/api/v1/ports/p1/traffic", None),
                               ("GET", "/api/v1/ports/p1/traffic.csv", None),
                               ("POST", "/api/v1/ports/p1/set", {"rts": True}),
                               ("POST", "/api/v1/fleet/watch", {}),
                               ("POST", "/api/v1/fleet/send", {"gateway": "g", "port": "p", "data": "QQ=="}),
                               ("POST", "/api/v1/fleet/set", {"gateway": "g", "port": "p", "set": {"rts": True}})]:
        assert_error(api.request(method, path, body), 401, "log in")
    api.token = token
    assert api.get("/api/v1/fleet", timeout=10.0).status == 200
    assert api.get("/api/v1/ports/p1/traffic").status == 200
