"""The RFC 2217 server (gateway/rfc2217_srv.c) against pyserial's real
RFC 2217 client, on loopback.

Until the server is wired into the port manager, it runs in a small
harness (tests/rfc2217/srv_harness.c, built beside the gateway binary)
that puts it in front of a pretend port: every byte the client writes is
reported ("data HEX") and echoed back, every setting is taken and reported
("set ..."), and input modem lines can be moved from stdin. So the tests
see both sides: what pyserial got, and what the server handed the port.
"""

import os
import queue
import socket
import subprocess
import threading
import time

import pytest
import serial

from gateway_proc import SANITIZER_MARKS, binary_path
from helpers import end_process, free_port, wait_until


class Harness:
    def __init__(self, workdir):
        self.bin = os.path.join(os.path.dirname(binary_path()), "rfc2217_srv_harness")
        if not os.access(self.bin, os.X_OK):
            pytest.fail("%s not found (build the tests)" % self.bin)
        self.port = free_port()
        self.errpath = os.path.join(str(workdir), "harness.err")
        self.lines = []
        self.lock = threading.Lock()
        self.proc = None

    def start(self):
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen([self.bin, "127.0.0.1:%d" % self.port],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_line(lambda l: l == "listening", 5, "the harness listening")

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode().rstrip("\n"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_line(self, pred, timeout, what, start=0):
        def find():
            for l in self.snapshot()[start:]:
                if pred(l):
                    return l
            return None
        return wait_until(find, timeout, what=what)

    def received(self, start=0):
        return b"".join(bytes.fromhex(l[5:]) for l in self.snapshot()[start:]
                        if l.startswith("data "))

    def last_set(self):
        sets = [l for l in self.snapshot() if l.startswith("set ")]
        if not sets:
            return None
        return dict(kv.split("=") for kv in sets[-1][4:].split())

    def command(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def url(self):
        return "rfc2217://127.0.0.1:%d" % self.port

    def finish(self):
        rc = end_process(self.proc)
        self.err.close()
        with open(self.errpath, "rb") as f:
            err = f.read()
        problems = [m.decode() for m in SANITIZER_MARKS if m in err]
        return rc, problems, err


@pytest.fixture
def harness(tmp_path):
    h = Harness(tmp_path)
    h.start()
    yield h
    rc, problems, err = h.finish()
    assert not problems, err.decode(errors="replace")[-3000:]
    assert rc == 0, "harness exit %s: %s" % (rc, err.decode(errors="replace")[-2000:])


def read_exactly(s, n, timeout=5.0):
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += s.read(n - len(got))
    return got


def open_client(h, **kw):
    kw.setdefault("timeout", 1)
    return serial.serial_for_url(h.url(), **kw)


def test_all_byte_values_both_ways(harness):
    data = bytes(range(256)) * 4 + b"\xff\xff\r\n\r\x00\xff"
    s = open_client(harness, baudrate=38400)
    try:
        s.write(data)
        back = read_exactly(s, len(data))
    finally:
        s.close()
    # the port got exactly what was written (IAC unescaped once) ...
    wait_until(lambda: len(harness.received()) >= len(data), 5, what="the harness's data")
    assert harness.received() == data
    # ... and the client got back exactly what the port sent (escaped once)
    assert back == data


def test_settings_are_applied_and_answered(harness):
    # pyserial waits for the answer to each SET-* and raises on a wrong or
    # missing one, so each line here is also a check of the answer
    s = open_client(harness, baudrate=38400, bytesize=7, parity="E", stopbits=2)
    try:
        st = harness.last_set()
        assert st["baud"] == "38400" and st["data_bits"] == "7"
        assert st["parity"] == "even" and st["stop_bits"] == "2"
        s.baudrate = 115200
        s.parity = "O"
        assert harness.last_set()["baud"] == "115200"
        assert harness.last_set()["parity"] == "odd"
        s.rtscts = True
        assert harness.last_set()["flow"] == "rtscts"
        s.rtscts = False
        s.dtr = True
        s.rts = False
        wait_until(lambda: harness.last_set()["dtr"] == "1" and harness.last_set()["rts"] == "0",
                   3, what="dtr on, rts off")
        s.rts = True
        wait_until(lambda: harness.last_set()["rts"] == "1", 3, what="rts on")
    finally:
        s.close()
    harness.wait_line(lambda l: l == "open 0", 5, "the client's close")


def test_break_has_its_length(harness):
    s = open_client(harness)
    try:
        s.send_break(0.25)
        line = harness.wait_line(lambda l: l.startswith("set ") and "break_ms=0" not in l, 3,
                                 "a break")
    finally:
        s.close()
    ms = int(line.rsplit("break_ms=", 1)[1])
    assert 200 <= ms <= 1500, line


def lines_seen(s, want):
    """pyserial raises until the first NOTIFY-MODEMSTATE has arrived."""
    try:
        return (s.cts, s.cd) == want
    except serial.SerialException:
        return False


def test_modem_lines_are_notified(harness):
    s = open_client(harness)
    try:
        # all lines unknown so far: nothing is guessed, nothing notified
        time.sleep(0.3)
        with pytest.raises(serial.SerialException):
            s.cts
        harness.command("cts 1")
        harness.command("dcd 1")
        wait_until(lambda: lines_seen(s, (True, True)), 3, what="cts and cd on at the client")
        harness.command("cts 0")
        wait_until(lambda: lines_seen(s, (False, True)), 3, what="cts off at the client")
        # RI's rise has no delta bit of its own: still notified
        harness.command("ri 1")
        wait_until(lambda: s.ri, 3, what="ri on at the client")
    finally:
        s.close()


def test_second_client_is_refused_first_unharmed(harness):
    s = open_client(harness)
    try:
        with socket.create_connection(("127.0.0.1", harness.port), timeout=3) as c:
            got = b""
            while True:
                b = c.recv(1024)
                if not b:
                    break
                got += b
        assert b"in use" in got
        s.write(b"still here")
        assert read_exactly(s, 10) == b"still here"
    finally:
        s.close()
    # and once the first has gone, the next one is served
    harness.wait_line(lambda l: l == "open 0", 5, "the first client's close")
    s = open_client(harness)
    try:
        s.write(b"x")
        assert read_exactly(s, 1) == b"x"
    finally:
        s.close()


def test_hostile_input_is_ignored(harness):
    IAC, SB, SE = 255, 250, 240
    junk = (bytes([IAC, 251, 24, IAC, 253, 31, IAC, 254, 99])          # unknown options
            + bytes([IAC, SB, 44, 1, 0, 0, IAC, 251, 0]) + b"A"        # SB cut by a command
            + bytes([IAC, SB, 44, 0]) + b"S" * 5000 + bytes([IAC, SE])  # huge signature
            + bytes([IAC, SB, 44, 103, 9, IAC, SE])                    # a server's code
            + bytes([IAC, SB, 44, 3, 77, IAC, SE])                     # parity 77
            + bytes([IAC]) * 3000 + bytes([IAC, ord("Q")]) + b"Z")     # IAC flood, IAC Q
    start = len(harness.snapshot())
    with socket.create_connection(("127.0.0.1", harness.port), timeout=3) as c:
        c.sendall(junk)
        harness.wait_line(lambda l: l.startswith("data ") and l.endswith("5a"), 5,
                          "the data after the junk", start=start)
    assert harness.received(start) == b"A" + b"\xff" * 1500 + b"Z"
    # nothing was applied: the only set lines are from no one
    assert not [l for l in harness.snapshot()[start:] if l.startswith("set ")]
    harness.wait_line(lambda l: l == "open 0", 5, "the junk client's close", start=start)
    s = open_client(harness)
    try:
        s.write(b"ok")
        assert read_exactly(s, 2) == b"ok"
    finally:
        s.close()


def test_backpressure_is_told_and_kept(harness):
    IAC, SB, SE = 255, 250, 240
    suspend = bytes([IAC, SB, 44, 108, IAC, SE])
    resume = bytes([IAC, SB, 44, 109, IAC, SE])
    with socket.create_connection(("127.0.0.1", harness.port), timeout=3) as c:
        got = bytearray()

        def until(pred, what):
            c.settimeout(0.2)

            def more():
                try:
                    got.extend(c.recv(4096))
                except socket.timeout:
                    pass
                return pred(bytes(got))
            wait_until(more, 5, what=what)

        harness.wait_line(lambda l: l == "open 1", 5, "the client connected")
        harness.command("pause 1")
        until(lambda b: suspend in b, "FLOWCONTROL-SUSPEND from the server")
        start = len(harness.snapshot())
        c.sendall(b"held back")
        time.sleep(0.5)
        assert harness.received(start) == b"", "the server read while paused"
        harness.command("pause 0")
        until(lambda b: resume in b, "FLOWCONTROL-RESUME from the server")
        harness.wait_line(lambda l: l.startswith("data "), 5, "the held data", start=start)
        wait_until(lambda: harness.received(start) == b"held back", 3, what="all of it")


def test_client_suspend_holds_data_not_answers(harness):
    IAC, SB, SE = 255, 250, 240
    with socket.create_connection(("127.0.0.1", harness.port), timeout=3) as c:
        got = bytearray()

        def until(pred, what):
            c.settimeout(0.2)

            def more():
                try:
                    got.extend(c.recv(4096))
                except socket.timeout:
                    pass
                return pred(bytes(got))
            wait_until(more, 5, what=what)

        c.sendall(bytes([IAC, SB, 44, 8, IAC, SE]) + b"echo me")   # SUSPEND, then data
        harness.wait_line(lambda l: l.startswith("data "), 5, "the data at the port")
        c.sendall(bytes([IAC, SB, 44, 1, 0, 0, 0x4b, 0, IAC, SE]))  # SET-BAUDRATE 19200
        until(lambda b: bytes([IAC, SB, 44, 101, 0, 0, 0x4b, 0, IAC, SE]) in b,
              "the SET-BAUDRATE answer while suspended")
        time.sleep(0.3)
        c.settimeout(0.2)
        try:
            got.extend(c.recv(4096))
        except socket.timeout:
            pass
        assert b"echo me" not in got, "data was sent while the client had us suspended"
        c.sendall(bytes([IAC, SB, 44, 9, IAC, SE]))                 # RESUME
        until(lambda b: b"echo me" in b, "the held data after RESUME")


def telnet_data(buf):
    """The data in a Telnet stream from a server (IAC IAC unescaped,
    negotiations and subnegotiations dropped); returns (data, rest) where
    rest is an incomplete command at the end."""
    out = bytearray()
    i = 0
    while i < len(buf):
        c = buf[i]
        if c != 255:
            j = buf.find(b"\xff", i)
            j = len(buf) if j < 0 else j
            out += buf[i:j]
            i = j
            continue
        if i + 1 >= len(buf):
            break
        cmd = buf[i + 1]
        if cmd == 255:
            out.append(255)
            i += 2
        elif cmd in (251, 252, 253, 254):
            if i + 2 >= len(buf):
                break
            i += 3
        elif cmd == 250:
            j = buf.find(b"\xff\xf0", i + 2)
            if j < 0:
                break
            i = j + 2
        else:
            i += 2
    return bytes(out), buf[i:]


def test_bulk_nothing_lost_silently(harness):
    """300 kB from a client that writes as fast as loopback goes: the port
    gets every byte, in order (the server reads only as fast as it can
    hand on). The echo back meets the server's bound toward the client:
    what the client gets plus what was counted as dropped is all of it."""
    # a quarter of the bytes are IAC, so escaping doubles them on the wire
    data = bytes((i * 7919) % 256 if i % 4 else 0xFF for i in range(300000))

    def dropped():
        return sum(int(l.split()[1]) for l in harness.snapshot() if l.startswith("dropped "))

    with socket.create_connection(("127.0.0.1", harness.port), timeout=5) as c:
        c.sendall(bytes([255, 253, 0, 255, 251, 0]))     # DO/WILL BINARY
        writer = threading.Thread(target=lambda: c.sendall(data.replace(b"\xff", b"\xff\xff")),
                                  daemon=True)
        writer.start()
        back, rest = bytearray(), b""
        c.settimeout(0.5)
        deadline = time.monotonic() + 30
        while len(back) + dropped() < len(data) and time.monotonic() < deadline:
            try:
                got, rest = telnet_data(rest + c.recv(65536))
            except socket.timeout:
                continue
            back += got
        writer.join(10)
        wait_until(lambda: len(harness.received()) >= len(data), 10, what="all of it at the port")
        assert harness.received() == data
        assert len(back) + dropped() == len(data), (len(back), dropped())
