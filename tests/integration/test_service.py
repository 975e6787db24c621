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
