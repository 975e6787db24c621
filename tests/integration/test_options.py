"""Options given through the environment and the default subcommand
(CONTRACT.md §1)."""

import grp
import json
import os
import socket
import stat

import pytest


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
    gateway(["one", "two"], broker=broker, env=env, link_dir=links, bare=True)
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


def test_prefix_option(broker, gateway, mqtt):
    gw = gateway(["p1"], broker=broker, extra=["--prefix", "site/lab"])
    c = mqtt(["site/lab/%s/status" % gw.id, "site/lab/%s/p1/tx" % gw.id, "mqttty/#"])
    c.wait_for(lambda m: m.payload == b"online", topic="site/lab/%s/status" % gw.id,
               timeout=10, what="online under the prefix")
    a = app_open(gw.link("p1"))
    try:
        os.write(a, b"prefixed")
        got = c.wait_bytes("site/lab/%s/p1/tx" % gw.id, 8, timeout=5)
        assert got == b"prefixed"
    finally:
        os.close(a)
    assert not [m for m in c.snapshot() if m.topic.startswith("mqttty/")]


def app_open(path):
    return os.open(path, os.O_RDWR | os.O_NOCTTY)


def test_default_id_is_short_host_name(broker, gateway, mqtt, tmp_path):
    short = socket.gethostname().split(".")[0]
    c = mqtt(["mqttty/+/status"])
    gw = gateway(["p1"], broker=broker, start=False)
    gw.id = None
    gw.argv = _argv_without(gw.argv, "--id")
    gw.start()
    m = c.wait_for(lambda m: m.payload == b"online", timeout=10, what="online")
    assert m.topic == "mqttty/%s/status" % short


def _argv_without(argv_fn, opt):
    def f(ports=None, extra=None):
        a = argv_fn(ports, extra)
        i = a.index(opt)
        del a[i:i + 2]
        return a
    return f


@pytest.mark.parametrize("var", ["RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"])
def test_default_link_dir(broker, gateway, tmp_path, var):
    rt = tmp_path / "rt"
    rt.mkdir()
    env = {var: str(rt)}
    if var == "XDG_RUNTIME_DIR":
        expect = rt / "mqttty"
    else:
        expect = rt
        env["XDG_RUNTIME_DIR"] = str(tmp_path / "not-this-one")
    gw = gateway(["p1"], broker=broker, env=env, start=False, link_dir=str(expect))
    gw.argv = _argv_without(gw.argv, "--link-dir")
    gw.start(timeout=10)
    assert os.path.realpath(str(expect / "p1")).startswith("/dev/")
    assert gw.terminate() == 0
    assert not os.path.lexists(str(expect / "p1"))


def test_pty_group_and_mode(broker, gateway):
    gw = gateway(["plain"], broker=broker)
    st = os.stat(gw.link("plain"))
    assert stat.S_IMODE(st.st_mode) == 0o660, "mode %o, want 0660" % stat.S_IMODE(st.st_mode)
    assert st.st_gid == os.getegid(), "group %d, want the gateway's %d" % (st.st_gid, os.getegid())
    assert gw.terminate() == 0

    if os.geteuid() == 0:
        try:
            group = grp.getgrnam("dialout")
        except KeyError:
            group = grp.getgrnam("nogroup")
    else:
        group = grp.getgrgid(os.getegid())
    gw2 = gateway(["grouped"], broker=broker, extra=["--group", group.gr_name])
    st = os.stat(gw2.link("grouped"))
    assert st.st_gid == group.gr_gid, "group %d, want %s (%d)" % (st.st_gid, group.gr_name,
                                                                 group.gr_gid)
    assert stat.S_IMODE(st.st_mode) == 0o660


def test_help_and_version(run_gateway):
    for arg in ("--help", "--version"):
        rc, out, err = run_gateway([arg], timeout=5)
        assert rc == 0, "%s: exit %s, stderr %r" % (arg, rc, err)
        assert out.strip(), "%s printed nothing on stdout" % arg
