"""Helpers for test_cable.py: a pty standing in for a real serial device,
a Kenwood-CAT radio emulator playing the device's far end, a small client
for the gateway's HTTP API, and the two-gateway "cable" itself.

The fake device: os.openpty(); the test keeps the master (the radio's side
of the wire) and gives the gateway a symlink in the test's tmp dir that
points at the slave. Unplugging closes the master and removes the link;
plugging in again makes a new pty and re-points the link, as udev would.

termios ioctls on a pty master act on the slave, so the master tells what
the gateway set on the "device" (TCGETS2 gives speeds that glibc's
tcgetattr cannot, e.g. when the gateway uses BOTHER).
"""

import errno
import fcntl
import http.client
import json
import os
import select
import struct
import termios
import threading
import time

from helpers import free_port, tail, wait_until

PREFIX = "mqttty"

# ---------------------------------------------------------------------------
# termios of the device, read through the master

_BOTHER = 0o010000
_CBAUD = 0o010017
_TERMIOS2 = struct.Struct("=IIIIB19sII")   # struct termios2, 44 bytes


def _ior(type_, nr, size):
    # asm-generic _IOR: dir(2 bits, read=2) << 30 | size << 16 | type << 8 | nr
    return (2 << 30) | (size << 16) | (ord(type_) << 8) | nr


_TCGETS2 = _ior("T", 0x2A, _TERMIOS2.size)
_SPEEDS = {}
for _name in dir(termios):
    if _name.startswith("B") and _name[1:].isdigit():
        _SPEEDS[getattr(termios, _name)] = int(_name[1:])


def read_termios(fd):
    """The line settings of the tty behind fd (a pty master reads its
    slave's): dict with baud, stop_bits, data_bits, parity, crtscts and the
    raw flags."""
    try:
        buf = fcntl.ioctl(fd, _TCGETS2, bytes(_TERMIOS2.size))
        iflag, oflag, cflag, lflag, _line, _cc, ispeed, ospeed = _TERMIOS2.unpack(buf)
    except OSError:
        # no termios2 on this architecture: the classic call
        iflag, oflag, cflag, lflag, ispeed, ospeed, _cc = termios.tcgetattr(fd)
        ospeed = _SPEEDS.get(ospeed, ospeed)
    code = cflag & _CBAUD
    baud = ospeed if code == _BOTHER else _SPEEDS.get(code, ospeed)
    size = cflag & termios.CSIZE
    data_bits = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}[size]
    if not cflag & termios.PARENB:
        parity = "none"
    else:
        parity = "odd" if cflag & termios.PARODD else "even"
    return {
        "baud": baud,
        "stop_bits": 2 if cflag & termios.CSTOPB else 1,
        "data_bits": data_bits,
        "parity": parity,
        "crtscts": bool(cflag & termios.CRTSCTS),
        "iflag": iflag, "oflag": oflag, "cflag": cflag, "lflag": lflag,
    }


# ---------------------------------------------------------------------------
# The fake device and the radio at its far end


