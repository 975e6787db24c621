"""Bad input: malformed options exit 2 with one line naming the problem,
other start failures exit 1, and bad MQTT input never hurts a running
gateway (CONTRACT.md §1, §3)."""

import os
import random
import time

import pytest

from helpers import COUNTERS, free_port, sync_rx


def base_args(tmp_path, **over):
    a = {
        "--broker": "mqtt://127.0.0.1:%d" % free_port(),
        "--id": "badtest",
        "--db": str(tmp_path / "mqttty.db"),
        "--link-dir": str(tmp_path / "links"),
        "--http": "off",
    }
    a.update(over)
    out = ["serve"]
    for k, v in a.items():
        out += [k, v]
    return out


def one_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, "expected one line on stderr, got %d:\n%s" % (len(lines), err)
    return lines[0]


BAD_OPTIONS = [
    # (extra args, words of which one must appear in the message)
    (["--port", "../x"], ["../x", "port"]),
    (["--port", "a/b"], ["a/b", "port"]),
    (["--port", ""], ["port"]),
    (["--port", "n" * 33], ["n" * 33, "port"]),
    (["--port", "a+b"], ["a+b", "port"]),
    (["--port", "a#"], ["a#", "port"]),
    (["--port", ".hidden"], [".hidden", "port"]),
    (["--id", "a/b"], ["a/b", "id"]),
    (["--id", "a+b"], ["a+b", "id"]),
    (["--id", ""], ["id"]),
    (["--log-level", "loud"], ["loud", "log-level"]),
    (["--broker", "ftp://x"], ["ftp://x", "broker"]),
    (["--no-such-option"], ["no-such-option"]),
    (["--port"], ["port"]),  # missing value
]


@pytest.mark.parametrize("extra,names", BAD_OPTIONS,
                         ids=[" ".join(e) or "empty" for e, _ in BAD_OPTIONS])
def test_malformed_option_exits_2(run_gateway, tmp_path, extra, names):
    args = base_args(tmp_path)
    if extra[0] in args:   # replace the default value rather than repeat it
        i = args.index(extra[0])
        args[i:i + 2] = extra
    else:
        args += extra
    rc, out, err = run_gateway(args, timeout=10)
    assert rc is not None, "gateway kept running with %r (killed after 10 s)" % extra
    assert rc == 2, "exit status %s for %r, stderr:\n%s" % (rc, extra, err)
    line = one_line(err)
    assert any(n.lower() in line.lower() for n in names), \
        "message does not name %s: %r" % (" or ".join(repr(n) for n in names), line)
    assert not os.path.lexists(str(tmp_path / "links" / "x"))


@pytest.mark.parametrize("var,value,names", [
    ("MQTTTY_LOG_LEVEL", "loud", ["MQTTTY_LOG_LEVEL", "loud"]),
    ("MQTTTY_ID", "a/b", ["MQTTTY_ID", "a/b"]),
    ("MQTTTY_PORT", "good,../bad", ["MQTTTY_PORT", "../bad"]),
])
def test_malformed_environment_exits_2(run_gateway, tmp_path, var, value, names):
    args = [a for a in base_args(tmp_path)]
    if var == "MQTTTY_ID":
        i = args.index("--id")
        del args[i:i + 2]
    rc, out, err = run_gateway(args, env={var: value}, timeout=10)
    assert rc == 2, "exit status %s for %s=%s, stderr:\n%s" % (rc, var, value, err)
    line = one_line(err)
    assert any(n in line for n in names), "message does not name %s: %r" % (var, line)


def test_corrupt_db_exits_1_and_is_untouched(run_gateway, tmp_path):
    db = tmp_path / "corrupt.db"
    junk = random.Random(1).randbytes(8192)
    db.write_bytes(junk)
    rc, out, err = run_gateway(base_args(tmp_path, **{"--db": str(db)}), timeout=10)
    assert rc == 1, "exit status %s with a corrupt db, stderr:\n%s" % (rc, err)
    assert "corrupt.db" in err, "the message does not name the db file:\n%s" % err
    assert db.read_bytes() == junk, "the corrupt db file was modified"


