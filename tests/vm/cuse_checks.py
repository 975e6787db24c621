#!/usr/bin/python3
"""cuse ports with real programs; run inside the VM by tests/vm/test_cuse.sh.

Starts Mosquitto and the gateway on the guest's loopback, makes cuse ports
through the HTTP API and drives them the way applications do: pyserial,
stty, hamlib's rigctl, plain ioctls. Every wait is bounded; every process
started here is ended by its own PID. Prints "ok - …"/"not ok - …" per check
and "N passed, N failed" at the end; exits 1 if anything failed.
"""

import errno
import fcntl
import json
import os
import random
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback
import urllib.error
import urllib.request

import paho.mqtt.client as mqtt
import serial

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MQTTTY_BIN", "build/mqttty")
BIN = BIN if os.path.isabs(BIN) else os.path.join(REPO, BIN)
PY = "/usr/bin/python3"
PREFIX, GW = "mqttty", "vm"
BROKER_PORT, HTTP_PORT = 1883, 8080

TIOCMGET, TIOCMIWAIT = 0x5415, 0x545C
TIOCM_DTR, TIOCM_RTS, TIOCM_CTS, TIOCM_CAR, TIOCM_RNG, TIOCM_DSR = (
    0x002, 0x004, 0x020, 0x040, 0x080, 0x100)


