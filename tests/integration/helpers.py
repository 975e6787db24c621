"""Helpers for the mqttty integration tests.

Everything here drives real things: a Mosquitto process, the mqttty binary,
paho-mqtt clients and pseudo-terminals opened the way a serial application
opens them. Every wait is bounded; every process started here is ended by
its own PID.
"""

import errno
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import termios
import threading
import time

import paho.mqtt.client as mqtt

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Debian installs it in /usr/sbin, which a normal user's PATH lacks
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

STATE_KEYS = {
    "open", "baud", "data_bits", "parity", "stop_bits", "flow",
    "dtr", "rts", "cts", "dsr", "dcd", "ri",
    "tx_bytes", "rx_bytes", "dropped",
}
MODEM_LINES = ("dtr", "rts", "cts", "dsr", "dcd", "ri")
COUNTERS = ("tx_bytes", "rx_bytes", "dropped")
# Every setting of CONTRACT.md §2 (the API's port object without "state",
# plus "path").
PORT_OBJECT_KEYS = {
    "name", "kind", "device", "baud", "data_bits", "parity", "stop_bits",
    "flow", "dtr", "rts", "peer", "follow", "frame", "qos", "enabled", "path",
    "rfc2217",
}


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it returns a truthy value; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def end_process(proc, timeout=5.0):
    """SIGTERM our own child, then SIGKILL if it does not go. Returns rc."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


# --------------------------------------------------------------------------
# Mosquitto


class Broker:
    """A private Mosquitto on 127.0.0.1 with persistence in a tmp dir."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.persist_dir = os.path.join(self.dir, "persist")
        os.makedirs(self.persist_dir, exist_ok=True)
        self.log = os.path.join(self.dir, "mosquitto.log")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.port = None
        self.proc = None
        self._procs = []
        self.allow_anonymous = True
        self.extra_conf = []  # more lines, e.g. a TLS listener or a password_file

    @property
    def uri(self):
        return "mqtt://127.0.0.1:%d" % self.port

    def _write_conf(self):
        lines = [
            "listener %d 127.0.0.1" % self.port,
            "allow_anonymous %s" % ("true" if self.allow_anonymous else "false"),
            "persistence true",
            "persistence_location %s/" % self.persist_dir,
            "autosave_interval 0",
            # The tests check the gateway, not the broker's queue limits.
            "max_queued_messages 0",
            "log_dest file %s" % self.log,
            "log_type all",
            "connection_messages true",
            "log_timestamp true",
        ]
        lines += self.extra_conf
        if os.geteuid() == 0:
            # Stay root: the tmp dir is not readable by "mosquitto"/"nobody".
            lines.append("user root")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _launch(self, timeout=5.0):
        self._write_conf()
        logf = open(os.path.join(self.dir, "mosquitto.stdout"), "ab")
        proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=logf,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        self._procs.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return proc, False
            if port_accepts(self.port):
                return proc, True
            time.sleep(0.05)
        end_process(proc)
        return proc, False

    def start(self, new_port=False):
        """Start (again). Keeps the port unless none was chosen yet."""
        assert self.proc is None or self.proc.poll() is not None, "broker already running"
        tries = 5 if (self.port is None or new_port) else 1
        for _ in range(tries):
            if self.port is None or new_port:
                self.port = free_port()
            proc, ok = self._launch()
            if ok:
                self.proc = proc
                return self
            new_port = True
        raise AssertionError("mosquitto did not start on 127.0.0.1:%s\n%s"
                             % (self.port, tail(self.log, 20)))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("mosquitto ignored SIGTERM for %.0f s" % timeout)
        wait_until(lambda: not port_accepts(self.port), 5, what="broker port to close")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def cleanup(self):
        for p in self._procs:
            if p.poll() is None:
                end_process(p)


# --------------------------------------------------------------------------
# MQTT client


