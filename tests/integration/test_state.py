"""Retained state, status and ports topics (CONTRACT.md §3) as a serial
application changes its line settings on a pty port."""

import json
import os

from helpers import MODEM_LINES, PORT_OBJECT_KEYS, STATE_KEYS


def topics(gw, name="p1"):
    base = "mqttty/%s/%s" % (gw.id, name)
    return base + "/state", "mqttty/%s/status" % gw.id, "mqttty/%s/ports" % gw.id


def is_settings(baud, stop_bits, flow, open_=True):
    return lambda s: (s.get("open") is open_ and s.get("baud") == baud
                      and s.get("stop_bits") == stop_bits and s.get("flow") == flow)


def test_state_follows_the_application(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    st, status, _ = topics(gw)
    c = mqtt([st, status])

    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10,
               what="status online")
    first = c.wait_json(st, lambda s: True, timeout=10, what="a state for p1")
    assert set(first) == STATE_KEYS
    assert first["open"] is False, "no application holds p1 yet: %r" % first

    mark = c.count()
    a = app(gw.link("p1"), baud=38400, stop_bits=2, crtscts=True)
    s = c.wait_json(st, is_settings(38400, 2, "rtscts"), start=mark, timeout=5,
                    what="state open, 38400 baud, 2 stop bits, rtscts")
    assert set(s) == STATE_KEYS, "state keys differ: extra %s, missing %s" % (
        sorted(set(s) - STATE_KEYS), sorted(STATE_KEYS - set(s)))
    # A pty cannot carry data bits/parity nor modem lines: never guessed.
    assert s["data_bits"] is None and s["parity"] is None, s
    for line in MODEM_LINES:
        assert s[line] is None, "%s must be null on a pty: %r" % (line, s)
    for k in ("tx_bytes", "rx_bytes", "dropped"):
        assert isinstance(s[k], int) and not isinstance(s[k], bool) and s[k] >= 0, s

    # The state is retained: a late subscriber gets the current one at once.
    late = mqtt([st])
    m = late.wait_for(lambda m: m.retain and bool(m.payload), topic=st, timeout=3,
                      what="a retained state")
    assert is_settings(38400, 2, "rtscts")(m.json()), m

    mark = c.count()
    a.configure(baud=115200, stop_bits=1, crtscts=False)
    c.wait_json(st, is_settings(115200, 1, "none"), start=mark, timeout=5,
                what="state 115200, 1 stop bit, no flow control")

    mark = c.count()
    a.close()
    s = c.wait_json(st, lambda s: s["open"] is False, start=mark, timeout=5,
                    what="state open:false after the application closed the port")
    assert set(s) == STATE_KEYS


def test_state_follows_apps_that_zero_lflag(broker, gateway, mqtt, app):
    """Many raw-mode programs set c_lflag = 0 (which also clears EXTPROC);
    later changes of speed must still be seen."""
    gw = gateway(["p1"], broker=broker)
    st, _, _ = topics(gw)
    c = mqtt([st])
    a = app(gw.link("p1"), baud=19200, zero_lflag=True)
    c.wait_json(st, is_settings(19200, 1, "none"), timeout=5, what="state 19200")
    for baud, stop in ((57600, 2), (4800, 1), (230400, 1)):
        mark = c.count()
        a.configure(baud=baud, stop_bits=stop, zero_lflag=True)
        c.wait_json(st, is_settings(baud, stop, "none"), start=mark, timeout=5,
                    what="state %d baud, %d stop bits" % (baud, stop))


def test_reopen_shows_open_each_time(broker, gateway, mqtt, app):
    gw = gateway(["p1"], broker=broker)
    st, _, _ = topics(gw)
    c = mqtt([st])
    c.wait_json(st, lambda s: s["open"] is False, timeout=10)
    for i in range(3):
        mark = c.count()
        a = app(gw.link("p1"), baud=9600)
        c.wait_json(st, lambda s: s["open"] is True, start=mark, timeout=5,
                    what="open:true on open #%d" % (i + 1))
        mark = c.count()
        a.close()
        c.wait_json(st, lambda s: s["open"] is False, start=mark, timeout=5,
                    what="open:false on close #%d" % (i + 1))


def test_status_and_ports_retained(broker, gateway, mqtt):
    gw = gateway(["zeta", "alpha", "mid-1"], broker=broker)
    _, status, ports = topics(gw)
    c = mqtt([status, ports])
    m = c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=10,
                   what="status online")
    # ports follows status: a subscriber that comes before it is published
    # gets it live (retain 0), as seen under qemu-user
    c.wait_for(lambda m: bool(m.payload), topic=ports, timeout=10, what="ports")
    # Subscribed after the gateway connected, or live: either way a later
    # subscriber must get it retained.
    late = mqtt([status, ports])
    m = late.wait_for(lambda m: m.retain, topic=status, timeout=3, what="retained status")
    assert m.payload == b"online"
    m = late.wait_for(lambda m: m.retain and bool(m.payload), topic=ports, timeout=3,
                      what="retained ports")
    arr = json.loads(m.payload)
    assert isinstance(arr, list)
    names = [p.get("name") for p in arr]
    assert names == ["alpha", "mid-1", "zeta"], "ports not sorted by name: %r" % names
    for p in arr:
        missing = PORT_OBJECT_KEYS - set(p)
        assert not missing, "port object %s lacks %s" % (p.get("name"), sorted(missing))
        assert "state" not in p, "ports carries no state: %r" % p
        assert p["kind"] == "pty"
        assert p["qos"] == 1 and p["enabled"] is True, p
        assert p["frame"]["mode"] == "raw" and p["frame"]["max"] == 4096, p["frame"]
        assert p["device"] is None, p
        assert p["path"] and os.path.realpath(p["path"]) == os.path.realpath(gw.link(p["name"])), p
