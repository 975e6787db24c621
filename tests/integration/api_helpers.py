"""Helpers for the HTTP API and websocket tests (CONTRACT.md §4).

Stdlib only: an HTTP client on http.client with explicit Host/Origin
headers, and a minimal websocket client on a raw socket (RFC 6455: the
handshake with Sec-WebSocket-Key, unmasked server frames with 7/16/64-bit
lengths, masked client frames). Every wait is bounded.
"""

import base64
import hashlib
import http.client
import json
import os
import select
import socket
import struct
import subprocess
import threading
import time

from helpers import free_port, tail, wait_until
from gateway_proc import binary_path, clean_env

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


# --------------------------------------------------------------------------
# HTTP


class Resp:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.header_list = headers            # [(lower-case name, value)]
        self.headers = {}
        for k, v in headers:
            self.headers.setdefault(k, v)
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def all(self, name):
        return [v for k, v in self.header_list if k == name.lower()]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as e:
            raise AssertionError("HTTP %d body is not JSON (%s): %r"
                                 % (self.status, e, self.body[:300]))

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:300])


class Api:
    """HTTP client for one gateway's --http address. Each request uses its
    own connection (Connection: close), so one broken request never
    affects the next."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.token = None      # Authorization: Bearer
        self.cookie = None     # "name=value"

    @property
    def host_header(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def origin(self):
        return "http://%s" % self.host_header

    def request(self, method, path, body=None, ctype=None, headers=None, host=None,
                auth=True, timeout=None):
        """body: bytes, str, or any JSON value (dumped, application/json).
        host=None sends the bound address; headers may override anything."""
        if body is not None and not isinstance(body, (bytes, bytearray, str)):
            body = json.dumps(body)
            if ctype is None:
                ctype = "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
            if ctype is None:
                ctype = "application/json"
        hdrs = [("Host", host if host is not None else self.host_header),
                ("Connection", "close")]
        if ctype is not None:
            hdrs.append(("Content-Type", ctype))
        if body is not None:
            hdrs.append(("Content-Length", str(len(body))))
        if auth and self.token:
            hdrs.append(("Authorization", "Bearer " + self.token))
        if auth and self.cookie:
            hdrs.append(("Cookie", self.cookie))
        for k, v in (headers or {}).items():
            hdrs = [(hk, hv) for hk, hv in hdrs if hk.lower() != k.lower()]
            if v is not None:
                hdrs.append((k, v))
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout or self.timeout)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs:
                conn.putheader(k, v)
            # headers and body in one write, as browsers and curl do
            try:
                conn.endheaders(bytes(body) if body else None)
            except (BrokenPipeError, ConnectionResetError):
                pass   # the server may answer (e.g. 413) before reading it all
            r = conn.getresponse()
            data = r.read()
            return Resp(r.status, r.reason, [(k.lower(), v) for k, v in r.getheaders()], data)
        finally:
            conn.close()

    # shorthands
    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ports(self):
        r = self.get("/api/v1/ports")
        assert r.status == 200, "GET /api/v1/ports: %r" % r
        return r.json()

    def get_port(self, name):
        r = self.get("/api/v1/ports/" + name)
        assert r.status == 200, "GET /api/v1/ports/%s: %r" % (name, r)
        return r.json()

    def status(self):
        r = self.get("/api/v1/status")
        assert r.status == 200, "GET /api/v1/status: %r" % r
        return r.json()

    def answers(self):
        try:
            return self.get("/api/v1/status", timeout=1.0).status in (200, 401)
        except OSError:
            return False

    def wait_up(self, gw=None, timeout=10.0):
        def ok():
            if gw is not None and not gw.running():
                raise AssertionError("gateway exited (rc=%s) before its API answered\n%s"
                                     % (gw.proc.returncode, tail(gw.log, 30)))
            return self.answers()
        wait_until(ok, timeout, what="the HTTP API on %s" % self.host_header)
        return self


def start_api_gateway(gateway, broker=None, ports=("p1",), extra=(), http_port=None, **kw):
    """gateway fixture + --http 127.0.0.1:PORT; returns (gw, api) with the
    API answering."""
    hp = http_port or free_port()
    gw = gateway(list(ports), broker=broker,
                 extra=["--http", "127.0.0.1:%d" % hp] + list(extra), **kw)
    api = Api(hp)
    api.wait_up(gw)
    return gw, api


def assert_error(r, status, *words):
    """r has the status and a {"error": "..."} body mentioning every word
    (case-insensitively)."""
    assert r.status == status, "expected HTTP %d, got %r" % (status, r)
    ctype = r.header("content-type") or ""
    assert ctype.startswith("application/json"), "error content type %r" % ctype
    j = r.json()
    assert isinstance(j, dict) and isinstance(j.get("error"), str) and j["error"].strip(), \
        "error body must be {\"error\": \"...\"}: %r" % j
    for w in words:
        assert w.lower() in j["error"].lower(), \
            "error message should name %r: %r" % (w, j["error"])
    return j["error"]


def set_password(db, password, workdir, timeout=20.0):
    """`mqttty passwd --db DB` with the password on stdin; returns the token."""
    p = subprocess.run([binary_path(), "passwd", "--db", str(db)],
                       input=(password + "\n").encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=clean_env(workdir), cwd=str(workdir),
                       timeout=timeout)
    out = p.stdout.decode("utf-8", "replace").strip()
    assert p.returncode == 0, "mqttty passwd rc=%d: %s" % (p.returncode,
                                                        p.stderr.decode("utf-8", "replace"))
    assert out and len(out.splitlines()) == 1, "mqttty passwd should print one token: %r" % out
    return out


# --------------------------------------------------------------------------
# Websocket


class WsRefused(Exception):
    def __init__(self, status, headers, body):
        Exception.__init__(self, "websocket upgrade refused: HTTP %s %r" % (status, body[:200]))
        self.status = status
        self.headers = headers
        self.body = body


class WsClosed(Exception):
    pass


class Ws:
    """A websocket client on a raw socket. With reader=True a thread
    collects every text message (parsed as JSON) into .events; otherwise
    call recv_msg() yourself."""

    def __init__(self, port, host="127.0.0.1", path="/ws", host_header=None, origin="match",
                 headers=None, timeout=5.0, rcvbuf=None):
        self.port = port
        self.sock = None
        self.buf = bytearray()
        self.events = []
        self.raw = []
        self.cond = threading.Condition()
        self.closed = False      # the server ended the connection
        self.close_reason = None
        self._thread = None
        self._stop = False
        self._wlock = threading.Lock()
        hh = host_header or "%s:%d" % (host, port)
        if origin == "match":
            origin = "http://" + hh
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: " + hh, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
                 "Sec-WebSocket-Version: 13"]
        if origin is not None:
            lines.append("Origin: " + origin)
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((host, port))
        self.sock = s
        try:
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = self._read_head(timeout)
            status, hdrs = self._parse_head(head)
            if status != 101:
                body = self._read_body(hdrs, timeout)
                raise WsRefused(status, hdrs, body)
            want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            assert hdrs.get("sec-websocket-accept") == want, \
                "bad Sec-WebSocket-Accept %r (want %r)" % (hdrs.get("sec-websocket-accept"), want)
            assert hdrs.get("upgrade", "").lower() == "websocket", hdrs
        except BaseException:
            s.close()
            self.sock = None
            raise

    # ---- handshake
    def _read_head(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no websocket handshake answer within %.0f s" % timeout)
            self.sock.settimeout(left)
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("connection closed during the websocket handshake: %r"
                                     % bytes(self.buf))
            self.buf += chunk
        i = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:i])
        del self.buf[:i + 4]
        return head

    @staticmethod
    def _parse_head(head):
        lines = head.decode("iso-8859-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        hdrs = {}
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        return status, hdrs

    def _read_body(self, hdrs, timeout):
        n = int(hdrs.get("content-length", "0") or 0)
        deadline = time.monotonic() + timeout
        try:
            while len(self.buf) < n and time.monotonic() < deadline:
                self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                self.buf += chunk
        except OSError:
            pass
        return bytes(self.buf[:n]) if n else bytes(self.buf)

    # ---- frames
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([self.sock], [], [], min(left, 0.2))
            if not r:
                if self._stop:
                    raise TimeoutError
                continue
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise WsClosed("connection closed by the server")
            self.buf += chunk

    def recv_frame(self, timeout=5.0):
        """(fin, opcode, payload); TimeoutError, or WsClosed at EOF."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        fin, op = bool(b0 & 0x80), b0 & 0x0F
        assert not (b1 & 0x80), "the server masked a frame (RFC 6455 5.1 forbids it)"
        n, hl = b1 & 0x7F, 2
        if n == 126:
            self._fill(4, deadline)
            n, hl = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._fill(10, deadline)
            n, hl = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._fill(hl + n, deadline)
        payload = bytes(self.buf[hl:hl + n])
        del self.buf[:hl + n]
        return fin, op, payload

    def recv_msg(self, timeout=5.0):
        """Next data message (text as str); answers pings; WsClosed on close."""
        deadline = time.monotonic() + timeout
        parts, first_op = [], None
        while True:
            fin, op, payload = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                self.close_reason = payload
                raise WsClosed("close frame from the server: %r" % payload)
            if first_op is None:
                first_op = op
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                return data.decode("utf-8") if first_op == OP_TEXT else data

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, raw_len=None):
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload) if raw_len is None else raw_len
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack(">BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack(">BBH", b0, mbit | 126, n)
        else:
            head = struct.pack(">BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            data = head + key + body
        else:
            data = head + bytes(payload)
        with self._wlock:
            self.sock.sendall(data)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode("utf-8"))

    # ---- background reader
    def start_reader(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop:
            try:
                msg = self.recv_msg(timeout=0.5)
            except TimeoutError:
                continue
            except (WsClosed, OSError, AssertionError) as e:
                with self.cond:
                    self.closed = True
                    self.close_reason = self.close_reason or str(e)
                    self.cond.notify_all()
                return
            with self.cond:
                self.raw.append(msg)
                try:
                    self.events.append(json.loads(msg))
                except (ValueError, TypeError):
                    self.events.append({"_unparsed": msg})
                self.cond.notify_all()

    def count(self):
        with self.cond:
            return len(self.events)

    def wait_event(self, pred, timeout=5.0, start=0, what="a websocket event"):
        def find():
            for e in self.events[start:]:
                try:
                    if pred(e):
                        return e
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
            return None
        with self.cond:
            self.cond.wait_for(lambda: find() or self.closed, timeout)
            got = find()
            if got:
                return got
            recent = self.events[start:][-8:]
            closed = self.closed
        raise AssertionError("timed out after %.1f s waiting for %s%s; last events:\n  %s"
                             % (timeout, what, " (connection closed: %s)" % self.close_reason
                                if closed else "",
                                "\n  ".join(_short(e) for e in recent) or "(none)"))

    def wait_closed(self, timeout=5.0):
        with self.cond:
            return self.cond.wait_for(lambda: self.closed, timeout)

    def read_until_eof(self, timeout=10.0):
        """Without a reader thread: read and discard until the server closes
        the connection. True on EOF/reset (or a close frame), False on
        timeout."""
        deadline = time.monotonic() + timeout
        self.sock.setblocking(False)
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                continue
            try:
                chunk = self.sock.recv(1 << 20)
            except BlockingIOError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
        return False

    def close(self):
        self._stop = True
        if self._thread is not None:
            self._thread.join(2)
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def _short(e):
    s = json.dumps(e) if not isinstance(e, str) else e
    return s if len(s) < 300 else s[:300] + "..."


def ws_connect(api, reader=True, **kw):
    """A websocket to the gateway behind api, sending api's credentials."""
    hdrs = dict(kw.pop("headers", {}) or {})
    if api.token and "Authorization" not in hdrs:
        hdrs["Authorization"] = "Bearer " + api.token
    if api.cookie and "Cookie" not in hdrs:
        hdrs["Cookie"] = api.cookie
    w = Ws(api.port, host=api.host, headers=hdrs, **kw)
    if reader:
        w.start_reader()
    return w


class WsPool:
    """Closes every websocket a test opened."""

    def __init__(self):
        self.items = []

    def add(self, w):
        self.items.append(w)
        return w

    def close_all(self):
        for w in self.items:
            w.close()


def links(gw):
    """The link dir's entries (name -> link target), {} if it is missing."""
    try:
        names = os.listdir(gw.link_dir)
    except FileNotFoundError:
        return {}
    out = {}
    for n in names:
        p = os.path.join(gw.link_dir, n)
        try:
            out[n] = os.readlink(p)
        except OSError:
            out[n] = None
    return out


def without_state(ports):
    """Port objects without their live state (for 'nothing changed' checks)."""
    return [{k: v for k, v in p.items() if k != "state"} for p in ports]


try:
    import pytest

    @pytest.fixture
    def wsc():
        """wsc(api, reader=True, **kw) -> Ws, closed at teardown."""
        pool = WsPool()

        def factory(api, reader=True, **kw):
            return pool.add(ws_connect(api, reader=reader, **kw))
        yield factory
        pool.close_all()
except ImportError:   # pragma: no cover
    pass