class Msg:
    __slots__ = ("topic", "payload", "retain", "qos", "t")

    def __init__(self, topic, payload, retain, qos):
        self.topic = topic
        self.payload = bytes(payload)
        self.retain = bool(retain)
        self.qos = qos
        self.t = time.monotonic()

    def json(self):
        return json.loads(self.payload.decode("utf-8"))

    def __repr__(self):
        p = self.payload
        shown = p[:120]
        return "<%s retain=%d qos=%d %r%s>" % (self.topic, self.retain, self.qos, shown,
                                               "...(%d bytes)" % len(p) if len(p) > 120 else "")


class MqttClient:
    """paho 1.6.1 client (MQTT 3.1.1) collecting every message it receives."""

    def __init__(self, port, client_id=None, clean_session=True, username=None, password=None):
        self.port = port
        self.client_id = client_id or ("t-%s" % os.urandom(4).hex())
        self.clean_session = clean_session
        self.messages = []
        self.cond = threading.Condition()
        self.connected = threading.Event()
        self.session_present = None
        self.subs = {}  # topic -> qos
        self._acks = {}
        c = mqtt.Client(client_id=self.client_id, clean_session=clean_session,
                        protocol=mqtt.MQTTv311)
        c.reconnect_delay_set(min_delay=1, max_delay=1)
        if username is not None:
            c.username_pw_set(username, password)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self.client = c

    # paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, rc):
        if rc != 0:
            return
        self.session_present = bool(flags.get("session present"))
        if self.subs and not self.session_present:
            for topic, qos in list(self.subs.items()):
                client.subscribe(topic, qos)
        self.connected.set()

    def _on_disconnect(self, client, userdata, rc):
        self.connected.clear()

    def _on_message(self, client, userdata, m):
        with self.cond:
            self.messages.append(Msg(m.topic, m.payload, m.retain, m.qos))
            self.cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, granted):
        with self.cond:
            self._acks[mid] = granted
            self.cond.notify_all()

    def connect(self, timeout=5.0):
        self.client.connect("127.0.0.1", self.port, keepalive=10)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            raise AssertionError("test MQTT client could not connect to 127.0.0.1:%d" % self.port)
        return self

    def connect_async(self):
        """Connect now or whenever the broker comes up (paho retries)."""
        self.client.connect_async("127.0.0.1", self.port, keepalive=10)
        self.client.loop_start()
        return self

    def wait_connected(self, timeout=10.0):
        if not self.connected.wait(timeout):
            raise AssertionError("test MQTT client did not (re)connect within %.0f s" % timeout)

    def subscribe(self, topic, qos=1, timeout=5.0):
        self.subs[topic] = qos
        rc, mid = self.client.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, "subscribe(%s) rc=%s" % (topic, rc)
        with self.cond:
            ok = self.cond.wait_for(lambda: mid in self._acks, timeout)
        assert ok, "no SUBACK for %s" % topic
        return self

    def publish(self, topic, payload, qos=1, retain=False, timeout=10.0):
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos > 0:
            info.wait_for_publish(timeout)
            assert info.is_published(), "publish to %s not acknowledged in %.0f s" % (topic, timeout)
        return info

    def disconnect(self):
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()

    # ---- reading what arrived

    def count(self):
        with self.cond:
            return len(self.messages)

    def snapshot(self, topic=None, start=0):
        with self.cond:
            msgs = self.messages[start:]
        if topic is not None:
            msgs = [m for m in msgs if m.topic == topic]
        return msgs

    def wait_for(self, pred, timeout=5.0, start=0, what=None, topic=None):
        """First message from index `start` (on `topic` if given) satisfying
        pred; AssertionError with the recent messages on timeout."""
        def find():
            for m in self.messages[start:]:
                if topic is not None and m.topic != topic:
                    continue
                try:
                    if pred(m):
                        return m
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
            return None
        with self.cond:
            found = self.cond.wait_for(find, timeout)
            if found:
                return found
            recent = [m for m in self.messages[start:] if topic is None or m.topic == topic][-8:]
        raise AssertionError("timed out after %.1f s waiting for %s; last messages%s:\n  %s"
                             % (timeout, what or "a matching MQTT message",
                                " on " + topic if topic else "",
                                "\n  ".join(repr(m) for m in recent) or "(none)"))

    def wait_json(self, topic, pred, timeout=5.0, start=0, what=None):
        def p(m):
            if not m.payload:
                return False
            return pred(m.json())
        return self.wait_for(p, timeout, start, what or ("JSON on %s" % topic), topic=topic).json()

    def latest(self, topic):
        with self.cond:
            for m in reversed(self.messages):
                if m.topic == topic:
                    return m
        return None

    def concat(self, topic, start=0):
        return b"".join(m.payload for m in self.snapshot(topic, start))

    def wait_bytes(self, topic, n, timeout=10.0, start=0):
        """Wait until at least n payload bytes arrived on topic."""
        def enough():
            return sum(len(m.payload) for m in self.messages[start:] if m.topic == topic) >= n
        with self.cond:
            ok = self.cond.wait_for(enough, timeout)
        got = self.concat(topic, start)
        assert ok, "only %d of %d bytes arrived on %s within %.0f s" % (len(got), n, topic, timeout)
        return got


