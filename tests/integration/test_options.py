"""Options given through the environment and the default subcommand
(CONTRACT.md §1)."""

import json
import os


def test_environment_configures_the_gateway(broker, gateway, mqtt, tmp_path, gw_id):
    links = str(tmp_path / "env-links")
    env = {
        "MQTTTY_BROKER": broker.uri,
        "MQTTTY_ID": gw_id,
        "MQTTTY_DB": str(tmp_path / "env.db"),
        "MQTTTY_LINK_DIR": links,
        "MQTTTY_HTTP": "off",
        "MQTTTY_PORT": "one,two",
        "MQTTTY_LOG_LEVEL": "debug",
    }
    # No option at all on the command line, and no subcommand: `serve`.
    gw = gateway(["one", "two"], broker=broker, env=env, link_dir=links, bare=True)
    assert os.path.exists(str(tmp_path / "env.db"))
    c = mqtt(["mqttty/%s/status" % gw_id, "mqttty/%s/ports" % gw_id])
    c.wait_for(lambda m: m.payload == b"online", topic="mqttty/%s/status" % gw_id, timeout=10,
               what="online under the id from MQTTTY_ID")
    m = c.wait_for(lambda m: bool(m.payload), topic="mqttty/%s/ports" % gw_id, timeout=5)
    assert [p["name"] for p in json.loads(m.payload)] == ["one", "two"]


def test_command_line_wins_over_environment(broker, gateway, mqtt, tmp_path, gw_id):
    env = {"MQTTTY_ID": "from-env", "MQTTTY_PORT": "envport", "MQTTTY_LOG_LEVEL": "error"}
    gw = gateway(["cliport"], broker=broker, env=env, wait_links=False)
    gw.wait_link("cliport", 10)
    c = mqtt(["mqttty/+/status"])
    c.wait_for(lambda m: m.topic == "mqttty/%s/status" % gw_id and m.payload == b"online",
               timeout=10, what="online under the --id value")
    assert not [m for m in c.snapshot() if m.topic == "mqttty/from-env/status"]
    assert not os.path.lexists(gw.link("envport")), "MQTTTY_PORT used although --port was given"
