"""HTTP request checks (issue 10 item 6), each with raw sockets: a bad
Sec-WebSocket-Key is 400; an over-long URL is 414 (not a silent close);
a repeated Content-Length is 400; '//' and '..' in API paths are 404,
never normalised into another port's path."""

import json
import os
import socket
import time

from api_helpers import start_api_gateway


def raw(port, request, timeout=5.0):
    """Send request bytes, return (status, headers dict, body) of the answer,
    or (None, {}, b"") if the connection closed with no answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(request)
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
        if b"\r\n\r\n" not in buf:
            return None, {}, buf
        head, body = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("iso-8859-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0") or 0)
        while len(body) < n and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            body += chunk
        return status, hdrs, body
    finally:
        s.close()


def req(api, method, path, headers=(), body=b""):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % api.port]
    lines += ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def ws_upgrade(api, key):
    return req(api, "GET", "/ws", [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                   ("Sec-WebSocket-Version", "13"),
                                   ("Origin", "http://127.0.0.1:%d" % api.port)]
               + ([("Sec-WebSocket-Key", key)] if key is not None else []))


def test_bad_websocket_key_is_400(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker)
    good = "dGhlIHNhbXBsZSBub25jZQ=="
    st, h, _ = raw(api.port, ws_upgrade(api, good))
    assert st == 101, st
    for key in ["abc", "AAAAAAAAAAAAAAAAAAAAAAAA",           # 18 bytes, no padding
                "dGhlIHNhbXBsZSBub25jZQ",                # no padding
                "dGhlIHNhbXBsZSBub25jZQ=",
                "dGhlIHNhbXBsZSBub25j*Q==",              # not base64
                "dGhlIHNhbXBsZSBub25jZX==",              # stray bits in the last char
                "dGhlIHNhbXBsZSBub25jZQ==dGhl"]:
        st, h, body = raw(api.port, ws_upgrade(api, key))
        assert st == 400, "key %r: %s %r" % (key, st, body)
    assert api.answers()


def test_long_url_is_414(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["keep"])
    name = "k" * 5000
    for method in ("GET", "DELETE"):
        st, h, body = raw(api.port, req(api, method, "/api/v1/ports/" + name))
        assert st == 414, "%s of a 5,000-character port name: %s %r" % (method, st, body[:200])
        assert "error" in json.loads(body)
    st, _, body = raw(api.port, req(api, "GET", "/" + "a" * 600))
    assert st == 414, st
    assert api.get_port("keep")["name"] == "keep"


def test_two_content_lengths_are_400(broker, gateway):
    gw, api = start_api_gateway(gateway, broker=broker)
    body = json.dumps({"name": "smuggled"}).encode()
    for lens in [(len(body), 5), (5, len(body)), (len(body), len(body))]:
        st, _, data = raw(api.port, req(api, "POST", "/api/v1/ports",
                                        [("Content-Type", "application/json")] +
                                        [("Content-Length", str(n)) for n in lens], body))
        assert st == 400, "Content-Length %r: %s %r" % (lens, st, data)
    for bad in ["-1", "12abc", "0x10", " "]:
        st, _, data = raw(api.port, req(api, "POST", "/api/v1/ports",
                                        [("Content-Type", "application/json"),
                                         ("Content-Length", bad)], body))
        assert st == 400, "Content-Length %r: %s %r" % (bad, st, data)
    assert [p["name"] for p in api.ports()] == ["p1"]


def test_empty_and_dot_segments_are_404_never_normalised(broker, gateway):
    """lws rewrites '//' to '/' and removes '/x/..' before the gateway sees
    the path; the raw request line decides."""
    gw, api = start_api_gateway(gateway, broker=broker, ports=["keep"])
    bad = ["/api/v1/ports//keep", "/api/v1//ports/keep", "//api/v1/ports/keep",
           "/api/v1/ports/x/../keep", "/api/v1/ports/./keep", "/api/v1/ports/%2e%2e/ports/keep",
           "/api/v1/ports/x/%2E%2E/keep", "/api/v1/ports/x%2F..%2Fkeep"]
    for path in bad:
        for method in ("DELETE", "GET", "PATCH"):
            body = b'{"qos": 0}' if method == "PATCH" else b""
            hdrs = [("Content-Type", "application/json"),
                    ("Content-Length", str(len(body)))] if body else []
            st, _, data = raw(api.port, req(api, method, path, hdrs, body))
            assert st == 404, "%s %s: %s %r" % (method, path, st, data[:200])
    # absolute-form (lws refuses it itself)
    st, _, _ = raw(api.port, req(api, "DELETE", "http://127.0.0.1:%d/api/v1/ports//keep"
                                 % api.port))
    assert st in (403, 404), st
    p = api.get_port("keep")
    assert p["qos"] == 1 and os.path.islink(gw.link("keep")), "a normalised path changed keep"
    # the websocket path too
    st, _, _ = raw(api.port, req(api, "GET", "//ws", [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Origin", "http://127.0.0.1:%d" % api.port)]))
    assert st == 404, st


def test_second_request_on_a_connection_cannot_slip_past(broker, gateway):
    """Only a connection's first request line can be checked raw, so every
    answer says Connection: close and a pipelined second request is
    refused, never served normalised."""
    gw, api = start_api_gateway(gateway, broker=broker, ports=["keep"])
    s = socket.create_connection(("127.0.0.1", api.port), timeout=3)
    try:
        s.sendall(req(api, "GET", "/api/v1/status") + req(api, "DELETE", "/api/v1/ports//keep"))
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    first, _, rest = data.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200"), data[:300]
    assert b"connection: close" in first.lower(), first
    assert b"HTTP/1.1 204" not in rest, "the pipelined DELETE was served: %r" % rest[:300]
    assert api.get_port("keep")["name"] == "keep"
    assert os.path.islink(gw.link("keep"))


def test_idle_connections_do_not_lock_clients_out(broker, gateway):
    """Connections that never send a request line (slowloris) are bounded
    and pushed out by newer ones: the API keeps answering."""
    gw, api = start_api_gateway(gateway, broker=broker)
    idle = []
    try:
        for _ in range(400):
            idle.append(socket.create_connection(("127.0.0.1", api.port), timeout=5))
            idle[-1].sendall(b"GET /api/v1/sta")       # never finished
        t = time.monotonic()
        r = api.get("/api/v1/status")
        ms = (time.monotonic() - t) * 1000
        print("\nGET /api/v1/status with 400 idle connections open: %d in %.1f ms"
              % (r.status, ms))
        assert r.status == 200, r
    finally:
        for s in idle:
            s.close()
    assert gw.running()
