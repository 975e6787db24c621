"""Home Assistant MQTT discovery (CONTRACT.md §5), against a real Mosquitto:
the retained configs parse, name topics that exist, and their templates,
rendered with Jinja2 as Home Assistant does (`value_json`), give the right
values from a real `state` message; a switch's command is a `set` the
gateway takes; deleting a port clears its configs, `HAPREFIX/status`
online re-sends them, and a run without discovery clears what an earlier
run announced."""

import json
import os
import re
import time

import jinja2
import pytest

from api_helpers import start_api_gateway
from cable_helpers import FakeDevice
from helpers import MqttClient, wait_until

PTY_ENTITIES = {("binary_sensor", "open"), ("sensor", "baud"), ("sensor", "tx_bytes"),
                ("sensor", "rx_bytes"), ("sensor", "dropped")}
DEVICE_ENTITIES = PTY_ENTITIES | {("switch", "dtr"), ("switch", "rts")}
HA_ID = re.compile(r"^[A-Za-z0-9_-]+$")
SET_LINE = re.compile(r"\bport dev\b.*\bset\b", re.I)

JINJA = jinja2.Environment()


def render(template, state):
    """What Home Assistant shows for a state message (value_json)."""
    return JINJA.from_string(template).render(value_json=state).strip()


def config_filter(gw_id, prefix="homeassistant"):
    return "%s/+/mqttty-%s/+/config" % (prefix, gw_id)


def retained_configs(broker, gw_id, prefix="homeassistant", settle=0.5):
    """{topic: parsed config} of the retained configs the broker holds now
    for this gateway (a fresh subscriber: only retained copies arrive)."""
    c = MqttClient(broker.port).connect()
    try:
        c.subscribe(config_filter(gw_id, prefix))
        c.subscribe("mqttty/%s/#" % gw_id)
        # our own probe marks the end of the retained burst
        probe = "mqttty/%s/zz-probe/%s" % (gw_id, os.urandom(3).hex())
        c.publish(probe, b"x")
        c.wait_for(lambda m: True, topic=probe, timeout=5, what="the probe")
        msgs = c.snapshot()
    finally:
        c.disconnect()
    out = {}
    for m in msgs:
        if m.topic.endswith("/config") and m.retain and m.payload:
            out[m.topic] = json.loads(m.payload.decode("utf-8"))
    others = {m.topic: m.payload for m in msgs if m.retain and not m.topic.endswith("/config")}
    return out, others


def entities(configs, port):
    """{(component, key): (topic, config)} of one port's entities."""
    out = {}
    for t, c in configs.items():
        if c["state_topic"].split("/")[-2] != port:
            continue
        component = t.split("/")[-4]
        key = c["unique_id"].rsplit(":", 1)[1]
        out[(component, key)] = (t, c)
    return out


def wait_configs(broker, gw_id, want, prefix="homeassistant", timeout=10):
    """Wait until the broker holds exactly `want` retained configs."""
    got = {}

    def ok():
        nonlocal got
        got, _ = retained_configs(broker, gw_id, prefix)
        return len(got) == want
    try:
        wait_until(ok, timeout, interval=0.2, what="%d retained configs" % want)
    except AssertionError:
        raise AssertionError("%d retained configs, wanted %d: %s" % (
            len(got), want, sorted(got)))
    return got


@pytest.fixture
def fake_device(tmp_path):
    d = FakeDevice(str(tmp_path / "ttyFAKE0")).plug()
    yield d
    d.close()


def ha_gateway(gateway, broker, fake_device, extra=()):
    gw, api = start_api_gateway(gateway, broker, ports=("vp", "gps.1_a"),
                                extra=["--ha-discovery"] + list(extra))
    r = api.post("/api/v1/ports", {"name": "dev", "kind": "device", "device": fake_device.link})
    assert r.status == 201, r
    return gw, api


