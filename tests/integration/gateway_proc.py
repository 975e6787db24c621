"""The mqttty binary as a child process of the tests."""

import itertools
import os
import signal
import subprocess
import time

from helpers import REPO_ROOT, tail, wait_until

_LOG_SEQ = itertools.count(1)

SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer",
                   b"runtime error:", b"ERROR: UndefinedBehaviorSanitizer")


def binary_path():
    b = os.environ.get("MQTTTY_BIN", "build/mqttty")
    if not os.path.isabs(b):
        b = os.path.join(REPO_ROOT, b)
    return b


def clean_env(workdir, extra=None):
    """The parent's environment without any MQTTTY_* variable, with the
    default locations pointed into the test's tmp dir so nothing outside it
    is ever touched."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQTTTY_")}
    env["HOME"] = str(workdir)
    env["XDG_STATE_HOME"] = os.path.join(str(workdir), "xdg-state")
    env["XDG_RUNTIME_DIR"] = os.path.join(str(workdir), "xdg-run")
    env.pop("RUNTIME_DIRECTORY", None)
    if extra:
        env.update(extra)
    return env


class Gateway:
    """One gateway configuration; start()/terminate() may be repeated and
    reuse the same db and link dir."""

    def __init__(self, workdir, broker_uri, gw_id, ports=(), extra=(), env=None,
                 subcommand=True, link_dir=None, db=None, bare=False):
        self.workdir = str(workdir)
        self.broker_uri = broker_uri
        self.id = gw_id
        self.ports = list(ports)
        self.extra = list(extra)
        self.env_extra = dict(env or {})
        self.subcommand = subcommand
        self.bare = bare  # run the binary with no argument at all
        self.db = db or os.path.join(self.workdir, "mqttty.db")
        self.link_dir = link_dir or os.path.join(self.workdir, "links")
        self.proc = None
        self.runs = 0
        self.log = None
        self.logs = []
        self.expect_dead = False  # set when the test ends the process itself
        self.unexpected = []

    # --- command line
    def argv(self, ports=None, extra=None):
        a = [binary_path()]
        if self.bare:
            return a
        if self.subcommand:
            a.append("serve")
        a += ["--broker", self.broker_uri, "--id", self.id, "--db", self.db,
              "--link-dir", self.link_dir, "--http", "off", "--log-level", "debug"]
        for p in (self.ports if ports is None else ports):
            a += ["--port", p]
        a += self.extra if extra is None else extra
        return a

    def start(self, ports=None, extra=None, wait_links=True, timeout=10.0):
        assert not self.running(), "gateway already running"
        self.runs += 1
        self.log = os.path.join(self.workdir, "gateway-%02d.log" % next(_LOG_SEQ))
        self.logs.append(self.log)
        logf = open(self.log, "wb")
        self.argv_used = self.argv(ports, extra)
        self.proc = subprocess.Popen(self.argv_used, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     env=clean_env(self.workdir, self.env_extra),
                                     cwd=self.workdir)
        logf.close()
        self.expect_dead = False
        if wait_links:
            names = self.ports if ports is None else ports
            for n in names:
                self.wait_link(n, timeout)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def link(self, name):
        return os.path.join(self.link_dir, name)

    def wait_link(self, name, timeout=10.0):
        path = self.link(name)

        def ok():
            if not self.running():
                raise AssertionError("gateway exited (rc=%s) while waiting for link %s\n%s"
                                     % (self.proc.returncode, path, tail(self.log, 30)))
            return os.path.islink(path) and os.path.exists(path)
        wait_until(ok, timeout, what="link %s" % path)
        return path

    def terminate(self, timeout=5.0):
        """SIGTERM; returns the exit code (AssertionError if it does not exit)."""
        self.expect_dead = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("gateway did not exit within %.0f s of SIGTERM" % timeout)
        return self.proc.returncode

    def kill(self):
        self.expect_dead = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        return self.proc.returncode

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, needle, timeout=5.0):
        wait_until(lambda: needle in self.log_text(), timeout,
                   what="%r in the gateway log" % needle)

    def sanitizer_reports(self):
        out = []
        for path in self.logs:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if any(m in data for m in SANITIZER_MARKS):
                out.append(path)
        return out

    def finish(self):
        """Teardown: end what is still running; return problems found."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is not None and not self.expect_dead:
            problems.append("gateway exited by itself during the test (rc=%s)"
                            % self.proc.returncode)
        elif self.proc.poll() is None:
            try:
                rc = self.terminate()
                if rc != 0:
                    problems.append("gateway exit status %s on SIGTERM at teardown" % rc)
            except AssertionError as e:
                problems.append(str(e))
        for path in self.sanitizer_reports():
            problems.append("sanitizer report in %s" % path)
        return problems


def run_once(argv, workdir, env=None, timeout=10.0):
    """Run the binary expecting it to exit by itself. Returns
    (rc, stdout, stderr); a process still running after `timeout` is
    killed and reported as rc None."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=clean_env(workdir, env),
                         cwd=str(workdir))
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=5)
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def wait_gone(path, timeout=5.0):
    wait_until(lambda: not os.path.lexists(path), timeout, what="%s to disappear" % path)


def now():
    return time.monotonic()