class FakeDevice:
    """A pty whose slave the gateway opens through `link`; this side holds
    the master. A reader thread collects what the gateway writes to the
    device, per plug-in (generation); `handler(dev, data)`, if set, is
    called with each chunk read (the radio emulator answers from there)."""

    def __init__(self, link, handler=None):
        self.link = str(link)
        self.handler = handler
        self.master = None
        self.slave_name = None
        self.generation = 0
        self.received = {}          # generation -> bytearray
        self.cond = threading.Condition()
        self._io = threading.Lock()  # guards self.master against close
        self._stop = False
        self._close_req = None
        self._thread = None
        self.errors = []

    # --- plugging
    def plug(self):
        """A new pty appears at self.link (atomically re-pointed)."""
        m, s = os.openpty()
        name = os.ttyname(s)
        # Only the gateway holds the slave: its hang-up and its open are
        # then the device's own.
        os.close(s)
        os.set_blocking(m, False)
        with self.cond:
            self.generation += 1
            self.received[self.generation] = bytearray()
        with self._io:
            self.master = m
            self.slave_name = name
        tmp = self.link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(name, tmp)
        os.replace(tmp, self.link)
        if self._thread is None:
            self._thread = threading.Thread(target=self._reader, name="fake-device",
                                            daemon=True)
            self._thread.start()
        return self

    def unplug(self, timeout=5.0):
        """The device vanishes: master closed (the gateway's fd hangs up),
        link removed. The reader thread closes the master itself, so no
        fd is closed under a select."""
        done = threading.Event()
        with self._io:
            if self.master is None:
                done.set()
            else:
                self._close_req = done
        if self._thread is None or not self._thread.is_alive():
            self._close_now()
        assert done.wait(timeout) or self.master is None, "reader did not close the master"
        if os.path.lexists(self.link):
            os.unlink(self.link)

    def _close_now(self):
        with self._io:
            if self.master is not None:
                os.close(self.master)
            self.master = None
            req, self._close_req = self._close_req, None
        if req is not None:
            req.set()

    def close(self):
        self._stop = True
        if self._thread is not None:
            self._thread.join(5)
        self.unplug()

    # --- the wire
    def _reader(self):
        # Only this thread closes the master (see unplug), so it may wait
        # on it without holding the lock.
        while not self._stop:
            if self._close_req is not None:
                self._close_now()
            fd, gen = self.master, self.generation
            if fd is None:
                time.sleep(0.02)
                continue
            try:
                r, _, _ = select.select([fd], [], [], 0.05)
                data = os.read(fd, 65536) if r else b""
            except BlockingIOError:
                data = b""
            except OSError as e:
                # EIO: no one holds the slave (before the gateway's open, or
                # after it closed the device)
                if e.errno != errno.EIO:
                    self.errors.append("read: %r" % e)
                time.sleep(0.02)
                continue
            if not data:
                continue
            with self.cond:
                self.received[gen] += data
                self.cond.notify_all()
            if self.handler is not None:
                try:
                    self.handler(self, data)
                except Exception as e:  # reported by the test
                    self.errors.append(repr(e))
        if self._close_req is not None:
            self._close_now()

    def write(self, data, timeout=5.0):
        """Bytes from the radio to the gateway (written to the master)."""
        view = memoryview(bytes(data))
        deadline = time.monotonic() + timeout
        while view:
            if time.monotonic() > deadline:
                raise AssertionError("device write blocked (%d bytes left)" % len(view))
            with self._io:
                fd = self.master
                if fd is None:
                    raise AssertionError("device is unplugged")
                try:
                    n = os.write(fd, view[:4096])
                except BlockingIOError:
                    n = 0
            view = view[n:]
            if not n:
                time.sleep(0.005)

    def got(self, gen=None):
        with self.cond:
            return bytes(self.received.get(gen or self.generation, b""))

    def wait_bytes(self, n, timeout=10.0, gen=None, start=0):
        """Wait until >= n bytes (after offset start) arrived in generation
        gen (default: the current one); returns them."""
        gen = gen or self.generation
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.received[gen]) - start >= n, timeout)
            got = bytes(self.received[gen][start:])
        assert ok, ("the device received only %d of %d bytes within %.0f s: %r"
                    % (len(got), n, timeout, got[-80:]))
        return got

    def wait_for(self, pred, timeout=10.0, gen=None, what="device data"):
        gen = gen or self.generation
        with self.cond:
            ok = self.cond.wait_for(lambda: pred(bytes(self.received[gen])), timeout)
            got = bytes(self.received[gen])
        assert ok, "timed out after %.0f s waiting for %s; device got %r" % (
            timeout, what, got[-120:])
        return got

    def termios(self):
        with self._io:
            assert self.master is not None, "device is unplugged"
            return read_termios(self.master)


