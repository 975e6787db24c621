"""A gateway port served as RFC 2217 (CONTRACT §5 "RFC 2217", the port
field `rfc2217`), with pyserial's real RFC 2217 client on loopback: the
client counts as the port's application (state.open, its line settings in
the state, tx and rx, counters), a second client is refused, the listener
moves with a PATCH, and a non-loopback address needs the password."""

import time

import serial

from api_helpers import assert_error, start_api_gateway
from helpers import free_port, wait_until

ALL_BYTES = bytes(range(256))


def base(gw, name):
    return "mqttty/%s/%s" % (gw.id, name)


def open_client(port, **kw):
    # pyserial waits for every SET-* answer: a server that does not answer
    # makes this fail after its timeout
    return serial.serial_for_url("rfc2217://127.0.0.1:%d?timeout=3" % port, timeout=0.2, **kw)


def read_n(s, n, timeout=10.0):
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += s.read(n - len(got))
    return got


def state_of(api, name):
    return api.get("/api/v1/ports/%s" % name).json()["state"]


def test_pty_port_served_to_pyserial(broker, gateway, mqtt):
    lp = free_port()
    gw, api = start_api_gateway(gateway, broker=broker, ports=[])
    r = api.post("/api/v1/ports", {"name": "net", "rfc2217": "127.0.0.1:%d" % lp})
    assert r.status == 201 and r.json()["rfc2217"] == "127.0.0.1:%d" % lp, r
    assert state_of(api, "net")["open"] is False
    c = mqtt([base(gw, "net") + "/tx", base(gw, "net") + "/state"])

    s = open_client(lp, baudrate=38400, parity=serial.PARITY_EVEN)
    try:
        st = wait_until(lambda: (lambda x: x if x["open"] and x["baud"] == 38400 else None)(
            state_of(api, "net")), 5, what="open:true at 38400 in the port's state")
        assert st["parity"] == "even", st
        c.wait_json(base(gw, "net") + "/state", lambda j: j["open"] and j["baud"] == 38400,
                    timeout=5, what="the retained state showing the client")

        # client -> tx, every byte value
        s.write(ALL_BYTES)
        s.flush()
        got = c.wait_bytes(base(gw, "net") + "/tx", len(ALL_BYTES), timeout=10)
        assert got == ALL_BYTES, "tx from the RFC 2217 client: %d bytes" % len(got)

        # rx -> client, every byte value (0xFF is IAC on the wire)
        c.publish(base(gw, "net") + "/rx", ALL_BYTES[::-1])
        back = read_n(s, 256)
        assert back == ALL_BYTES[::-1], "rx at the client: %r" % back[:32]

        # a baud change from the client shows in the state
        s.baudrate = 19200
        wait_until(lambda: state_of(api, "net")["baud"] == 19200, 5, what="baud 19200")
        st = state_of(api, "net")
        assert st["tx_bytes"] >= 256 and st["rx_bytes"] >= 256, st

        # one client at a time: a second gets refused, the first carries on
        try:
            s2 = open_client(lp)
            s2.close()
            raise AssertionError("a second RFC 2217 client was accepted")
        except (serial.SerialException, OSError):
            pass
        c.publish(base(gw, "net") + "/rx", b"still here")
        assert read_n(s, 10) == b"still here"
    finally:
        s.close()
    wait_until(lambda: state_of(api, "net")["open"] is False, 5, what="open:false after close")


def test_listener_moves_live_and_goes_with_null(broker, gateway, app):
    lp1, lp2 = free_port(), free_port()
    gw, api = start_api_gateway(gateway, broker=broker, ports=["mv"])
    a = app(gw.link("mv"))          # a local application keeps the pty open
    r = api.patch("/api/v1/ports/mv", {"rfc2217": "127.0.0.1:%d" % lp1})
    assert r.status == 200, r
    open_client(lp1).close()
    r = api.patch("/api/v1/ports/mv", {"rfc2217": "127.0.0.1:%d" % lp2})
    assert r.status == 200, r
    s = open_client(lp2)
    s.close()
    try:
        open_client(lp1).close()
        raise AssertionError("the old listener still answers")
    except (serial.SerialException, OSError):
        pass
    r = api.patch("/api/v1/ports/mv", {"rfc2217": None})
    assert r.status == 200 and r.json()["rfc2217"] is None, r
    try:
        open_client(lp2).close()
        raise AssertionError("the listener answers after rfc2217 was set to null")
    except (serial.SerialException, OSError):
        pass
    a.write_all(b"x")               # the application's port never went away
    a.close()


