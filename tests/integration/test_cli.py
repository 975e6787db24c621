"""`mqttty port list|add|set|rm` against a running gateway (CONTRACT.md §1,
§4): the real binary as a user runs it, checked through the API itself and
the port's link."""

import json
import os
import re
import shutil
import subprocess

import pytest

from cli_helpers import (api, parse_table, port_cmd, set_password, settings,
                         start_with_http)
from gateway_proc import wait_gone
from helpers import PORT_OBJECT_KEYS, STATE_KEYS, App, free_port, port_accepts, wait_until

NO_GATEWAY = ("mqttty port: no gateway answers on %s (is mqttty serve running? "
              "set --http or MQTTTY_HTTP)\n")
TITLES = ["NAME", "KIND", "PATH", "OPEN", "LINE", "FRAME", "TX", "RX", "DROPPED"]


def ok(r):
    assert r.rc == 0, r
    assert r.err == "", r
    return r


def test_add_list_set_rm(broker, gateway, tmp_path):
    gw, addr = start_with_http(gateway, ["p1"], broker=broker)

    # add, --http after the verb; a JSON value and an integer
    r = ok(port_cmd(tmp_path, "add", "p2", "qos=0", 'frame={"mode":"delim","delim":";"}',
                    "--http", addr))
    assert r.out == "p2: kind pty, path %s, open no, frame delim \";\", qos 0\n" % gw.link("p2")
    gw.wait_link("p2", 5)
    st, p2 = api(addr, "GET", "/api/v1/ports/p2")
    assert st == 200
    assert p2["frame"] == {"mode": "delim", "delim": ";", "max": 4096} and p2["qos"] == 0

    # list as a table, --http before the verb
    r = ok(port_cmd(tmp_path, "--http", addr, "list"))
    titles, rows = parse_table(r.out)
    assert titles == TITLES
    assert [row["NAME"] for row in rows] == ["p1", "p2"]
    assert rows[1] == {"NAME": "p2", "KIND": "pty", "PATH": gw.link("p2"), "OPEN": "no",
                       "LINE": "9600 --1", "FRAME": "delim", "TX": "0", "RX": "0",
                       "DROPPED": "0"}

    # an application opens p2 at 38400 with 2 stop bits; a pty knows no
    # data bits or parity
    a = App(gw.link("p2"), baud=38400, stop_bits=2)
    try:
        a.write_all(b"hello")

        def p2_row():
            rows = parse_table(ok(port_cmd(tmp_path, "list", "--http", addr)).out)[1]
            row = rows[1]
            return row if row["OPEN"] == "yes" and row["TX"] == "5" else None
        row = wait_until(p2_row, 10, interval=0.2, what="p2 open with 5 bytes sent in the list")
        assert row["LINE"] == "38400 --2", row
    finally:
        a.close()

    # list --json (address from MQTTTY_HTTP) is the API's array
    r = ok(port_cmd(tmp_path, "list", "--json", env={"MQTTTY_HTTP": addr}))
    got = json.loads(r.out)
    st, want = api(addr, "GET", "/api/v1/ports")
    assert st == 200
    assert [p["name"] for p in got] == ["p1", "p2"]
    for p in got:
        assert set(p) == PORT_OBJECT_KEYS | {"state"}
        assert set(p["state"]) == STATE_KEYS
    assert [settings(p) for p in got] == [settings(p) for p in want]
    assert "\n  " in r.out, "--json is not pretty-printed"

    # set: the API shows the change
    r = ok(port_cmd(tmp_path, "set", "p2", 'frame={"mode":"idle","idle_ms":20}', "qos=1",
                    "--http", addr))
    assert r.out.startswith("p2: kind pty, path %s, " % gw.link("p2")), r
    assert "frame idle 20 ms, qos 1" in r.out, r
    st, p2 = api(addr, "GET", "/api/v1/ports/p2")
    assert p2["frame"] == {"mode": "idle", "idle_ms": 20, "max": 4096} and p2["qos"] == 1

    # set key=null: back to the default; --json prints the port
    r = ok(port_cmd(tmp_path, "set", "p2", "frame=null", "--json", "--http", addr))
    assert json.loads(r.out)["frame"] == {"mode": "raw", "max": 4096}
    assert api(addr, "GET", "/api/v1/ports/p2")[1]["frame"] == {"mode": "raw", "max": 4096}

    # rm: nothing printed, link and port gone
    r = ok(port_cmd(tmp_path, "rm", "p2", "--http", addr))
    assert r.out == ""
    wait_gone(gw.link("p2"), 5)
    assert api(addr, "GET", "/api/v1/ports/p2")[0] == 404
    rows = parse_table(ok(port_cmd(tmp_path, "list", "--http", addr)).out)[1]
    assert [row["NAME"] for row in rows] == ["p1"]


