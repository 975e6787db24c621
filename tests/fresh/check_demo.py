#!/usr/bin/python3
"""What a user of README command 1 sees, checked from outside the fresh root.

    check_demo.py LINK PID      (FRESH_HTTP=0: skip the dashboard check)

FRESH_BROKER_PORT and FRESH_HTTP_ADDR name another broker port than 1883
and another dashboard address than 127.0.0.1:8080.

LINK is the demo port's link as the host sees it (ROOT/run/mqttty/demo), PID
the demo's process (it must stay alive). Waits for the link, then: bytes
written to the port arrive on mqttty/ID/demo/tx at the broker on
127.0.0.1:1883, bytes published on mqttty/ID/demo/rx are read from the port,
and the dashboard's API on 127.0.0.1:8080 names the same gateway.
Prints one "ok - ..." line per check; exits 1 at the first failure.
"""
import json
import os
import select
import sys
import threading
import time
import tty
import urllib.request

import paho.mqtt.client as mqtt

LINK, PID = sys.argv[1], int(sys.argv[2])
LINK_TIMEOUT = float(os.environ.get("FRESH_LINK_TIMEOUT", "1500"))
PORT = os.path.basename(LINK)
CHECK_HTTP = os.environ.get("FRESH_HTTP", "1") == "1"
BROKER_PORT = int(os.environ.get("FRESH_BROKER_PORT", "1883"))
HTTP_ADDR = os.environ.get("FRESH_HTTP_ADDR", "127.0.0.1:8080")


def fail(msg):
    print("not ok - " + msg, flush=True)
    sys.exit(1)


def ok(msg):
    print("ok - " + msg, flush=True)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    fail("timed out after %.0f s waiting for %s" % (timeout, what))


# 1. The link appears (install + build + start happen first: minutes).
t0 = time.monotonic()
while not os.path.islink(LINK):
    if not alive(PID):
        fail("the gateway (or the demo) exited before %s appeared" % LINK)
    if time.monotonic() - t0 > LINK_TIMEOUT:
        fail("no %s after %.0f s" % (LINK, LINK_TIMEOUT))
    time.sleep(0.5)
target = os.readlink(LINK)
if not target.startswith("/dev/pts/"):
    fail("the demo link points to %r, not a pseudo-terminal" % target)
ok("the port's link appeared after %.0f s: -> %s" % (time.monotonic() - t0, target))

# 2. The broker the demo started, as a subscriber sees it.
lock = threading.Lock()
msgs = {}


def on_message(c, u, m):
    with lock:
        msgs.setdefault(m.topic, []).append(bytes(m.payload))


c = mqtt.Client(client_id="fresh-check")
c.on_message = on_message
c.on_connect = lambda c, u, f, rc: c.subscribe("mqttty/#", qos=1)
try:
    c.connect("127.0.0.1", BROKER_PORT)
except OSError as e:
    fail("no broker on 127.0.0.1:%d: %s" % (BROKER_PORT, e))
c.loop_start()


def gateway_id():
    with lock:
        for t, ps in msgs.items():
            p = t.split("/")
            if len(p) == 3 and p[2] == "status" and ps and ps[-1] == b"online":
                return p[1]
    return None


gid = wait_until(gateway_id, 20, "the gateway's retained status 'online' on mqttty/+/status")
ok("the gateway %s is online at the broker" % gid)
base = "mqttty/%s/%s" % (gid, PORT)


def last_state():
    with lock:
        ps = [p for p in msgs.get(base + "/state", []) if p]
    return json.loads(ps[-1]) if ps else None


# 3. An application (raw mode, like picocom) opens the port and writes.
# FRESH_DEV_ROOT: where the gateway's /dev is seen from here (a container
# with its own devpts: /proc/PID/root)
fd = os.open(os.environ.get("FRESH_DEV_ROOT", "") + target, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
wait_until(lambda: (last_state() or {}).get("open") is True, 10, base + "/state open:true")
ok("opening the port shows open:true on %s/state" % base)

out = b"typed in the fresh root \x00\x01\xfe\xff\r\n"
os.write(fd, out)


def tx_all():
    with lock:
        return b"".join(msgs.get(base + "/tx", [])) == out


wait_until(tx_all, 10, "the written bytes on %s/tx (got %r)" % (base, msgs.get(base + "/tx")))
ok("bytes written to the link arrive on %s/tx" % base)

# 4. rx: published bytes are what the application reads.
inp = b"from the broker \x00\xff\n"
c.publish(base + "/rx", inp, qos=1).wait_for_publish()
got = b""
end = time.monotonic() + 10
while len(got) < len(inp) and time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        got += os.read(fd, 4096)
if got != inp:
    fail("published %r on %s/rx, the port read %r" % (inp, base, got))
ok("bytes published on %s/rx are read from the link" % base)
os.close(fd)

# 5. The dashboard's API answers for the same gateway.
if not CHECK_HTTP:
    sys.exit(0)
with urllib.request.urlopen("http://%s/api/v1/status" % HTTP_ADDR, timeout=10) as r:
    st = json.loads(r.read())
if st.get("id") != gid or not st.get("broker", {}).get("connected"):
    fail("http://%s/api/v1/status says %r" % (HTTP_ADDR, st))
ok("the dashboard's API on %s serves gateway %s, connected" % (HTTP_ADDR, gid))
c.loop_stop()
c.disconnect()
