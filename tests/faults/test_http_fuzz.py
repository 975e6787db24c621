"""Hostile HTTP and websocket input to the real gateway (its HTTP parsing
and websocket framing are libwebsockets'; its routes, headers, bodies and
events are ours). A seeded, bounded loop sends mutated requests, random
bytes and broken websocket frames, each on its own connection, and checks
that the gateway answers with a well-formed status line or closes (or, for
an input that is not complete, keeps waiting), never answers 500, keeps
serving the API, and holds no more fds than before once the hostile
connections are gone. Under the ASan binary a memory error fails the test
at teardown."""

import json
import os
import random
import socket
import time

from api_helpers import start_api_gateway
from faults_util import fd_count, pick, record, rss_kb
from helpers import wait_until

TEMPLATES = [
    b"GET /api/v1/status HTTP/1.1\r\nHost: {host}\r\n\r\n",
    b"GET /api/v1/ports HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
    b"POST /api/v1/ports HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    b"Content-Length: {len}\r\n\r\n{body}",
    b"PATCH /api/v1/ports/p1 HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    b"Content-Length: {len}\r\n\r\n{body}",
    b"DELETE /api/v1/ports/{name} HTTP/1.1\r\nHost: {host}\r\n\r\n",
    b"POST /api/v1/ports/p1/send HTTP/1.1\r\nHost: {host}\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Length: {len}\r\n\r\n{body}",
    b"POST /api/v1/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    b"Content-Length: {len}\r\n\r\n{body}",
    b"POST /api/v1/ports HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n{chunked}",
    b"GET /metrics HTTP/1.1\r\nHost: {host}\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n",
]
BODIES = [
    b'{"name":"fz"}', b'{"name":"fz","kind":"device","device":"/dev/null"}',
    b'{"baud":115200,"frame":{"mode":"delim","delim":"\\u00fd"}}', b'{"password":"x"}',
    b'{"name":"a\\u0000b"}', b"[]", b"null", b'{"name":' + b"[" * 2000 + b"]" * 2000 + b"}",
    b"\xff\xfe\x00", b'{"name":"' + b"x" * 70000 + b'"}',
]
NAMES = [b"p1", b"..", b"%2e%2e", b"//p1", b"p1/", b"x" * 5000, b"%00", b"p1?x=1", b"p1#f",
         b"\xc3\x28", b"a%2Fb"]


def mutate(rnd, data):
    data = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        k = rnd.randrange(9)
        pos = rnd.randrange(len(data) + 1)
        if k == 0 and data:
            data[min(pos, len(data) - 1)] = rnd.randrange(256)
        elif k == 1:
            data[pos:pos] = os.urandom(rnd.randint(1, 16))
        elif k == 2:
            del data[pos:pos + rnd.randint(1, 32)]
        elif k == 3:   # a header twice, with another value
            data[pos:pos] = rnd.choice([b"Content-Length: 3\r\n", b"Host: evil\r\n",
                                        b"Content-Length: -1\r\n",
                                        b"Content-Length: 99999999999999999999\r\n",
                                        b"Transfer-Encoding: chunked\r\n"])
        elif k == 4:   # a very long header
            data[pos:pos] = b"X-A: " + b"a" * rnd.choice([100, 5000, 70000]) + b"\r\n"
        elif k == 5:
            data = data.replace(b"\r\n", b"\n", 1)
        elif k == 6:
            data = data.replace(b"HTTP/1.1", rnd.choice([b"HTTP/1.0", b"HTTP/9.9", b"", b"HTTP/1.1 x"]), 1)
        elif k == 7:
            data = data.replace(b"GET", rnd.choice([b"PUT", b"OPTIONS", b"TRACE", b"G\x00T", b"CONNECT"]), 1)
        else:
            data[pos:pos] = b"%" + os.urandom(1) + b"/../"
    return bytes(data)


def http_input(rnd, host):
    t = rnd.choice(TEMPLATES)
    body = rnd.choice(BODIES)
    chunk = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    if rnd.random() < 0.3:
        chunk = rnd.choice([b"fffffffffffffffff\r\n", b"-5\r\nabc\r\n", b"3\r\nabcdef\r\n0\r\n\r\n"])
    data = (t.replace(b"{host}", host).replace(b"{len}", str(len(body)).encode())
            .replace(b"{body}", body).replace(b"{name}", rnd.choice(NAMES))
            .replace(b"{chunked}", chunk))
    if rnd.random() < 0.7:
        data = mutate(rnd, data)
    return data


