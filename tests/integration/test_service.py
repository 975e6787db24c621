"""systemd's notify protocol (contract §5, Type=notify): the real gateway
against a datagram socket standing in for systemd's NOTIFY_SOCKET."""

import os
import socket
import time

import pytest


@pytest.fixture
def notify(tmp_path):
    """A bound notify socket; yields (path, recv(timeout) -> (message, t) or None)."""
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)

    def recv(timeout):
        s.settimeout(timeout)
        try:
            return s.recv(4096).decode(), time.monotonic()
        except socket.timeout:
            return None
    yield path, recv
    s.close()


def messages_for(recv, seconds):
    out, end = [], time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return out
        m = recv(left)
        if m is None:
            return out
        out.append(m)


def test_ready_once_ports_are_up_then_watchdog_at_half_the_period(gateway, notify):
    path, recv = notify
    g = gateway(ports=("n1", "n2"), wait_links=False,
                env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
    first = recv(15)
    assert first is not None, "no READY=1 within 15 s"
    assert first[0] == "READY=1", first
    # ready means the ports are up: their links exist when systemd hears it
    for n in ("n1", "n2"):
        assert os.path.islink(g.link(n)) and os.path.exists(g.link(n)), n
    got = messages_for(recv, 3.0)
    assert {m for m, _ in got} == {"WATCHDOG=1"}, got
    # 500 ms apart: ~6 in 3 s, not more often; never a gap that reaches the
    # 1 s period (systemd would kill the service)
    assert 4 <= len(got) <= 7, len(got)
    times = [first[1]] + [t for _, t in got]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 1.0, gaps
    assert min(gaps[1:]) > 0.3, gaps
    assert g.terminate() == 0
    rest = messages_for(recv, 1.0)
    assert "STOPPING=1" in [m for m, _ in rest], rest


def test_no_watchdog_keepalives_unless_asked(gateway, notify):
    path, recv = notify
    gateway(ports=("n1",), env={"NOTIFY_SOCKET": path})
    first = recv(15)
    assert first is not None and first[0] == "READY=1", first
    assert messages_for(recv, 1.5) == []


def test_watchdog_meant_for_another_process_is_not_ours(gateway, notify):
    """WATCHDOG_PID names the process systemd watches: not us, no keep-alives."""
    path, recv = notify
    gateway(ports=("n1",), env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000",
                               "WATCHDOG_PID": "1"})
    first = recv(15)
    assert first is not None and first[0] == "READY=1", first
    assert messages_for(recv, 1.0) == []


def loop_wakeups(pid, seconds):
    """How often the gateway's loop thread (its main thread) returns from
    epoll over SECONDS, counted with strace attached to the running process."""
    import signal
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        st = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=epoll_wait,epoll_pwait",
                               "-o", out.name, "-p", str(pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(seconds)
        st.send_signal(signal.SIGINT)
        st.wait(10)
        lines = out.read().splitlines()
    # "-f" prefixes each line with the thread id; the loop runs on the main thread
    return sum(1 for l in lines if l.startswith("%d " % pid) and "epoll" in l
               and "<unfinished" not in l)


def test_idle_loop_wakes_only_for_the_watchdog(gateway, notify, mqtt):
    """The watchdog is the only thing that wakes an idle gateway's loop:
    twice a second with a 1 s period, never more (the loop lag is sampled
    on the 1 s state timer, which runs only while something moves)."""
    path, recv = notify
    g = gateway(ports=("n1",), env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
    first = recv(15)
    assert first is not None and first[0] == "READY=1", first
    # idle means after the broker connection is made and its subscriptions,
    # retained messages and the first states have gone through
    status = "mqttty/%s/status" % g.id
    c = mqtt([status])
    c.wait_for(lambda m: m.payload == b"online", topic=status, timeout=15, what="online")
    time.sleep(1.5)
    n = loop_wakeups(g.proc.pid, 3.0)
    assert 4 <= n <= 9, "%d loop wake-ups in 3 s (keep-alives every 0.5 s)" % n