def test_add_device_port_typed_values(broker, gateway, tmp_path):
    gw, addr = start_with_http(gateway, ["p1"], broker=broker)
    missing = str(tmp_path / "ttyNOPE")   # accepted, retried, open:false
    r = ok(port_cmd(tmp_path, "add", "d1", "kind=device", "device=" + missing, "baud=38400",
                    "parity=even", "rts=true", "enabled=true", "--http", addr))
    assert r.out == ("d1: kind device, device %s, 38400 8E1, flow none, open no, frame raw, "
                     "qos 1\n" % missing)
    p = api(addr, "GET", "/api/v1/ports/d1")[1]
    assert (p["kind"], p["device"], p["baud"], p["parity"], p["rts"], p["path"]) == \
        ("device", missing, 38400, "even", True, None)
    rows = parse_table(ok(port_cmd(tmp_path, "list", "--http", addr)).out)[1]
    d1 = [row for row in rows if row["NAME"] == "d1"][0]
    assert (d1["KIND"], d1["PATH"], d1["OPEN"], d1["LINE"]) == ("device", missing, "no", "-")


def test_bad_input_is_refused_and_changes_nothing(broker, gateway, tmp_path):
    gw, addr = start_with_http(gateway, ["p1"], broker=broker)
    before = settings(api(addr, "GET", "/api/v1/ports/p1")[1])

    r = port_cmd(tmp_path, "set", "p1", "qos=0", "bogus=1", "--http", addr)
    assert r.rc == 1 and r.out == "", r
    assert re.fullmatch(r"mqttty port: .*bogus.* \(HTTP 400\)\n", r.err), r

    r = port_cmd(tmp_path, "set", "p1", "qos=7", "--http", addr)
    assert r.rc == 1 and r.out == "", r
    assert re.fullmatch(r"mqttty port: .*qos.* \(HTTP 400\)\n", r.err), r

    r = port_cmd(tmp_path, "set", "p1", 'frame={"mode":"delim"}', "--http", addr)
    assert r.rc == 1 and "delim" in r.err and "(HTTP 400)" in r.err, r
    assert settings(api(addr, "GET", "/api/v1/ports/p1")[1]) == before

    # values are typed by the gateway's schema: caught before anything is sent
    r = port_cmd(tmp_path, "add", "p9", "baud=fast", "--http", addr)
    assert r.rc == 2 and "baud must be an integer" in r.err, r
    r = port_cmd(tmp_path, "set", "p1", "dtr=yes", "--http", addr)
    assert r.rc == 2 and "dtr must be true or false" in r.err, r
    assert api(addr, "GET", "/api/v1/ports/p9")[0] == 404
    assert not os.path.lexists(gw.link("p9"))

    r = port_cmd(tmp_path, "add", "p1", "--http", addr)
    assert r.rc == 1 and r.err.endswith("(HTTP 409)\n") and "p1" in r.err, r

    for verb in ("set", "rm"):
        args = [verb, "nope"] + (["qos=0"] if verb == "set" else [])
        r = port_cmd(tmp_path, *args, "--http", addr)
        assert r.rc == 1 and r.err.endswith("(HTTP 404)\n") and "nope" in r.err, r
    assert [p["name"] for p in api(addr, "GET", "/api/v1/ports")[1]] == ["p1"]


@pytest.mark.parametrize("args, needle", [
    (["frob"], "frob"),
    (["add"], "NAME"),
    (["rm"], "NAME"),
    (["rm", "a", "b"], '"b"'),
    (["set", "p1"], "key=value"),
    (["set", "p1", "qos"], '"qos"'),
    (["add", "p2", "=1"], '"=1"'),
    (["add", "p2", "frame={oops"], "frame"),
    (["list", "extra"], "extra"),
    (["list", "--bogus"], "--bogus"),
    (["list", "--http"], "--http"),
    (["list", "--http", "no-port-here"], "no-port-here"),
    ([], "list, add, set or rm"),
])
def test_usage_errors_exit_2(tmp_path, args, needle):
    # a free port: nothing may be asked of a gateway for a usage error
    r = port_cmd(tmp_path, *args, env={"MQTTTY_HTTP": "127.0.0.1:%d" % free_port()})
    assert r.rc == 2, r
    assert r.out == "" and r.err.count("\n") == 1 and r.err.startswith("mqttty port"), r
    assert needle in r.err, r
    assert "no gateway answers" not in r.err