def test_bad_and_unsafe_addresses_refused(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p"])
    for bad in ("4001", "localhost:4001", "127.0.0.1:0", "127.0.0.1:70000",
                "127.0.0.1:4001\u0000", "[::1]4001"):
        r = api.patch("/api/v1/ports/p", {"rfc2217": bad})
        assert_error(r, 400, "rfc2217")
    # RFC 2217 has no authentication: beyond loopback only with a password
    r = api.patch("/api/v1/ports/p", {"rfc2217": "0.0.0.0:%d" % free_port()})
    assert_error(r, 400, "password")
    r = api.post("/api/v1/ports", {"name": "q", "rfc2217": "0.0.0.0:%d" % free_port()})
    assert_error(r, 400, "password")
    assert api.get("/api/v1/ports/p").json()["rfc2217"] is None
    assert api.get("/api/v1/ports/q").status == 404


def test_device_port_served_its_real_line_follows(broker, gateway, mqtt, tmp_path):
    """A device port served as RFC 2217: the client's baud and framing move
    the real device's line (so a follow peer sees them); like any port's
    application, the client gets rx and its bytes are tx."""
    from cable_helpers import FakeDevice, read_termios

    lp = free_port()
    gw, api = start_api_gateway(gateway, broker=broker, ports=[])
    dev = FakeDevice(tmp_path / "ttyFAKE0").plug()
    try:
        r = api.post("/api/v1/ports", {"name": "dev", "kind": "device", "device": dev.link,
                                       "baud": 9600, "rfc2217": "127.0.0.1:%d" % lp})
        assert r.status == 201, r
        wait_until(lambda: state_of(api, "dev")["open"], 5, what="the device open")
        s = open_client(lp, baudrate=38400, stopbits=serial.STOPBITS_TWO)
        try:
            wait_until(lambda: read_termios(dev.master)["baud"] == 38400, 5,
                       what="the device at the client's 38400")
            assert read_termios(dev.master)["stop_bits"] == 2
            st = state_of(api, "dev")
            assert st["baud"] == 38400 and st["stop_bits"] == 2, st
            c = mqtt([base(gw, "dev") + "/tx"])
            wait_until(lambda: api.get("/api/v1/status").json()["broker"]["connected"], 10,
                       what="the gateway connected to the broker")
            time.sleep(0.3)     # its subscriptions go out right after
            c.publish(base(gw, "dev") + "/rx", b"FA00014074000;")
            assert read_n(s, 14) == b"FA00014074000;"
            s.write(b"IF;")
            assert c.wait_bytes(base(gw, "dev") + "/tx", 3, timeout=5) == b"IF;"
        finally:
            s.close()
    finally:
        dev.close()


def test_break_from_the_client_is_an_event(broker, gateway, mqtt):
    """A break the RFC 2217 client sends is published on BASE/event with its
    length, as an application's tcsendbreak on a cuse port would be."""
    import json
    lp = free_port()
    gw, api = start_api_gateway(gateway, broker=broker, ports=[])
    r = api.post("/api/v1/ports", {"name": "brk", "rfc2217": "127.0.0.1:%d" % lp})
    assert r.status == 201, r
    c = mqtt([base(gw, "brk") + "/event"])
    wait_until(lambda: api.get("/api/v1/status").json()["broker"]["connected"], 10,
               what="the gateway connected to the broker")
    time.sleep(0.3)
    s = open_client(lp)
    try:
        s.send_break(0.25)
        m = c.wait_for(lambda m: m.topic.endswith("/event"), timeout=5,
                       what="a break event")
        ev = json.loads(m.payload)
        assert 150 <= ev["break_ms"] <= 2000, ev
    finally:
        s.close()