def test_unusable_link_dir_exits_1(run_gateway, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"not a directory\n")
    links = blocker / "links"
    rc, out, err = run_gateway(base_args(tmp_path, **{"--link-dir": str(links)}) + ["--port", "p1"],
                               timeout=10)
    assert rc == 1, "exit status %s with link dir %s, stderr:\n%s" % (rc, links, err)
    assert str(blocker) in err, "the message does not name the link dir:\n%s" % err
    assert blocker.read_bytes() == b"not a directory\n"


def non_counters(s):
    return {k: v for k, v in s.items() if k not in COUNTERS}


BAD_SET = [
    b"{not json",
    b"",
    b"\xff\xfe\x00",
    b"[1, 2, 3]",
    b"null",
    b'"baud"',
    b'{"baud": "fast"}',
    b'{"baud": -1}',
    b'{"baud": 1e400}',
    b'{"stop_bits": 3}',
    b'{"parity": 7}',
    b'{"flow": "carrier-pigeon"}',
    b'{"dtr": true}',
    b'{"rts": true, "dtr": true}',
    b'{"cts": true, "dsr": true, "dcd": true, "ri": true}',
    b'{"break_ms": "long"}',
    b'{"unknown": 1}',
    b'{"baud": "9600"' + b" " * 70000 + b"}",
    b"{" * 10000 + b"}" * 10000,
]


def test_bad_set_leaves_pty_port_working(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    base = "mqttty/%s/p1" % gw.id
    st, tx, rx, setp = base + "/state", base + "/tx", base + "/rx", base + "/set"
    c = mqtt([st, tx])
    a = app(gw.link("p1"), baud=57600, stop_bits=2)
    before = c.wait_json(st, lambda s: s["open"] is True and s["baud"] == 57600, timeout=5,
                         what="state open at 57600")
    sync_rx(a, c, rx)
    mark = c.count()
    for p in BAD_SET:
        c.publish(setp, p, qos=1)
    time.sleep(1.5)
    assert gw.running(), "gateway died on bad set payloads"
    for m in c.snapshot(st, mark):
        s = m.json()
        assert non_counters(s) == non_counters(before), \
            "state changed after bad set: %r (was %r)" % (s, before)
        for line in ("dtr", "rts", "cts", "dsr", "dcd", "ri"):
            assert s[line] is None
    # Still passes bytes both ways.
    a.write_all(b"still here")
    assert c.wait_bytes(tx, 10, timeout=5) == b"still here"
    c.publish(rx, b"and back", qos=1)
    assert a.read_exact(8, timeout=5) == b"and back"


def test_oversized_rx_is_not_a_crash_and_not_silently_lost(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    base = "mqttty/%s/p1" % gw.id
    st, rx = base + "/state", base + "/rx"
    c = mqtt([st])
    a = app(gw.link("p1"), baud=115200)
    c.wait_json(st, lambda s: s["open"] is True, timeout=5)
    sync_rx(a, c, rx)
    time.sleep(1.2)
    s0 = c.latest(st).json()

    big = random.Random(3).randbytes(300 * 1024)
    c.publish(rx, big, qos=1, timeout=15)
    got = bytearray()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got += a.read_some(0.3)
        s = c.latest(st).json()
        if len(got) + (s["dropped"] - s0["dropped"]) >= len(big):
            break
    assert gw.running(), "gateway died on a 300 KB rx message"
    got += a.drain()
    s = c.wait_json(st, lambda s: len(got) + s["dropped"] - s0["dropped"] >= len(big),
                    timeout=3, what="delivered + dropped to account for %d bytes" % len(big))
    dropped = s["dropped"] - s0["dropped"]
    assert len(got) + dropped == len(big), \
        "delivered %d + dropped %d != published %d" % (len(got), dropped, len(big))
    assert bytes(got) == big[:len(got)], "the delivered part is not the start of the message"
    # And the port still works.
    c.publish(rx, b"small", qos=1)
    assert a.read_exact(5, timeout=5) == b"small"
