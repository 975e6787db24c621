"""Start, stop, crash and restart of the gateway; its links and the
retained status (CONTRACT.md §1–§3)."""

import json
import os
import signal
import time

from gateway_proc import wait_gone


def test_sigterm_publishes_offline_and_removes_links(broker, gateway, mqtt, app):
    gw = gateway(["p1", "p2"], broker=broker)
    status = "mqttty/%s/status" % gw.id
    st = "mqttty/%s/p1/state" % gw.id
    c = mqtt([status, st])
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10, what="online")
    a = app(gw.link("p1"))  # an application still holds a port at shutdown
    c.wait_json(st, lambda s: s["open"] is True, timeout=5)
    mark = c.count()

    t0 = time.monotonic()
    rc = gw.terminate(timeout=5)
    took = time.monotonic() - t0
    assert rc == 0, "exit status %s on SIGTERM (took %.1f s)" % (rc, took)
    c.wait_for(lambda m: m.payload == b"offline", topic=status, start=mark, timeout=3,
               what="status offline")
    for n in ("p1", "p2"):
        assert not os.path.lexists(gw.link(n)), "link %s left behind after SIGTERM" % n
    late = mqtt([status])
    m = late.wait_for(lambda m: m.retain, topic=status, timeout=3, what="retained status")
    assert m.payload == b"offline"
    a.close()


def test_sigint_is_a_clean_shutdown_too(broker, gateway, mqtt):
    gw = gateway(["p1"], broker=broker)
    status = "mqttty/%s/status" % gw.id
    c = mqtt([status])
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10, what="online")
    gw.expect_dead = True
    gw.proc.send_signal(signal.SIGINT)
    gw.proc.wait(5)
    assert gw.proc.returncode == 0
    assert not os.path.lexists(gw.link("p1"))
    c.wait_for(lambda m: m.payload == b"offline", topic=status, timeout=3, what="offline")


def test_sigkill_last_will_then_restart_from_db(broker, gateway, mqtt, app):
    gw = gateway(["p1", "p2"], broker=broker)
    status = "mqttty/%s/status" % gw.id
    ports = "mqttty/%s/ports" % gw.id
    c = mqtt([status, ports])
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10, what="online")

    mark = c.count()
    gw.kill()
    c.wait_for(lambda m: m.payload == b"offline", topic=status, start=mark, timeout=5,
               what="the broker's last will 'offline'")

    # Restart on the same db with no --port: the ports were stored. The
    # killed gateway may have left its links behind; they must be replaced.
    mark = c.count()
    gw.start(ports=[], wait_links=False)
    for n in ("p1", "p2"):
        gw.wait_link(n, 10)
        assert os.path.realpath(gw.link(n)).startswith("/dev/"), os.path.realpath(gw.link(n))
    c.wait_for(lambda m: m.payload == b"online", topic=status, start=mark, timeout=10,
               what="online after the restart")
    m = c.wait_for(lambda m: bool(m.payload), topic=ports, start=mark, timeout=5,
                   what="ports after the restart")
    assert [p["name"] for p in json.loads(m.payload)] == ["p1", "p2"]

    # The port works after the restart.
    tx = "mqttty/%s/p1/tx" % gw.id
    c.subscribe(tx)
    a = app(gw.link("p1"))
    a.write_all(b"after restart")
    assert c.wait_bytes(tx, 13, timeout=5) == b"after restart"


def test_port_option_keeps_existing_and_adds_new(broker, gateway, mqtt):
    gw = gateway(["p1"], broker=broker)
    ports = "mqttty/%s/ports" % gw.id
    c = mqtt([ports])
    c.wait_for(lambda m: [p["name"] for p in json.loads(m.payload)] == ["p1"], topic=ports,
               timeout=10, what="ports [p1]")
    assert gw.terminate() == 0
    mark = c.count()
    gw.start(ports=["p1", "p0"])
    # Only what the restarted gateway publishes (the old list is retained).
    m = c.wait_for(lambda m: bool(m.payload), topic=ports, start=mark, timeout=10,
                   what="ports from the restarted gateway")
    assert [p["name"] for p in json.loads(m.payload)] == ["p0", "p1"]


def test_stale_symlink_is_replaced(broker, gateway, mqtt, app, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    stale = links / "p1"
    os.symlink(str(tmp_path / "gone" / "pts-99"), str(stale))
    gw = gateway(["p1"], broker=broker)
    target = os.path.realpath(gw.link("p1"))
    assert target.startswith("/dev/"), "link still points to %s" % target
    tx = "mqttty/%s/p1/tx" % gw.id
    c = mqtt([tx])
    a = app(gw.link("p1"))
    a.write_all(b"ok")
    assert c.wait_bytes(tx, 2, timeout=5) == b"ok"


def test_regular_file_at_link_path_is_never_clobbered(broker, gateway, mqtt, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    precious = links / "blocked"
    content = b"user data that must survive\n" * 10
    precious.write_bytes(content)
    gw = gateway(["blocked", "free"], broker=broker, wait_links=False)
    gw.wait_link("free", 10)
    status = "mqttty/%s/status" % gw.id
    c = mqtt([status])
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10, what="online")
    gw.wait_log(str(precious), timeout=5)
    lines = [l for l in gw.log_text().splitlines() if str(precious) in l]
    assert any("error" in l.lower() for l in lines), \
        "no error logged naming %s; lines naming it: %r" % (precious, lines)
    time.sleep(0.5)
    assert gw.running(), "the gateway gave up because of one blocked link"
    assert not os.path.islink(str(precious))
    assert precious.read_bytes() == content
    assert gw.terminate() == 0
    wait_gone(gw.link("free"))
    assert precious.read_bytes() == content, "the file was changed at shutdown"
