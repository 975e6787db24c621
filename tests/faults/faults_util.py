"""Measuring helpers of the fault suite: process figures from /proc, round
trips through the gateway, a record of results, a TCP proxy that can hold
the gateway off the broker, and a Mosquitto with persistence on or off."""

import json
import os
import resource
import select
import socket
import statistics
import struct
import threading
import time

from helpers import Broker, wait_until


def long_form():
    return os.environ.get("FAULTS_LONG") == "1"


def pick(short, long):
    return long if long_form() else short


def record(kind, **figures):
    """Print one measurement and append it to $FAULTS_RESULTS."""
    b = os.environ.get("MQTTTY_BIN", "build/mqttty")
    build = "ASan+UBSan" if "asan" in b else ("valgrind" if "valgrind" in b else "release")
    figures = dict(kind=kind, form="long" if long_form() else "short", build=build, **figures)
    print("\nMEASURED " + json.dumps(figures, sort_keys=True))
    path = os.environ.get("FAULTS_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(figures, sort_keys=True) + "\n")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = min(max(soft, want), hard)
    if new != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return new


def percentiles(samples):
    if not samples:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    s = sorted(samples)
    return {"n": len(s), "p50_ms": round(statistics.median(s) * 1000, 2),
            "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1000, 2),
            "max_ms": round(s[-1] * 1000, 2)}


class FaultBroker(Broker):
    """The integration Broker with persistence switchable."""

    def __init__(self, workdir, persistence=True):
        super().__init__(workdir)
        self.persistence = persistence

    def _write_conf(self):
        super()._write_conf()
        if not self.persistence:
            with open(self.conf) as f:
                lines = [l for l in f.read().splitlines()
                         if not l.startswith(("persistence", "autosave"))]
            lines.append("persistence false")
            with open(self.conf, "w") as f:
                f.write("\n".join(lines) + "\n")


class Proxy:
    """A loopback TCP forwarder the gateway connects through. While held,
    new connections are closed at once (the gateway sees a failed connect
    and retries), so a test can let its own clients in first."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.held = False
        self.stopping = False
        self.pairs = []
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.stopping:
            r, _, _ = select.select([self.lsock], [], [], 0.2)
            if not r:
                continue
            try:
                c, _ = self.lsock.accept()
            except OSError:
                continue
            if self.held:
                c.close()
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                c.close()
                continue
            for s in (c, u):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.pairs.append((c, u))
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()

    def _pump(self, a, b):
        socks = [a, b]
        try:
            while not self.stopping:
                r, _, _ = select.select(socks, [], [], 0.2)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):   # ValueError: reset() closed it meanwhile
            pass
        finally:
            for s in socks:
                try:
                    s.close()
                except OSError:
                    pass

    def hold(self):
        self.held = True

    def reset(self):
        """Cut every connection as a failing network does: an RST to the
        gateway (SO_LINGER 0), a plain close towards the broker, which
        keeps the gateway's session. Returns how many were cut."""
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for c, u in pairs:
            try:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            for s in (c, u):
                try:
                    s.close()
                except OSError:
                    pass
        return len(pairs)

    def release(self):
        self.held = False

    def close(self):
        self.stopping = True
        self.lsock.close()
        self.t.join(2)


class Echo:
    """An application on port `link` that sends back every byte it gets,
    and an MQTT round trip through it: publish on rx, wait for the same
    bytes on tx. round_trip() returns seconds."""

    def __init__(self, link, client, base):
        self.fd = os.open(link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        import termios
        a = termios.tcgetattr(self.fd)
        a[0] = 0
        a[1] = 0
        a[3] = 0
        a[2] = a[2] | termios.CS8 | termios.CREAD | termios.CLOCAL
        termios.tcsetattr(self.fd, termios.TCSANOW, a)
        self.client = client
        sock = client.client.socket()
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.base = base
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        client.subscribe(base + "/tx", 0)
        self.seq = 0

    def _run(self):
        while not self.stop:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if not r:
                continue
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return
            while data:
                try:
                    n = os.write(self.fd, data)
                    data = data[n:]
                except BlockingIOError:
                    select.select([], [self.fd], [], 0.1)

    def round_trip(self, timeout=5.0):
        self.seq += 1
        token = b"<rt%08d>" % self.seq
        start = self.client.count()
        t0 = time.monotonic()
        self.client.publish(self.base + "/rx", token, qos=0)
        topic = self.base + "/tx"

        def got():
            return token in self.client.concat(topic, start)
        with self.client.cond:
            ok = self.client.cond.wait_for(got, timeout)
        if not ok:
            return None
        return time.monotonic() - t0

    def sample(self, seconds, interval=0.02):
        """Round trips for `seconds`; returns (samples, failures)."""
        out, fails = [], 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rt = self.round_trip()
            if rt is None:
                fails += 1
            else:
                out.append(rt)
            time.sleep(interval)
        return out, fails

    def close(self):
        self.stop = True
        self.t.join(2)
        os.close(self.fd)