def ws_input(rnd, host, port):
    key = __import__("base64").b64encode(os.urandom(rnd.choice([16, 16, 16, 8, 20]))).decode()
    head = ("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n\r\n"
            % (host.decode(), key, host.decode())).encode()
    frames = b""
    for _ in range(rnd.randint(1, 5)):
        op = rnd.choice([0, 1, 2, 8, 9, 10, 3, 11, 15])
        fin = rnd.random() < 0.8
        rsv = rnd.choice([0, 0, 0, 0x40, 0x70])
        masked = rnd.random() < 0.85
        payload = rnd.choice([b"", b"hello", os.urandom(rnd.randint(1, 300)), b"\xc3\x28",
                              json.dumps({"type": "x" * 200}).encode(), b"\x03\xe8bye",
                              b"\x00\x01"])
        b0 = (0x80 if fin else 0) | rsv | op
        n = len(payload)
        style = rnd.random()
        if style < 0.1:
            lenb = bytes([(0x80 if masked else 0) | 127]) + (2 ** 63 - 1).to_bytes(8, "big")
        elif style < 0.2:
            lenb = bytes([(0x80 if masked else 0) | 126]) + (n + 1000).to_bytes(2, "big")
        elif n < 126:
            lenb = bytes([(0x80 if masked else 0) | n])
        else:
            lenb = bytes([(0x80 if masked else 0) | 126]) + n.to_bytes(2, "big")
        if masked:
            mask = os.urandom(4)
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            frames += bytes([b0]) + lenb + mask + payload
        else:
            frames += bytes([b0]) + lenb + payload
    if rnd.random() < 0.2:
        frames = mutate(rnd, frames)
    return head + frames


def exchange(port, data, wait):
    """Send data on a new connection; 'answered:STATUS', 'closed' or
    'waiting' (open and silent after `wait` s)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    got = b""
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        s.settimeout(wait)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            except OSError:
                return "closed", got
            if not chunk:
                break
            got += chunk
            if b"\r\n" in got:
                break
        if got:
            line = got.split(b"\r\n", 1)[0]
            parts = line.split(b" ")
            ok = len(parts) >= 2 and parts[0].startswith(b"HTTP/1.") and parts[1].isdigit()
            return ("answered:" + parts[1].decode()) if ok else "malformed", got
        try:
            s.settimeout(0.01)
            return ("closed" if s.recv(1) == b"" else "waiting"), got
        except socket.timeout:
            return "waiting", got
        except OSError:
            return "closed", got
    finally:
        s.close()


def test_hostile_http_and_websocket_input(broker, gateway):
    count = pick(800, 10000)
    seed = int(os.environ.get("FAULTS_SEED", "0")) or random.randrange(1 << 30)
    rnd = random.Random(seed)
    print("seed", seed)
    gw, api = start_api_gateway(gateway, broker, ports=("p1",))
    host = api.host_header.encode()
    pid = gw.proc.pid
    fd0, rss0 = fd_count(pid), rss_kb(pid)
    outcomes, five_hundreds = {}, []
    t0 = time.monotonic()
    for i in range(count):
        data = ws_input(rnd, host, api.port) if rnd.random() < 0.3 else (
            os.urandom(rnd.randint(1, 2000)) if rnd.random() < 0.05 else http_input(rnd, host))
        out, got = exchange(api.port, data, 0.3)
        key = out if not out.startswith("answered:") else out[:10] + "xx"
        outcomes[key] = outcomes.get(key, 0) + 1
        if out in ("answered:500", "malformed"):
            five_hundreds.append((data[:200], got[:200]))
        if i % 50 == 49:
            assert gw.running(), "the gateway died after input %d: %r" % (i, data[:300])
            r = api.get("/api/v1/status", timeout=5)
            assert r.status == 200, "API after input %d: %r" % (i, r)
    elapsed = time.monotonic() - t0
    wait_until(lambda: fd_count(pid) <= fd0 + 2, 15, what="fds back to %d" % fd0)
    fd1, rss1 = fd_count(pid), rss_kb(pid)
    record("http_fuzz", inputs=count, seconds=round(elapsed, 1), outcomes=outcomes,
           fd_start=fd0, fd_end=fd1, rss_start_kb=rss0, rss_end_kb=rss1,
           bad_answers=len(five_hundreds), seed=seed)
    assert gw.running()
    assert not five_hundreds, "500 or malformed answers: %r" % five_hundreds[:3]