def test_help(tmp_path):
    for args in (["--help"], ["add", "--help"]):
        r = ok(port_cmd(tmp_path, *args))
        assert r.out.startswith("usage: mqttty port list"), r
        for verb in ("add", "set", "rm", "--http", "MQTTTY_TOKEN"):
            assert verb in r.out


def test_no_gateway_answers(tmp_path):
    hp = free_port()
    addr = "127.0.0.1:%d" % hp
    for args, env in ((["list", "--http", addr], None),
                      (["add", "p1", "qos=0"], {"MQTTTY_HTTP": "http://%s/" % addr}),
                      (["rm", "p1"], {"MQTTTY_HTTP": addr})):
        r = port_cmd(tmp_path, *args, env=env)
        assert (r.rc, r.out, r.err) == (1, "", NO_GATEWAY % addr), r
    # the default address, unless this machine happens to serve something there
    if not port_accepts(8080):
        r = port_cmd(tmp_path, "list")
        assert (r.rc, r.err) == (1, NO_GATEWAY % "127.0.0.1:8080"), r


def test_token_needed_once_a_password_is_set(broker, gateway, tmp_path):
    db = tmp_path / "auth.db"
    token = set_password(tmp_path, db)
    gw, addr = start_with_http(gateway, ["p1"], broker=broker, db=str(db))

    r = port_cmd(tmp_path, "list", "--http", addr)
    assert r.rc == 1 and r.out == "", r
    assert "MQTTTY_TOKEN" in r.err and "mqttty passwd" in r.err and "401" in r.err, r

    r = port_cmd(tmp_path, "add", "p2", "--http", addr, env={"MQTTTY_TOKEN": "0" * 64})
    assert r.rc == 1 and "MQTTTY_TOKEN" in r.err and "401" in r.err, r
    assert api(addr, "GET", "/api/v1/ports/p2", token=token)[0] == 404

    env = {"MQTTTY_TOKEN": token}
    rows = parse_table(ok(port_cmd(tmp_path, "list", "--http", addr, env=env)).out)[1]
    assert [row["NAME"] for row in rows] == ["p1"]
    ok(port_cmd(tmp_path, "add", "p2", "qos=0", "--http", addr, env=env))
    gw.wait_link("p2", 5)
    ok(port_cmd(tmp_path, "set", "p2", "qos=1", "--http", addr, env=env))
    assert api(addr, "GET", "/api/v1/ports/p2", token=token)[1]["qos"] == 1
    assert ok(port_cmd(tmp_path, "rm", "p2", "--http", addr, env=env)).out == ""
    wait_gone(gw.link("p2"), 5)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_gateway(broker, gateway, tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=30)
    gw, addr = start_with_http(gateway, ["p1"], broker=broker,
                               extra=["--tls-cert", cert, "--tls-key", key])

    # self-signed: refused unless --insecure
    r = port_cmd(tmp_path, "list", "--tls", "--http", addr)
    assert r.rc == 1 and "TLS" in r.err and "--insecure" in r.err, r
    rows = parse_table(ok(port_cmd(tmp_path, "list", "--tls", "--insecure",
                                   "--http", addr)).out)[1]
    assert [row["NAME"] for row in rows] == ["p1"]
    env = {"MQTTTY_HTTP": "https://" + addr}
    ok(port_cmd(tmp_path, "add", "p2", "qos=0", "--insecure", env=env))
    gw.wait_link("p2", 5)
    r = ok(port_cmd(tmp_path, "set", "p2", "qos=1", "--insecure", env=env))
    assert "qos 1" in r.out
    ok(port_cmd(tmp_path, "rm", "p2", "--insecure", env=env))
    wait_gone(gw.link("p2"), 5)

    # plain http to an https gateway: no answer, and a hint
    r = port_cmd(tmp_path, "list", "--http", addr)
    assert r.rc == 1 and "--tls" in r.err, r