def test_configs_parse_name_real_topics_and_templates_render(broker, gateway, mqtt, app,
                                                             fake_device):
    gw, api = ha_gateway(gateway, broker, fake_device)
    version = api.status()["version"]
    configs = wait_configs(broker, gw.id, 2 * len(PTY_ENTITIES) + len(DEVICE_ENTITIES))

    # every config: HA's topic shape, a unique id, one device, availability
    uids = set()
    device = None
    for t, c in configs.items():
        parts = t.split("/")
        assert len(parts) == 5 and parts[0] == "homeassistant" and parts[4] == "config", t
        assert parts[1] in ("binary_sensor", "sensor", "switch"), t
        assert parts[2] == "mqttty-" + gw.id and HA_ID.match(parts[3]), t
        assert c["unique_id"] not in uids, "unique_id used twice: %s" % c["unique_id"]
        uids.add(c["unique_id"])
        device = device or c["device"]
        assert c["device"] == device, "one device per gateway: %r vs %r" % (c["device"], device)
        assert c["origin"]["name"] == "mqttty" and c["origin"]["sw_version"] == version
        assert c["availability"] == [{"topic": "mqttty/%s/status" % gw.id,
                                      "payload_available": "online",
                                      "payload_not_available": "offline"}], c
        assert c["name"].split(" ")[0] in ("vp", "gps.1_a", "dev"), c["name"]
    assert gw.id in device["identifiers"][0] and gw.id in device["name"]
    assert device["sw_version"] == version and device["model"]

    # the topics they name exist: the retained state of each port, and the
    # gateway's status saying online
    _, retained = retained_configs(broker, gw.id)
    assert retained.get("mqttty/%s/status" % gw.id) == b"online"
    for c in configs.values():
        assert c["state_topic"] in retained, "no retained message on %s" % c["state_topic"]

    assert set(entities(configs, "vp")) == PTY_ENTITIES
    assert set(entities(configs, "gps.1_a")) == PTY_ENTITIES
    dev = entities(configs, "dev")
    assert set(dev) == DEVICE_ENTITIES
    for (component, key), (t, c) in dev.items():
        if component == "sensor" and key != "baud":
            assert c["state_class"] == "total_increasing", c
    for key in ("dtr", "rts"):
        c = dev[("switch", key)][1]
        assert c["command_topic"] == "mqttty/%s/dev/set" % gw.id
        assert json.loads(c["payload_on"]) == {key: True}
        assert json.loads(c["payload_off"]) == {key: False}
        assert c.get("retain") is False

    # a real state message: an application on vp at 38400 that wrote bytes,
    # and some rx it got
    mon = mqtt(["mqttty/%s/vp/state" % gw.id])
    a = app(gw.link("vp"), baud=38400)
    a.write_all(b"hello, home assistant")
    mon.publish("mqttty/%s/vp/rx" % gw.id, b"0123")
    wait_until(lambda: a.read_some(0.2), 5, what="rx at the application")
    state = mon.wait_json("mqttty/%s/vp/state" % gw.id,
                          lambda s: s["open"] and s["baud"] == 38400 and s["tx_bytes"] == 21
                          and s["rx_bytes"] >= 4, timeout=5)
    vp = entities(configs, "vp")
    assert render(vp[("binary_sensor", "open")][1]["value_template"], state) == "ON"
    assert render(vp[("sensor", "baud")][1]["value_template"], state) == "38400"
    assert render(vp[("sensor", "tx_bytes")][1]["value_template"], state) == "21"
    assert render(vp[("sensor", "rx_bytes")][1]["value_template"], state) == str(state["rx_bytes"])
    assert render(vp[("sensor", "dropped")][1]["value_template"], state) == str(state["dropped"])

    # the device's real state: a pty has no modem lines, so DTR/RTS are
    # null and the switch is unknown (HA's "None"), never a guess
    dstate = json.loads(retained["mqttty/%s/dev/state" % gw.id])
    assert dstate["open"] is True and dstate["dtr"] is None
    for key in ("dtr", "rts"):
        c = dev[("switch", key)][1]
        assert render(c["value_template"], dstate) == "None"
        # on a device with modem lines the same template gives state_on/off
        assert render(c["value_template"], dict(dstate, **{key: True})) == c["state_on"]
        assert render(c["value_template"], dict(dstate, **{key: False})) == c["state_off"]
    assert render(dev[("binary_sensor", "open")][1]["value_template"], dstate) == "ON"
    assert render(dev[("sensor", "baud")][1]["value_template"], dstate) == "9600"
    # a closed pty: open OFF
    gstate = json.loads(retained["mqttty/%s/gps.1_a/state" % gw.id])
    gps = entities(configs, "gps.1_a")
    assert render(gps[("binary_sensor", "open")][1]["value_template"], gstate) == "OFF"