def wait_until(pred, timeout=5.0, what="condition", interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- the broker's view ------------------------------------------------------

class Monitor:
    """Everything published under PREFIX/GW/#, kept per topic in order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.msgs = {}          # topic -> [payload bytes]
        self.c = mqtt.Client(client_id="cuse-checks")
        self.c.on_message = self._on_message
        self.c.on_connect = lambda c, u, f, rc: c.subscribe(PREFIX + "/#", qos=1)
        self.c.connect("127.0.0.1", BROKER_PORT)
        self.c.loop_start()

    def _on_message(self, client, userdata, m):
        with self.lock:
            self.msgs.setdefault(m.topic, []).append(bytes(m.payload))

    def topic(self, port, leaf):
        return "%s/%s/%s/%s" % (PREFIX, GW, port, leaf)

    def count(self, port, leaf):
        with self.lock:
            return len(self.msgs.get(self.topic(port, leaf), []))

    def since(self, port, leaf, start):
        with self.lock:
            return list(self.msgs.get(self.topic(port, leaf), [])[start:])

    def states(self, port, start=0):
        return [json.loads(p) for p in self.since(port, "state", start) if p]

    def state(self, port):
        s = self.states(port)
        return s[-1] if s else None

    def wait_state(self, port, pred, timeout=5.0, what="state"):
        """The first state (the last one published) that satisfies pred."""
        def ok():
            st = self.state(port)
            return st if st is not None and pred(st) else None
        return wait_until(ok, timeout, "%s of %s (last %s)" % (what, port, self.state(port)))

    def publish(self, port, leaf, payload, qos=1):
        self.c.publish(self.topic(port, leaf), payload, qos=qos).wait_for_publish()

    def stop(self):
        self.c.loop_stop()
        self.c.disconnect()


# ---- the gateway and its API --------------------------------------------------

def api(method, path, body=None, port=HTTP_PORT):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1%s" % (port, path),
                                 data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


class World:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="cuse-checks.")
        self.links = os.path.join(self.tmp, "links")
        self.procs = []
        conf = os.path.join(self.tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    % BROKER_PORT)
        self.broker = self.spawn(["mosquitto", "-c", conf], "broker.log")
        wait_until(lambda: self.port_open(BROKER_PORT), 10, "mosquitto")
        self.gw_log = os.path.join(self.tmp, "gateway.log")
        self.mon = None
        self.restart_gateway()

    def restart_gateway(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MQTTTY_")}
        env["HOME"] = self.tmp
        self.gateway = self.spawn(
            [BIN, "serve", "--broker", "mqtt://127.0.0.1:%d" % BROKER_PORT, "--id", GW,
             "--db", os.path.join(self.tmp, "mqttty.db"), "--link-dir", self.links,
             "--http", "127.0.0.1:%d" % HTTP_PORT, "--log-level", "debug"],
            "gateway.log", env=env)
        wait_until(lambda: self.port_open(HTTP_PORT), 20, "the gateway's API")
        if not self.mon:
            self.mon = Monitor()
        wait_until(self.online, 10, "gateway online")

    def online(self):
        with self.mon.lock:
            st = self.mon.msgs.get("%s/%s/status" % (PREFIX, GW), [])
        return st and st[-1] == b"online"

    @staticmethod
    def port_open(port):
        import socket
        s = socket.socket()
        try:
            s.settimeout(0.5)
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def spawn(self, argv, log, env=None, **kw):
        f = open(os.path.join(self.tmp, log), "ab")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, env=env, **kw)
        self.procs.append(p)
        return p

    def link(self, name):
        return os.path.join(self.links, name)

    def log_tail(self, n=40):
        with open(self.gw_log, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")

    def stop(self):
        self.mon.stop()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


# ---- checks --------------------------------------------------------------------

RESULTS = []


def check(name):
    def run(fn):
        t0 = time.monotonic()
        try:
            fn()
            RESULTS.append(True)
            print("ok - %s (%.1f s)" % (name, time.monotonic() - t0), flush=True)
        except Exception:
            RESULTS.append(False)
            print("not ok - %s" % name, flush=True)
            for line in traceback.format_exc().splitlines():
                print("#   " + line, flush=True)
            if W is not None:
                print("#   gateway log (tail):", flush=True)
                for line in W.log_tail(25).splitlines():
                    print("#     " + line, flush=True)
        return fn
    return run


def tiocmget(fd):
    return struct.unpack("i", fcntl.ioctl(fd, TIOCMGET, struct.pack("i", 0)))[0]


def open_serial(link, **kw):
    kw.setdefault("timeout", 2)
    return serial.Serial(link, **kw)


def raw_fd(link, vmin=1, vtime=0, flags=0):
    fd = os.open(link, os.O_RDWR | os.O_NOCTTY | flags)
    a = termios.tcgetattr(fd)
    a[0] = 0                                   # iflag
    a[1] = 0                                   # oflag
    a[3] = 0                                   # lflag: raw
    a[6][termios.VMIN] = vmin
    a[6][termios.VTIME] = vtime
    termios.tcsetattr(fd, termios.TCSANOW, a)
    return fd


# A child that blocks in an ioctl or a read until a signal; it reports what
# the blocked call ended with.
BLOCKER = r"""
import fcntl, os, signal, sys
class Interrupted(Exception): pass
def on_usr1(sig, frm): raise Interrupted()
signal.signal(signal.SIGUSR1, on_usr1)
import termios
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
a = termios.tcgetattr(fd)               # termios outlives opens: block for a byte
a[3] = 0
a[6][termios.VMIN], a[6][termios.VTIME] = 1, 0
termios.tcsetattr(fd, termios.TCSANOW, a)
print("blocking", flush=True)
try:
    if sys.argv[2] == "miwait":
        fcntl.ioctl(fd, 0x545C, 0x20)          # TIOCMIWAIT on CTS
    else:
        os.read(fd, 10)
    print("returned", flush=True)
except InterruptedError:
    print("EINTR", flush=True)
except Interrupted:
    print("interrupted", flush=True)
"""


def blocker(link, what):
    p = subprocess.Popen([PY, "-c", BLOCKER, link, what], stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"blocking"
    time.sleep(0.5)            # into the blocking call
    if p.poll() is not None:
        raise AssertionError("the %s did not block: %r" % (what, p.communicate()))
    return p


# An application on a cuse node in a process of its own: it opens the node
# with O_NOCTTY and sets raw termios (as pyserial or a terminal program
# does), then answers one line per command on stdin: "m" TIOCMGET, "t" its
# termios (ispeed ospeed cflag), "w HEX" write (bytes written), "q" close.
NODE_APP = r"""
import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
a = termios.tcgetattr(fd)
a[0] = a[1] = a[3] = 0
a[6][termios.VMIN], a[6][termios.VTIME] = 1, 0
termios.tcsetattr(fd, termios.TCSANOW, a)
print("open", flush=True)
for line in sys.stdin:
    cmd, _, arg = line.strip().partition(" ")
    if cmd == "m":
        print(struct.unpack("i", fcntl.ioctl(fd, 0x5415, struct.pack("i", 0)))[0], flush=True)
    elif cmd == "t":
        a = termios.tcgetattr(fd)
        print(a[4], a[5], a[2], flush=True)
    elif cmd == "w":
        print(os.write(fd, bytes.fromhex(arg)), flush=True)
    elif cmd == "q":
        break
os.close(fd)
print("closed", flush=True)
"""


class NodeApp:
    """NODE_APP on a link; every answer is waited for 10 s at most."""

    def __init__(self, link):
        import queue
        self.q = queue.Queue()
        self.p = subprocess.Popen([PY, "-c", NODE_APP, link], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()
        assert self._line() == "open"

    def _read(self):
        for raw in self.p.stdout:
            self.q.put(raw.decode().strip())
        self.q.put(None)

    def _line(self):
        import queue
        try:
            line = self.q.get(timeout=10)
        except queue.Empty:
            raise AssertionError("the application on the node did not answer")
        assert line is not None, "the application on the node ended"
        return line

    def ask(self, cmd):
        self.p.stdin.write((cmd + "\n").encode())
        self.p.stdin.flush()
        return self._line()

    def lines(self):
        return int(self.ask("m"))

    def termios(self):
        return tuple(int(x) for x in self.ask("t").split())

    def close(self):
        if self.p.poll() is None:
            try:
                assert self.ask("q") == "closed"
            finally:
                self.p.stdin.close()
                try:
                    self.p.wait(10)
                except subprocess.TimeoutExpired:
                    self.p.kill()
                    self.p.wait()


def read_n(s, n, timeout=10.0):
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += s.read(n - len(got))
    return got


W = None


def main():
    global W
    W = World()
    mon = W.mon
    radio = W.link("radio")
    print("# gateway %s, kernel %s" % (BIN, os.uname().release), flush=True)

    @check("POST a cuse port: 201, node /dev/ttyMQ-radio, link at LINK_DIR/radio")
    def _():
        st, port = api("POST", "/ports", {"name": "radio", "kind": "cuse"})
        assert st == 201, (st, port)
        assert port["kind"] == "cuse" and port["path"] == radio, port
        assert os.readlink(radio) == "/dev/ttyMQ-radio", os.readlink(radio)
        assert os.path.exists("/dev/ttyMQ-radio")
        import stat
        assert stat.S_ISCHR(os.stat(radio).st_mode)
        s = mon.wait_state("radio", lambda s: s["open"] is False)
        for k in ("baud", "data_bits", "parity", "stop_bits", "flow", "dtr", "rts", "cts",
                  "dsr", "dcd", "ri"):
            assert s[k] is not None, (k, s)     # a cuse port knows every key
        assert (s["baud"], s["data_bits"], s["parity"], s["stop_bits"]) == (9600, 8, "none", 1)

    @check("the same name again: 409; a node that exists already: 409")
    def _():
        st, body = api("POST", "/ports", {"name": "radio", "kind": "cuse"})
        assert st == 409, (st, body)
        with open("/dev/ttyMQ-taken", "w"):
            pass
        try:
            st, body = api("POST", "/ports", {"name": "taken", "kind": "cuse"})
            assert st == 409 and "/dev/ttyMQ-taken" in body["error"], (st, body)
            assert api("GET", "/ports/taken")[0] == 404
        finally:
            os.unlink("/dev/ttyMQ-taken")

    @check("no /dev/cuse: 400 saying to load the module; pty ports unaffected")
    def _():
        os.rename("/dev/cuse", "/dev/cuse.away")
        try:
            st, body = api("POST", "/ports", {"name": "nocuse", "kind": "cuse"})
            assert st == 400 and "modprobe cuse" in body["error"], (st, body)
            assert api("GET", "/ports/nocuse")[0] == 404
            st, body = api("POST", "/ports", {"name": "plain"})
            assert st == 201 and os.path.islink(W.link("plain")), (st, body)
            assert api("DELETE", "/ports/plain")[0] == 204
        finally:
            os.rename("/dev/cuse.away", "/dev/cuse")

    @check("not root: /dev/cuse not permitted → 400 naming the udev rule; "
           "permitted → the port works")
    def _():
        home = tempfile.mkdtemp(prefix="cuse-nobody.")     # not under W.tmp (0700)
        os.chown(home, 65534, 65534)
        # The checkout may be where nobody cannot reach it (a clone in /root,
        # mode 0700): run a copy of the binary from nobody's own directory.
        bin_copy = os.path.join(home, "mqttty")
        shutil.copy(BIN, bin_copy)
        os.chmod(bin_copy, 0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MQTTTY_")}
        env["HOME"] = home
        g = W.spawn([bin_copy, "serve", "--broker", "mqtt://127.0.0.1:%d" % BROKER_PORT,
                     "--id", "vm2", "--db", os.path.join(home, "db"),
                     "--link-dir", os.path.join(home, "links"), "--http", "127.0.0.1:8081"],
                    "gateway-nobody.log", env=env, user=65534, group=65534, cwd=home)
        try:
            wait_until(lambda: W.port_open(8081), 20, "the unprivileged gateway's API")
            assert oct(os.stat("/dev/cuse").st_mode & 0o777) == "0o600"
            st, body = api("POST", "/ports", {"name": "np", "kind": "cuse"}, port=8081)
            assert st == 400 and 'KERNEL==\"cuse\"' in body["error"] and \
                "root" in body["error"], (st, body)
            os.chmod("/dev/cuse", 0o666)       # what the udev rule would do
            st, body = api("POST", "/ports", {"name": "np", "kind": "cuse"}, port=8081)
            assert st == 201, (st, body)
            link = os.path.join(home, "links", "np")
            with open_serial(link, baudrate=19200):
                wait_until(lambda: api("GET", "/ports/np", port=8081)[1]["state"]["open"], 3,
                           "open seen by the unprivileged gateway")
                assert api("GET", "/ports/np", port=8081)[1]["state"]["baud"] == 19200
        finally:
            os.chmod("/dev/cuse", 0o600)
            g.send_signal(signal.SIGTERM)
            rc = g.wait(15)
            with open(os.path.join(W.tmp, "gateway-nobody.log"), "rb") as f:
                log = f.read().decode(errors="replace")
            assert rc == 0 and "runtime error" not in log and "Sanitizer" not in log, \
                (rc, log[-3000:])
        assert not os.path.exists("/dev/ttyMQ-np")

    @check("pyserial 4800 7E1 then 250000: the state says exactly that")
    def _():
        with open_serial(radio, baudrate=4800, bytesize=7, parity="E") as s:
            mon.wait_state("radio", lambda st: st["open"] and st["baud"] == 4800 and
                           st["data_bits"] == 7 and st["parity"] == "even" and
                           st["stop_bits"] == 1 and st["flow"] == "none", what="4800 7E1")
            s.baudrate = 250000
            mon.wait_state("radio", lambda st: st["baud"] == 250000 and st["data_bits"] == 7
                           and st["parity"] == "even", what="250000 7E1")
            s.stopbits = 2
            s.parity = "O"
            s.bytesize = 8
            mon.wait_state("radio", lambda st: (st["baud"], st["data_bits"], st["parity"],
                                                st["stop_bits"]) == (250000, 8, "odd", 2))
        mon.wait_state("radio", lambda st: st["open"] is False, what="closed")

    @check("rts/dtr set by the application show in the state at once")
    def _():
        with open_serial(radio, baudrate=9600) as s:
            for rts, dtr in ((True, False), (False, False), (False, True), (True, True),
                             (False, False)):
                t0 = time.monotonic()
                s.rts = rts
                s.dtr = dtr
                mon.wait_state("radio", lambda st: st["rts"] is rts and st["dtr"] is dtr,
                               timeout=2, what="rts=%s dtr=%s" % (rts, dtr))
                assert time.monotonic() - t0 < 1.0
                m = tiocmget(s.fd)
                assert bool(m & TIOCM_RTS) == rts and bool(m & TIOCM_DTR) == dtr, hex(m)

    @check('set {"cts":true,"dcd":true} reaches the application (TIOCMGET); '
           'bad set payloads change nothing')
    def _():
        with open_serial(radio) as s:
            mon.publish("radio", "set", json.dumps({"cts": True, "dcd": True}))
            wait_until(lambda: s.cts and s.cd, 3, "cts and cd seen by pyserial")
            assert not s.dsr and not s.ri
            mon.wait_state("radio", lambda st: st["cts"] and st["dcd"] and not st["dsr"]
                           and not st["ri"])
            for bad in ({"cts": "yes"}, {"cts": False, "baud": 1200}, {"rts": True},
                        {"dsr": 1}, {"nope": True}):
                mon.publish("radio", "set", json.dumps(bad))
            mon.publish("radio", "set", b"not json")
            time.sleep(0.5)
            assert s.cts and s.cd and not s.dsr
            st = mon.state("radio")
            assert st["cts"] and st["dcd"] and not st["dsr"] and st["baud"] == 9600, st

    @check("TIOCMIWAIT: a CTS waiter wakes on set, an RI-only waiter does not")
    def _():
        with open_serial(radio) as s:
            done = {}

            def waiter(name, mask):
                fcntl.ioctl(s.fd, TIOCMIWAIT, mask)
                done[name] = time.monotonic()
            a = threading.Thread(target=waiter, args=("cts", TIOCM_CTS | TIOCM_DSR))
            b = threading.Thread(target=waiter, args=("ri", TIOCM_RNG))
            a.start()
            b.start()
            time.sleep(0.5)
            assert not done, done
            mon.publish("radio", "set", json.dumps({"cts": False}))
            a.join(3)
            assert "cts" in done, "the CTS waiter did not wake"
            time.sleep(0.7)
            assert "ri" not in done, "the RI waiter woke on CTS"
            mon.publish("radio", "set", json.dumps({"ri": True}))
            b.join(3)
            assert "ri" in done, "the RI waiter did not wake"
            assert s.ri
            mon.publish("radio", "set", json.dumps({"ri": False, "dcd": False}))

    @check("a signal interrupts a blocked TIOCMIWAIT and a blocked read")
    def _():
        # Python runs the handler (which raises) only once the blocked call
        # returned: "interrupted" shows the gateway answered it with EINTR
        for what in ("miwait", "read"):
            p = blocker(radio, what)
            p.send_signal(signal.SIGUSR1)
            out = p.communicate(timeout=5)[0].strip()
            assert out in (b"EINTR", b"interrupted"), (what, out)
        p = blocker(radio, "read")             # and a fatal one
        p.kill()
        p.wait(5)
        mon.wait_state("radio", lambda st: st["open"] is False, what="closed")

    @check("breaks publish BASE/event {break_ms}: send_break, tcsendbreak, "
           "break_condition (measured)")
    def _():
        def next_event(k):
            ev = wait_until(lambda: mon.since("radio", "event", n + k), 3, "event %d" % k)
            return json.loads(ev[0])
        n = mon.count("radio", "event")
        with open_serial(radio) as s:
            # pyserial 3.5: tcsendbreak(fd, int(0.3 / 0.25)) → TCSBRKP 1 →
            # the kernel's 100 ms
            s.send_break(0.3)
            assert next_event(0) == {"break_ms": 100}
            termios.tcsendbreak(s.fd, 0)           # TCSBRK 0: 250 ms
            assert next_event(1) == {"break_ms": 250}
            s.break_condition = True               # TIOCSBRK … TIOCCBRK
            time.sleep(0.3)
            s.break_condition = False
            ms = next_event(2)["break_ms"]
            assert 280 <= ms <= 1500, ms

    @check("stty -a prints the settings; stty 9600 cs8 -parenb crtscts is applied")
    def _():
        r = subprocess.run(["stty", "-F", radio, "-a"], capture_output=True, timeout=10)
        assert r.returncode == 0, r
        out = r.stdout.decode()
        assert "rows 0; columns 0" in out and "baud" in out, out
        start = mon.count("radio", "state")
        r = subprocess.run(["stty", "-F", radio, "9600", "cs8", "-parenb", "crtscts"],
                           capture_output=True, timeout=10)
        assert r.returncode == 0 and not r.stderr, r
        r = subprocess.run(["stty", "-F", radio, "-a"], capture_output=True, timeout=10)
        out = r.stdout.decode()
        assert "speed 9600 baud" in out and " cs8" in out and "-parenb" in out and \
            " crtscts" in out, out
        wait_until(lambda: any(st["baud"] == 9600 and st["data_bits"] == 8 and
                               st["parity"] == "none" and st["flow"] == "rtscts"
                               for st in mon.states("radio", start)), 3, "stty's settings")
        r = subprocess.run(["stty", "-F", radio, "-crtscts"], capture_output=True, timeout=10)
        assert r.returncode == 0, r

    @check("rigctl --ptt-type=RTS: T 1 shows rts true, T 0 rts false")
    def _():
        h = serial.Serial()
        h.port = radio
        h.rts = False           # hold the port with the lines low, so that
        h.dtr = False           # rigctl's opens and closes do not move them
        h.open()
        try:
            mon.wait_state("radio", lambda st: st["open"] and st["rts"] is False)
            start = mon.count("radio", "state")
            rig = ["rigctl", "-m", "1", "--ptt-file=" + radio, "--ptt-type=RTS"]
            r = subprocess.run(rig + ["T", "1"], capture_output=True, timeout=30)
            assert r.returncode == 0, r
            wait_until(lambda: any(st["rts"] is True for st in mon.states("radio", start)),
                       3, "rts true after T 1")
            r = subprocess.run(rig + ["T", "0"], capture_output=True, timeout=30)
            assert r.returncode == 0, r
            mon.wait_state("radio", lambda st: st["rts"] is False, what="rts false after T 0")
        finally:
            h.close()

    @check("all 256 byte values and random data, both ways, in order")
    def _():
        rnd = random.Random(1)
        data = bytes(range(256)) + bytes(rnd.getrandbits(8) for _ in range(40000))
        with open_serial(radio, baudrate=115200, timeout=5) as s:
            mon.wait_state("radio", lambda st: st["open"])
            n = mon.count("radio", "tx")
            s.write(data)
            s.flush()
            wait_until(lambda: sum(map(len, mon.since("radio", "tx", n))) >= len(data), 20,
                       "the application's bytes on tx")
            got = b"".join(mon.since("radio", "tx", n))
            assert got == data, "tx differs at %d" % next(
                (i for i, (x, y) in enumerate(zip(got, data)) if x != y), len(got))
            for i in range(0, len(data), 1000):
                mon.c.publish(mon.topic("radio", "rx"), data[i:i + 1000], qos=1)
            got = s.read(len(data))
            assert got == data, "rx: %d of %d bytes, first difference at %d" % (
                len(got), len(data), next((i for i, (x, y) in enumerate(zip(got, data))
                                          if x != y), len(got)))

    @check("VMIN/VTIME, O_NONBLOCK (EAGAIN), poll, FIONREAD")
    def _():
        fd = raw_fd(radio, vmin=0, vtime=5)
        try:
            t0 = time.monotonic()
            assert os.read(fd, 10) == b""
            dt = time.monotonic() - t0
            assert 0.4 <= dt <= 2.0, dt
            a = termios.tcgetattr(fd)
            a[6][termios.VMIN] = 3
            a[6][termios.VTIME] = 0
            termios.tcsetattr(fd, termios.TCSANOW, a)
            res = {}
            t = threading.Thread(target=lambda: res.setdefault("r", os.read(fd, 10)))
            t.start()
            mon.publish("radio", "rx", b"ab")
            time.sleep(0.7)
            assert "r" not in res, res
            mon.publish("radio", "rx", b"c")
            t.join(3)
            assert res.get("r") == b"abc", res
            fl = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
            try:
                os.read(fd, 10)
                raise AssertionError("no EAGAIN")
            except BlockingIOError:
                pass
            assert select.select([fd], [], [], 0.2)[0] == []
            mon.publish("radio", "rx", b"xyz")
            assert select.select([fd], [], [], 3)[0] == [fd], "poll did not wake"
            n = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0)))[0]
            assert n == 3, n
            assert os.read(fd, 10) == b"xyz"
            assert select.select([], [fd], [], 1)[1] == [fd], "not writable"
        finally:
            os.close(fd)

    @check("closed: open false, rx counted as dropped; send → 409")
    def _():
        mon.wait_state("radio", lambda s: s["open"] is False)
        dropped = mon.state("radio")["dropped"]
        mon.publish("radio", "rx", b"nobody")
        mon.wait_state("radio", lambda s: s["dropped"] >= dropped + 6, timeout=4,
                       what="dropped counted")
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1/ports/radio/send" % HTTP_PORT,
                                     data=b"x", method="POST")
        req.add_header("Content-Type", "application/octet-stream")
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("send answered 2xx with nobody holding the port")
        except urllib.error.HTTPError as e:
            assert e.code == 409, e.code

    @check("backpressure: with the broker stalled, writes block (EAGAIN when "
           "non-blocking), then everything arrives in order")
    def _():
        rnd = random.Random(2)
        data = bytes(rnd.getrandbits(8) for _ in range(1536 * 1024))
        fd = raw_fd(radio)
        nb = os.open(radio, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        n = mon.count("radio", "tx")
        done = {"w": 0}

        def writer():
            for i in range(0, len(data), 4096):
                done["w"] += os.write(fd, data[i:i + 4096])
        W.broker.send_signal(signal.SIGSTOP)
        try:
            t = threading.Thread(target=writer)
            t.start()
            time.sleep(3)
            assert t.is_alive() and 512 * 1024 <= done["w"] < len(data), done
            try:
                os.write(nb, b"x")
                raise AssertionError("a non-blocking write went through a full bound")
            except BlockingIOError:
                pass
            assert select.select([], [nb], [], 0.2)[1] == [], "writable while held"
        finally:
            W.broker.send_signal(signal.SIGCONT)
        t.join(60)
        assert not t.is_alive() and done["w"] == len(data), done
        wait_until(lambda: sum(map(len, mon.since("radio", "tx", n))) >= len(data), 60,
                   "all bytes on tx")
        assert b"".join(mon.since("radio", "tx", n)) == data
        os.close(nb)
        os.close(fd)

    @check("RFC 2217 on a cuse port: pyserial's DTR/RTS move the port's lines (TIOCMGET "
           "of an application on the node, state), its baud/parity are the port's termios "
           "and state, a break is an event, bytes both ways")
    def _():
        lp = 4017
        url = "rfc2217://127.0.0.1:%d?timeout=3" % lp
        st, body = api("POST", "/ports", {"name": "net", "kind": "cuse",
                                          "rfc2217": "127.0.0.1:%d" % lp})
        assert st == 201 and body["rfc2217"] == "127.0.0.1:%d" % lp, (st, body)
        mon.wait_state("net", lambda s: s["open"] is False)
        app = NodeApp(W.link("net"))           # the first open raises DTR and RTS
        try:
            mon.wait_state("net", lambda s: s["open"] and s["dtr"] and s["rts"],
                           what="the application's open")
            c = serial.serial_for_url(url, timeout=0.2, do_not_open=True)
            c.baudrate = 9600
            c.dtr = False                      # sent with SET-CONTROL while opening
            c.rts = False
            c.open()
            try:
                for rts, dtr in ((False, False), (True, False), (False, True), (True, True),
                                 (False, False)):
                    c.rts = rts
                    c.dtr = dtr
                    wait_until(lambda: (lambda m: bool(m & TIOCM_RTS) == rts and
                                        bool(m & TIOCM_DTR) == dtr)(app.lines()), 3,
                               "rts=%s dtr=%s in TIOCMGET on the node (%s)"
                               % (rts, dtr, hex(app.lines())))
                    mon.wait_state("net", lambda s: s["rts"] is rts and s["dtr"] is dtr,
                                   timeout=3, what="rts=%s dtr=%s" % (rts, dtr))
                # input lines set on MQTT: the node's application and the
                # client (NOTIFY-MODEMSTATE) see the same
                mon.publish("net", "set", json.dumps({"cts": True, "dsr": True}))
                wait_until(lambda: c.cts and c.dsr and not c.cd and not c.ri, 3,
                           "cts and dsr at the RFC 2217 client")
                m = app.lines()
                assert m & TIOCM_CTS and m & TIOCM_DSR and not m & TIOCM_CAR, hex(m)
                # line settings: the port's termios, as the client's tcsetattr
                c.baudrate = 38400
                c.parity = serial.PARITY_EVEN
                c.bytesize = serial.SEVENBITS
                mon.wait_state("net", lambda s: (s["baud"], s["data_bits"], s["parity"]) ==
                               (38400, 7, "even"), what="38400 7E1")
                ispeed, ospeed, cflag = app.termios()
                assert ispeed == ospeed == termios.B38400, (ispeed, ospeed)
                assert cflag & termios.CSIZE == termios.CS7 and cflag & termios.PARENB and \
                    not cflag & termios.PARODD, hex(cflag)
                # a break: BASE/event with its length
                n = mon.count("net", "event")
                c.send_break(0.25)
                ev = wait_until(lambda: mon.since("net", "event", n), 3, "a break event")
                assert 150 <= json.loads(ev[0])["break_ms"] <= 2000, ev
                # bytes both ways: the client is the port's application
                data = bytes(range(256)) + bytes(random.Random(3).getrandbits(8)
                                                 for _ in range(20000))
                n = mon.count("net", "tx")
                c.write(data)
                c.flush()
                wait_until(lambda: sum(map(len, mon.since("net", "tx", n))) >= len(data), 20,
                           "the client's bytes on tx")
                assert b"".join(mon.since("net", "tx", n)) == data
                for i in range(0, len(data), 1000):
                    mon.c.publish(mon.topic("net", "rx"), data[i:i + 1000], qos=1)
                got = read_n(c, len(data))
                assert got == data, "rx at the client: %d of %d bytes" % (len(got), len(data))
                n = mon.count("net", "tx")      # the node's application writes too
                assert app.ask("w " + b"from the node".hex()) == "13"
                wait_until(lambda: b"".join(mon.since("net", "tx", n)) == b"from the node", 5,
                           "the node application's bytes on tx")
            finally:
                c.close()
            mon.wait_state("net", lambda s: s["open"] and (s["baud"], s["parity"]) ==
                           (38400, "even"), what="the application still holding the port")
        finally:
            app.close()
        mon.wait_state("net", lambda s: s["open"] is False, what="closed")
        # a client alone keys RTS and DTR; when it goes (the network may
        # go), they drop with it, as at an application's last close
        c = serial.serial_for_url(url, timeout=0.2)
        try:
            mon.wait_state("net", lambda s: s["open"] and s["rts"] and s["dtr"],
                           what="the client alone: rts and dtr raised")
        finally:
            c.close()
        mon.wait_state("net", lambda s: s["open"] is False and s["rts"] is False and
                       s["dtr"] is False, what="rts and dtr dropped with the client")
        # so they do when the listener is taken away under a client
        c = serial.serial_for_url(url, timeout=0.2)
        try:
            mon.wait_state("net", lambda s: s["open"] and s["rts"], what="the client again")
            st, body = api("PATCH", "/ports/net", {"rfc2217": None})
            assert st == 200 and body["rfc2217"] is None, (st, body)
            mon.wait_state("net", lambda s: s["open"] is False and s["rts"] is False and
                           s["dtr"] is False, what="rts and dtr dropped with the listener")
        finally:
            c.close()
        # and a port deleted under a client goes cleanly (the last check
        # looks for sanitizer reports in the gateway's log)
        st, body = api("PATCH", "/ports/net", {"rfc2217": "127.0.0.1:%d" % lp})
        assert st == 200, (st, body)
        c = serial.serial_for_url(url, timeout=0.2)
        try:
            mon.wait_state("net", lambda s: s["open"] and s["rts"], what="the client again")
            assert api("DELETE", "/ports/net")[0] == 204
            wait_until(lambda: mon.since("net", "state", 0)[-1] == b"", 3, "state cleared")
        finally:
            c.close()

    @check("null modem between two cuse ports: rts→cts, dtr→dsr+dcd, data")
    def _():
        for me, other in (("a", "b"), ("b", "a")):
            st, body = api("POST", "/ports", {"name": me, "kind": "cuse",
                                              "peer": "%s/%s" % (GW, other)})
            assert st == 201, (st, body)
        with open_serial(W.link("a")) as a, open_serial(W.link("b")) as b:
            a.rts = True
            a.dtr = False
            wait_until(lambda: b.cts and not b.dsr and not b.cd, 3, "b sees a's rts")
            a.rts = False
            a.dtr = True
            wait_until(lambda: not b.cts and b.dsr and b.cd, 3, "b sees a's dtr")
            b.rts = True
            wait_until(lambda: a.cts, 3, "a sees b's rts")
            a.write(b"over the cable")
            assert b.read(14) == b"over the cable"
        for name in ("a", "b"):
            assert api("DELETE", "/ports/" + name)[0] == 204

    @check("DELETE: a blocked reader gets an error, the node and the link vanish, "
           "the state is cleared")
    def _():
        fd = raw_fd(radio)
        res = {}

        def reader():
            try:
                res["r"] = os.read(fd, 10)
            except OSError as e:
                res["e"] = e.errno
        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.5)
        assert api("DELETE", "/ports/radio")[0] == 204
        t.join(5)
        assert "e" in res, res
        os.close(fd)
        wait_until(lambda: not os.path.exists("/dev/ttyMQ-radio"), 3, "node gone")
        assert not os.path.lexists(radio)
        wait_until(lambda: mon.since("radio", "state", 0)[-1] == b"", 3, "state cleared")
        st, body = api("POST", "/ports", {"name": "radio", "kind": "cuse"})   # again
        assert st == 201, (st, body)
        assert api("DELETE", "/ports/radio")[0] == 204

    @check("a stored cuse port comes back after a restart; the gateway stops cleanly "
           "with an application blocked on it (exit 0, no sanitizer report)")
    def _():
        assert api("POST", "/ports", {"name": "last", "kind": "cuse"})[0] == 201
        W.gateway.send_signal(signal.SIGTERM)
        assert W.gateway.wait(15) == 0
        wait_until(lambda: not os.path.exists("/dev/ttyMQ-last"), 3, "node gone")
        W.restart_gateway()
        wait_until(lambda: os.path.exists("/dev/ttyMQ-last"), 10, "node back")
        fd = raw_fd(W.link("last"))
        res = {}

        def reader():
            try:
                res["r"] = os.read(fd, 10)
            except OSError as e:
                res["e"] = e.errno
        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.5)
        W.gateway.send_signal(signal.SIGTERM)
        assert W.gateway.wait(15) == 0
        t.join(5)
        assert "e" in res, res
        os.close(fd)
        with open(W.gw_log, "rb") as f:
            log = f.read()
        for mark in (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:"):
            assert mark not in log, W.log_tail(60)

    W.stop()
    passed = RESULTS.count(True)
    failed = RESULTS.count(False)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        if W is not None:
            print(W.log_tail(40))
            W.stop()
        print("%d passed, %d failed" % (RESULTS.count(True), RESULTS.count(False) + 1))
        sys.exit(1)