class KenwoodRadio:
    """A Kenwood CAT radio (TS-2000 answers) behind a FakeDevice. Commands
    are ASCII ending in ';'; set commands are silent; unknown ones get '?;'.
    What hamlib's TS-2000 backend (rigctl -m 2014) asks: on open ID; PS;
    IF; AI; FA; FB; MD; to set a frequency PS; FAnnnnnnnnnnn; ID; and on
    close AI0; ID;."""

    RIG_ID = "019"   # TS-2000

    def __init__(self, freq_a=7000000, freq_b=7100000):
        self.freq_a = freq_a
        self.freq_b = freq_b
        self.mode = 2          # USB
        self.ai = 0
        self.power = 1
        self.commands = []     # every command seen, without ';'
        self.unknown = []      # those answered '?;'
        self._buf = b""
        self.lock = threading.Lock()

    def _if(self):
        # IF + freq(11) + step(5) + RIT/XIT offset(5) + RIT + XIT +
        # memory channel(3) + TX/RX + mode + VFO + scan + split + tone +
        # tone number(2) + shift + ';' = 38 characters
        return ("IF%011d" % self.freq_a + " " * 5 + "+0000" + "0" + "0" + "000" +
                "0" + str(self.mode) + "0" + "0" + "0" + "0" + "00" + "0" + ";")

    def answer(self, cmd):
        """The reply to one command (without its ';'), '' for none."""
        head, arg = cmd[:2], cmd[2:]
        if head == "ID" and not arg:
            return "ID%s;" % self.RIG_ID
        if head == "IF" and not arg:
            return self._if()
        if head in ("FA", "FB"):
            if not arg:
                return "%s%011d;" % (head, self.freq_a if head == "FA" else self.freq_b)
            if len(arg) == 11 and arg.isdigit():
                if head == "FA":
                    self.freq_a = int(arg)
                else:
                    self.freq_b = int(arg)
                return ""
            return "?;"
        if head == "AI":
            if not arg:
                return "AI%d;" % self.ai
            if arg in ("0", "1", "2", "3"):
                self.ai = int(arg)
                return ""
            return "?;"
        if head == "PS":
            if not arg:
                return "PS%d;" % self.power
            if arg in ("0", "1"):
                self.power = int(arg)
                return ""
            return "?;"
        if head == "MD":
            if not arg:
                return "MD%d;" % self.mode
            if len(arg) == 1 and arg in "123456789":
                self.mode = int(arg)
                return ""
            return "?;"
        return "?;"

    def __call__(self, dev, data):
        """FakeDevice handler: parse what arrived, answer each command."""
        out = []
        with self.lock:
            self._buf += data
            while b";" in self._buf:
                raw, self._buf = self._buf.split(b";", 1)
                cmd = raw.decode("ascii", "replace").strip()
                self.commands.append(cmd)
                ans = self.answer(cmd)
                if ans == "?;":
                    self.unknown.append(cmd)
                out.append(ans)
        reply = "".join(out)
        if reply:
            dev.write(reply.encode("ascii"))


# ---------------------------------------------------------------------------
# HTTP API


