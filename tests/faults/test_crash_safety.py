"""Crash safety: SIGKILL at random moments while API clients change ports
(POST, PATCH, DELETE). After each restart every change that got its 2xx
answer is there (the one request in flight at the kill may or may not have
landed), no link temporary `LINK_DIR/.NAME.*.tmp` is left (CONTRACT §5:
stale temporaries of the gateway's own naming are removed at start), and
every enabled port has its link again."""

import glob
import http.client
import os
import random
import threading
import time

import pytest

from api_helpers import start_api_gateway
from faults_util import pick, record
from helpers import wait_until

NAMES = ["k%d" % i for i in range(6)]
BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]


def apply(model, op):
    """The port table after op (method, name, body) succeeded."""
    m = dict(model)
    method, name, body = op
    if method == "DELETE":
        m.pop(name, None)
    elif method == "POST":
        m[name] = (body["baud"], body["frame"]["max"])
    else:
        old = m[name]
        m[name] = (body.get("baud", old[0]), body["frame"]["max"] if "frame" in body else old[1])
    return m


class Changer(threading.Thread):
    """One API client making random changes one after another; remembers
    what was acknowledged and which request was in flight."""

    def __init__(self, api, model, rnd):
        super().__init__(daemon=True)
        self.api = api
        self.model = dict(model)
        self.rnd = rnd
        self.pending = None
        self.acked = 0
        self.stop = False

    def run(self):
        while not self.stop:
            r = self.rnd
            name = r.choice(NAMES)
            exists = name in self.model
            if not exists:
                op = ("POST", name, {"name": name, "baud": r.choice(BAUDS),
                                     "frame": {"mode": "delim", "delim": "\n",
                                               "max": r.randint(16, 4096)}})
            elif r.random() < 0.3:
                op = ("DELETE", name, None)
            else:
                body = {"baud": r.choice(BAUDS)}
                if r.random() < 0.5:
                    body["frame"] = {"mode": "delim", "delim": "\r", "max": r.randint(16, 4096)}
                op = ("PATCH", name, body)
            self.pending = op
            try:
                if op[0] == "POST":
                    resp = self.api.post("/api/v1/ports", op[2], timeout=5)
                elif op[0] == "PATCH":
                    resp = self.api.patch("/api/v1/ports/" + name, op[2], timeout=5)
                else:
                    resp = self.api.delete("/api/v1/ports/" + name, timeout=5)
            except (OSError, http.client.HTTPException):
                return          # killed while this request or its answer was in flight
            if 200 <= resp.status < 300:
                self.model = apply(self.model, op)
                self.acked += 1
            elif not self.stop:
                raise AssertionError("%s %s answered %r" % (op[0], name, resp))
            self.pending = None


def stored(api):
    r = api.get("/api/v1/ports")
    assert r.status == 200, r
    return {p["name"]: (p["baud"], p["frame"]["max"]) for p in r.json()}


def temporaries(link_dir):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(link_dir, ".*.tmp")))


def test_sigkill_during_api_changes(broker, gateway):
    cycles = pick(8, 50)
    seed = int(os.environ.get("FAULTS_SEED", "0")) or random.randrange(1 << 30)
    rnd = random.Random(seed)
    print("seed", seed)
    gw, api = start_api_gateway(gateway, broker, ports=())
    model, acked, in_flight_landed, temps_seen = {}, 0, 0, []
    planted_survived = 0
    t0 = time.monotonic()
    for cycle in range(cycles):
        ch = Changer(api, model, rnd)
        ch.start()
        time.sleep(rnd.uniform(0.05, 0.8))
        gw.kill()
        ch.stop = True
        ch.join(10)
        assert not ch.is_alive()
        acked += ch.acked
        # a temporary of our own naming as a crash between symlink() and
        # rename() leaves it; the next start must remove it
        planted = os.path.join(gw.link_dir, ".k0.%d.tmp" % (4000000 + cycle))
        os.makedirs(gw.link_dir, exist_ok=True)
        os.symlink("/dev/null", planted)
        gw.start(wait_links=False)
        api.wait_up(gw, timeout=15)
        got = stored(api)
        allowed = [ch.model]
        if ch.pending is not None:
            allowed.append(apply(ch.model, ch.pending))
        assert got in allowed, ("cycle %d: stored ports %s, acknowledged %s, in flight %s"
                                % (cycle, got, ch.model, ch.pending))
        if ch.pending is not None and got != ch.model:
            in_flight_landed += 1
        model = got
        for name in model:
            wait_until(lambda: os.path.exists(gw.link(name)), 10, what="link of " + name)
        left = temporaries(gw.link_dir)
        if os.path.basename(planted) in left:
            planted_survived += 1
            os.unlink(planted)
            left.remove(os.path.basename(planted))
        temps_seen += left
    record("crash_safety", cycles=cycles, acknowledged_changes=acked,
           in_flight_landed=in_flight_landed, lost_changes=0,
           temporaries_left=len(temps_seen), planted_temporaries_kept=planted_survived,
           seconds=round(time.monotonic() - t0, 1))
    assert not planted_survived, "stale link temporaries kept at start: %d of %d" % (
        planted_survived, cycles)
    assert not temps_seen, "link temporaries left after SIGKILL: %s" % temps_seen
