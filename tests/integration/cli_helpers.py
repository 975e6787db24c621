"""Helpers for test_cli.py: run `mqttty port ...` / `mqttty passwd` as a
user would, and read the gateway's API directly to check what they did.

Stdlib only. Every run and request is bounded; every process started here
is a child that has exited (or been killed by its own PID) on return.
"""

import http.client
import json
import re
import subprocess

from gateway_proc import SANITIZER_MARKS, binary_path, clean_env
from helpers import free_port, port_accepts, wait_until

# The client's own bound is 10 s; leave room for ASan start-up.
CLI_TIMEOUT = 25.0


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __repr__(self):
        return "<%s rc=%s\nstdout: %s\nstderr: %s>" % (" ".join(self.argv[1:]), self.rc,
                                                       self.out[-2000:], self.err[-2000:])


def run_mqttty(args, workdir, env=None, stdin=b"", timeout=CLI_TIMEOUT):
    """Run the binary with args to its end: Result. A run that outlives
    `timeout` is killed and fails the test, as does any sanitizer report."""
    argv = [binary_path()] + list(args)
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=clean_env(workdir, env),
                         cwd=str(workdir))
    try:
        out, err = p.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=5)
        raise AssertionError("%s still running after %.0f s; stderr: %r"
                             % (" ".join(argv[1:]), timeout, err[-500:]))
    r = Result(argv, p.returncode, out.decode("utf-8", "replace"),
               err.decode("utf-8", "replace"))
    assert not any(m.decode() in r.err for m in SANITIZER_MARKS), "sanitizer report: %r" % r
    return r


def port_cmd(workdir, *args, env=None):
    """`mqttty port ARGS...` with MQTTTY_* taken only from env."""
    return run_mqttty(["port"] + list(args), workdir, env=env)


def set_password(workdir, db, password="correct horse battery"):
    """`mqttty passwd --db DB` fed the password on stdin; returns the token."""
    r = run_mqttty(["passwd", "--db", str(db)], workdir, stdin=(password + "\n").encode())
    assert r.rc == 0, r
    token = r.out.strip()
    assert re.fullmatch(r"\S{16,}", token), "no token printed: %r" % r
    return token


def start_with_http(gateway, ports=("p1",), tries=3, **kw):
    """The gateway fixture with --http 127.0.0.1:FREEPORT; returns (gw, "ADDR:PORT")
    once the API accepts connections."""
    last = None
    extra = list(kw.pop("extra", ()))
    for _ in range(tries):
        hp = free_port()
        gw = gateway(list(ports), extra=["--http", "127.0.0.1:%d" % hp] + extra, **kw)
        try:
            wait_until(lambda: port_accepts(hp) or not gw.running(), 10,
                       what="the gateway's HTTP API on 127.0.0.1:%d" % hp)
        except AssertionError as e:
            last = e
            gw.kill()
            continue
        if gw.running():
            return gw, "127.0.0.1:%d" % hp
        last = AssertionError("gateway exited (rc=%s) at start" % gw.proc.returncode)
        gw.expect_dead = True   # e.g. the free port was taken meanwhile; try another
    raise last


def api(addr, method, path, token=None, body=None, timeout=5.0):
    """One request straight to the API: (status, parsed JSON or None)."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"Host": addr}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    return r.status, (json.loads(raw.decode()) if raw else None)


def settings(port_obj):
    """A port object without its live state: what stored config looks like."""
    return {k: v for k, v in port_obj.items() if k != "state"}


RIGHT_ALIGNED = ("TX", "RX", "DROPPED")


def parse_table(text):
    """`mqttty port list` output -> [row dict]. A cell is a run of text with
    single spaces inside (LINE is e.g. "9600 --1"); cells are apart by two
    or more. Checks the columns line up: text columns start under their
    title, number columns end under theirs."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert lines, "empty table"
    cell = re.compile(r"\S+(?: \S+)*")
    head = list(cell.finditer(lines[0]))
    titles = [m.group() for m in head]
    rows = []
    for ln in lines[1:]:
        cells = list(cell.finditer(ln))
        assert len(cells) == len(titles), "row %r does not match %r" % (ln, titles)
        for t, c in zip(head, cells):
            if t.group() in RIGHT_ALIGNED:
                assert c.end() == t.end(), "%s not right-aligned in %r" % (t.group(), text)
            else:
                assert c.start() == t.start(), "%s not aligned in %r" % (t.group(), text)
        rows.append(dict(zip(titles, (c.group() for c in cells))))
    return titles, rows
