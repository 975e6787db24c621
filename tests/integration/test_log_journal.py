"""Log lines for systemd's journal (issue 11 item 6).

systemd connects a service's stderr to the journal and sets JOURNAL_STREAM
to that stream's "DEVICE:INODE" (systemd.exec(5)). When fd 2 is that
stream, each line starts with its syslog priority, "<3>" error, "<4>" warn,
"<6>" info, "<7>" debug (sd-daemon(3)), and has no time stamp of our own:
the journal keeps one. --log-level filters as ever. When JOURNAL_STREAM
names something else (stderr redirected elsewhere) or is malformed, the
lines keep their usual "TIME LEVEL TEXT" form.

Here the gateway's stderr is a file, and JOURNAL_STREAM names that file's
device and inode: what the gateway sees under systemd.
"""

import os
import re
import signal
import subprocess

import pytest

from gateway_proc import binary_path, clean_env
from helpers import MqttClient, wait_until

PRIO = {"error": "3", "warn": "4", "info": "6", "debug": "7"}
JOURNAL_LINE = re.compile(r"^<([0-7])>(error|warn |info |debug) (.*)$")
PLAIN_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn |info |debug) ")


class Run:
    """The gateway with stderr (and stdout) in a file; journal: what
    JOURNAL_STREAM says ("match": that file, "other": another file,
    anything else: the value itself)."""

    def __init__(self, tmp_path, args, journal):
        self.path = str(tmp_path / ("stderr-%s.log" % os.urandom(3).hex()))
        env = {}
        with open(self.path, "wb") as f:
            st = os.fstat(f.fileno())
            if journal == "match":
                env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
            elif journal == "other":
                other = os.stat(str(tmp_path))
                env["JOURNAL_STREAM"] = "%d:%d" % (other.st_dev, other.st_ino)
            elif journal is not None:
                env["JOURNAL_STREAM"] = journal
            self.proc = subprocess.Popen([binary_path()] + args, stdout=f, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=clean_env(tmp_path, env),
                                         cwd=str(tmp_path))

    def text(self):
        with open(self.path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def lines(self):
        return [l for l in self.text().splitlines() if l]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


def serve_args(tmp_path, broker, gw_id, level):
    return ["serve", "--broker", broker.uri, "--id", gw_id, "--db", str(tmp_path / "mqttty.db"),
            "--link-dir", str(tmp_path / "links"), "--http", "off", "--log-level", level,
            "--port", "p1"]


def run_with_a_warning(tmp_path, broker, gw_id, level, journal):
    """Start, make the gateway warn (a `set` that is no JSON), stop."""
    r = Run(tmp_path, serve_args(tmp_path, broker, gw_id, level), journal)
    try:
        wait_until(lambda: os.path.islink(str(tmp_path / "links" / "p1")) or r.proc.poll() is not None,
                   10, what="the link")
        assert r.proc.poll() is None, r.text()
        c = MqttClient(broker.port).connect()
        topic = "mqttty/%s/p1/set" % gw_id
        # until the gateway is subscribed and says so
        wait_until(lambda: c.publish(topic, b"not json", qos=1) and "not JSON" in r.text(),
                   10, interval=0.2, what="the warning in the log")
        c.disconnect()
    finally:
        rc = r.stop()
    assert rc == 0, r.text()
    return r


def test_journal_stream_lines_have_priorities_and_no_time_stamp(tmp_path, broker, gw_id):
    r = run_with_a_warning(tmp_path, broker, gw_id, "debug", "match")
    lines = r.lines()
    seen = set()
    for l in lines:
        m = JOURNAL_LINE.match(l)
        assert m, "not a journal line: %r" % l
        assert m.group(1) == PRIO[m.group(2).strip()], l
        assert not re.match(r"\d{4}-\d\d-\d\dT", m.group(3)), "a time stamp in %r" % l
        seen.add(m.group(1))
    assert any(l.startswith("<4>warn ") and "not JSON" in l for l in lines), lines
    assert any(l.startswith("<6>info ") and "links in" in l for l in lines), lines
    assert "<6>info  stopped" in lines, lines
    assert "7" in seen, "no debug line at --log-level debug: %r" % lines


def test_journal_stream_log_level_warn_filters_info_and_debug(tmp_path, broker, gw_id):
    r = run_with_a_warning(tmp_path, broker, gw_id, "warn", "match")
    lines = r.lines()
    assert lines, "nothing logged"
    for l in lines:
        m = JOURNAL_LINE.match(l)
        assert m and m.group(1) in ("3", "4"), "at --log-level warn: %r" % l
    assert any(l.startswith("<4>warn ") and "not JSON" in l for l in lines), lines


def test_journal_stream_start_up_failure_is_an_error(tmp_path):
    (tmp_path / "afile").write_text("")
    r = Run(tmp_path, ["serve", "--db", str(tmp_path / "mqttty.db"),
                       "--link-dir", str(tmp_path / "afile" / "links")], "match")
    assert r.proc.wait(10) == 1
    lines = r.lines()
    assert any(l.startswith("<3>mqttty: cannot create link directory ") for l in lines), lines
    assert all(l.startswith("<") for l in lines), lines


@pytest.mark.parametrize("journal", ["other", "garbage", "1:2:3", None])
def test_other_stderr_keeps_the_usual_format(tmp_path, broker, gw_id, journal):
    r = run_with_a_warning(tmp_path, broker, gw_id, "debug", journal)
    lines = r.lines()
    for l in lines:
        assert PLAIN_LINE.match(l), "JOURNAL_STREAM=%r: %r" % (journal, l)
    assert any(" warn  " in l and "not JSON" in l for l in lines), lines

    (tmp_path / "afile").write_text("")
    r = Run(tmp_path, ["serve", "--db", str(tmp_path / "mqttty.db"),
                       "--link-dir", str(tmp_path / "afile" / "links")], journal)
    assert r.proc.wait(10) == 1
    assert r.lines()[0].startswith("mqttty: cannot create link directory "), r.lines()