class Api:
    """Minimal JSON client for one gateway's /api/v1 on 127.0.0.1."""

    def __init__(self, port, timeout=5.0):
        self.port = port
        self.timeout = timeout

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            headers = {"Connection": "close"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            try:
                j = json.loads(raw) if raw else None
            except ValueError:
                j = raw
            return r.status, j
        finally:
            conn.close()

    def answers(self):
        try:
            return self.request("GET", "/api/v1/status")[0] == 200
        except OSError:
            return False

    def wait_up(self, gw, timeout=10.0):
        def ok():
            if not gw.running():
                raise AssertionError("gateway %s exited (rc=%s) before its API answered\n%s"
                                     % (gw.id, gw.proc.returncode, tail(gw.log, 30)))
            return self.answers()
        wait_until(ok, timeout, what="the HTTP API of gateway %s" % gw.id)
        return self

    def add_port(self, port):
        st, j = self.request("POST", "/api/v1/ports", port)
        assert st == 201, "POST /api/v1/ports %r -> %s %r" % (port, st, j)
        return j

    def port(self, name):
        st, j = self.request("GET", "/api/v1/ports/" + name)
        assert st == 200, "GET /api/v1/ports/%s -> %s %r" % (name, st, j)
        return j


# ---------------------------------------------------------------------------
# The cable: gateway A ("home", pty port vp) <-> gateway B ("shack", device
# port dev on the fake device), one broker.


def topic(gw_id, port, leaf):
    return "%s/%s/%s/%s" % (PREFIX, gw_id, port, leaf)


class Cable:
    A_ID, B_ID = "home", "shack"
    A_PORT, B_PORT = "vp", "dev"

    def __init__(self, gateway, broker, mqtt, workdir):
        self._gateway = gateway
        self.broker = broker
        self.workdir = str(workdir)
        self.mon = mqtt(["%s/#" % PREFIX])   # sees every topic of both
        self.a_state = topic(self.A_ID, self.A_PORT, "state")
        self.b_state = topic(self.B_ID, self.B_PORT, "state")
        self.b_set = topic(self.B_ID, self.B_PORT, "set")
        self.b_rx = topic(self.B_ID, self.B_PORT, "rx")
        self.b_tx = topic(self.B_ID, self.B_PORT, "tx")
        self.dev = None
        self.gw_a = self.gw_b = None
        self.api_a = self.api_b = None

    def _start_gateway(self, gw_id):
        hp = free_port()
        gw = self._gateway(ports=(), broker=self.broker, gateway_id=gw_id,
                           extra=["--http", "127.0.0.1:%d" % hp],
                           db=os.path.join(self.workdir, gw_id + ".db"),
                           link_dir=os.path.join(self.workdir, gw_id + "-links"))
        api = Api(hp).wait_up(gw)
        self.mon.wait_for(lambda m: m.payload == b"online",
                          topic="%s/%s/status" % (PREFIX, gw_id), timeout=10,
                          what="gateway %s online" % gw_id)
        return gw, api

    def start_gateways(self):
        self.gw_a, self.api_a = self._start_gateway(self.A_ID)
        self.gw_b, self.api_b = self._start_gateway(self.B_ID)
        return self

    def add_a(self, frame=None):
        port = {"name": self.A_PORT, "kind": "pty", "peer": "%s/%s" % (self.B_ID, self.B_PORT)}
        if frame:
            port["frame"] = frame
        self.api_a.add_port(port)
        self.link_a = self.gw_a.wait_link(self.A_PORT)
        return self.link_a

    def add_b(self, handler=None, frame=None, follow=True, **settings):
        """Plug the fake device in and create B's device port on its link;
        waits for the state to say open:true."""
        if self.dev is None:
            self.dev = FakeDevice(os.path.join(self.workdir, "ttyFAKE0"), handler)
            self.dev.plug()
        mark = self.mon.count()
        port = {"name": self.B_PORT, "kind": "device", "device": self.dev.link,
                "peer": "%s/%s" % (self.A_ID, self.A_PORT), "follow": follow}
        if frame:
            port["frame"] = frame
        port.update(settings)
        self.api_b.add_port(port)
        return self.wait_b(lambda s: s["open"] is True, start=mark,
                           what="dev open:true after it was created")

    def wait_b(self, pred, start=0, timeout=5.0, what=None):
        return self.mon.wait_json(self.b_state, pred, start=start, timeout=timeout,
                                  what=what or "B's dev state")

    def wait_a(self, pred, start=0, timeout=5.0, what=None):
        return self.mon.wait_json(self.a_state, pred, start=start, timeout=timeout,
                                  what=what or "A's vp state")

    def latest_b(self):
        m = self.mon.latest(self.b_state)
        return m.json() if m is not None and m.payload else None

    def close(self):
        if self.dev is not None:
            self.dev.close()


def sync_cable(app, dev, timeout=10.0):
    """Make sure both directions of the cable carry bytes (every
    subscription is in place): a probe from the program until it reaches
    the device, then one from the device until it reaches the program.
    Returns the number of bytes the program wrote."""
    written = 0
    start = len(dev.got())
    deadline = time.monotonic() + timeout
    while True:
        app.write_all(b"~")
        written += 1
        try:
            dev.wait_bytes(1, timeout=0.3, start=start)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError("no probe from the program reached the device "
                                     "within %.0f s" % timeout)
    while True:
        dev.write(b"~")
        if app.read_some(0.3):
            break
        if time.monotonic() > deadline:
            raise AssertionError("no probe from the device reached the program "
                                 "within %.0f s" % timeout)
    time.sleep(0.3)   # late probes of either side
    app.drain(quiet=0.3)
    return written