# --------------------------------------------------------------------------
# A serial application on the port's link


class App:
    """Opens a link exactly like a serial program: open(O_RDWR|O_NOCTTY),
    raw mode and line settings through tcsetattr. Non-blocking I/O with
    select so every read/write is bounded."""

    def __init__(self, path, baud=9600, stop_bits=1, crtscts=False, zero_lflag=False):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.configure(baud, stop_bits, crtscts, zero_lflag)

    def configure(self, baud=9600, stop_bits=1, crtscts=False, zero_lflag=False):
        """One tcsetattr, like cfmakeraw + cfsetspeed + flags."""
        iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(self.fd)
        iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP |
                   termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON |
                   termios.IXOFF | termios.IXANY)
        oflag &= ~termios.OPOST
        if zero_lflag:
            lflag = 0
        else:
            lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG |
                       termios.IEXTEN)
        cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | termios.CRTSCTS)
        cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
        if stop_bits == 2:
            cflag |= termios.CSTOPB
        if crtscts:
            cflag |= termios.CRTSCTS
        speed = getattr(termios, "B%d" % baud)
        cc = list(cc)
        cc[termios.VMIN] = 1
        cc[termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSANOW,
                          [iflag, oflag, cflag, lflag, speed, speed, cc])

    def write_all(self, data, timeout=10.0):
        view = memoryview(bytes(data))
        deadline = time.monotonic() + timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("write blocked: %d bytes not written within %.0f s"
                                     % (len(view), timeout))
            _, w, _ = select.select([], [self.fd], [], left)
            if not w:
                continue
            try:
                n = os.write(self.fd, view[:4096])
            except BlockingIOError:
                continue
            view = view[n:]

    def read_some(self, timeout):
        """Whatever arrives within timeout (b'' if nothing)."""
        r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not r:
            return b""
        try:
            return os.read(self.fd, 65536)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno == errno.EIO:
                raise AssertionError("read from %s: EIO (gateway closed the pty?)" % self.path)
            raise

    def read_exact(self, n, timeout=10.0):
        buf = bytearray()
        deadline = time.monotonic() + timeout
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("read only %d of %d bytes within %.0f s"
                                     % (len(buf), n, timeout))
            buf += self.read_some(min(left, 0.5))
        return bytes(buf)

    def read_for(self, duration):
        """Everything that arrives during `duration` seconds."""
        buf = bytearray()
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(buf)
            buf += self.read_some(left)

    def drain(self, quiet=0.3, limit=5.0):
        """Read until `quiet` seconds pass with nothing new."""
        buf = bytearray()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            chunk = self.read_some(quiet)
            if not chunk:
                break
            buf += chunk
        return bytes(buf)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def sync_rx(app, client, rx_topic, timeout=10.0):
    """Make sure the gateway is subscribed to rx and delivers to this app:
    publish a probe byte until one reaches the app, then drain. Probes
    published before the gateway subscribed are simply not delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.publish(rx_topic, b"~", qos=1)
        if app.read_some(0.3):
            app.drain()
            return
    raise AssertionError("no rx probe reached the application within %.0f s" % timeout)