def test_switch_commands_are_sets_the_gateway_takes(broker, gateway, mqtt, fake_device):
    gw, api = ha_gateway(gateway, broker, fake_device)
    configs = wait_configs(broker, gw.id, 2 * len(PTY_ENTITIES) + len(DEVICE_ENTITIES))
    dev = entities(configs, "dev")
    pub = mqtt()
    for key in ("dtr", "rts"):
        c = dev[("switch", key)][1]
        pub.publish(c["command_topic"], c["payload_on"].encode(), qos=c.get("qos", 0))
        pub.publish(c["command_topic"], c["payload_off"].encode(), qos=c.get("qos", 0))
    # the fake device is a pty, which has no modem lines: each switch
    # command reaches the gateway as a valid set on that topic and is
    # refused whole, saying why; a malformed one is refused as malformed
    pub.publish(dev[("switch", "dtr")][1]["command_topic"], b'{"dtr":"yes"}', qos=0)

    def set_lines():
        return [x for x in gw.log_text().splitlines() if "port dev: set " in x]
    wait_until(lambda: len(set_lines()) >= 5, 5, what="five set lines in the gateway log")
    lines = set_lines()
    assert len(lines) == 5, lines
    assert all("no modem lines" in x for x in lines[:4]), lines
    assert "dtr has an invalid value" in lines[4], lines
    assert api.get("/api/v1/ports/dev").json()["state"]["open"] is True
    assert gw.running()


def test_delete_clears_and_ha_online_resends(broker, gateway, mqtt, fake_device):
    gw, api = ha_gateway(gateway, broker, fake_device, extra=["--ha-prefix", "site/ha"])
    n_all = 2 * len(PTY_ENTITIES) + len(DEVICE_ENTITIES)
    configs = wait_configs(broker, gw.id, n_all, prefix="site/ha")
    assert all(t.startswith("site/ha/") for t in configs)

    watch = mqtt([config_filter(gw.id, "site/ha")])
    watch.wait_for(lambda m: m.retain, timeout=5, what="retained configs")
    mark = watch.count()
    # Home Assistant's birth message on the custom prefix: everything again
    watch.publish("site/ha/status", b"online", qos=0)
    watch.wait_for(lambda m: len({x.topic for x in watch.snapshot(start=mark)
                                  if x.payload and not x.retain}) == n_all,
                   start=mark, timeout=5, what="all %d configs sent again" % n_all)
    # "offline" (HA going away) sends nothing
    mark = watch.count()
    watch.publish("site/ha/status", b"offline", qos=0)
    watch.publish("homeassistant/status", b"online", qos=0)   # not our prefix
    watch.publish("mqttty/%s/zz-probe" % gw.id, b"x")
    time.sleep(0.5)
    assert watch.snapshot(start=mark) == [], "configs sent for a status other than online"

    # deleting a port clears its configs (empty retained), not the others'
    mark = watch.count()
    assert api.delete("/api/v1/ports/vp").status == 204
    cleared = watch.wait_for(
        lambda m: len({x.topic for x in watch.snapshot(start=mark) if not x.payload})
        == len(PTY_ENTITIES), start=mark, timeout=5, what="vp's configs cleared")
    assert cleared is not None
    left = wait_configs(broker, gw.id, n_all - len(PTY_ENTITIES), prefix="site/ha")
    assert not entities(left, "vp") and set(entities(left, "dev")) == DEVICE_ENTITIES


def test_a_run_without_discovery_clears_the_earlier_ones(broker, gateway):
    gw = gateway(["a1", "b_2"], broker=broker, extra=["--ha-discovery"])
    wait_configs(broker, gw.id, 2 * len(PTY_ENTITIES))
    assert gw.terminate() == 0
    # a port deleted while the gateway was down: started again with only
    # a1 in a fresh db, discovery on -> b_2's configs are swept
    gw.db = os.path.join(gw.workdir, "second.db")
    gw.start(ports=["a1"])
    left = wait_configs(broker, gw.id, len(PTY_ENTITIES))
    assert set(entities(left, "a1")) == PTY_ENTITIES
    assert gw.terminate() == 0
    # discovery off: everything this gateway announced goes
    gw.start(ports=["a1"], extra=[])
    wait_configs(broker, gw.id, 0)
    assert gw.running()


def test_discovery_option_from_the_environment(broker, gateway, run_gateway):
    gw = gateway(["e1"], broker=broker, env={"MQTTTY_HA_DISCOVERY": "1"})
    wait_configs(broker, gw.id, len(PTY_ENTITIES))
    rc, out, err = run_gateway(["serve", "--http", "off"], env={"MQTTTY_HA_DISCOVERY": "maybe"})
    assert rc == 2 and "MQTTTY_HA_DISCOVERY" in err, (rc, err)
    rc, out, err = run_gateway(["serve", "--http", "off", "--ha-prefix", "a/#"])
    assert rc == 2 and "--ha-prefix" in err, (rc, err)
