#!/usr/bin/env bash
# selftest.sh — proves that tests/vm/run-in-vm.sh gives a guest what the CUSE
# tests need: /dev/cuse (and a working CUSE round trip), the host's programs
# (python3, mosquitto) running from the read-only host root, a writable
# overlay that never reaches the host, the guest's own loopback, and exit
# statuses (including the timeout) that propagate to the caller.
#
#   tests/vm/selftest.sh          (as root; ~20 s once the cache is filled)
#
# Prints one "ok - ..." / "not ok - ..." line per check and a closing
# "N passed, N failed" line; exits 0 only if every check passed.
# Inside the VM it is run again as `selftest.sh --guest`.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/../.." && pwd -P))
PROBE=$REPO/tests/vm/.selftest-write-probe   # written inside, must not appear outside
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

# -------------------------------------------------------------- guest side

# A minimal CUSE server written against the kernel's FUSE ABI: answers
# CUSE_INIT (creating /dev/mqttty-selftest), OPEN, READ (one line, then EOF),
# FLUSH and RELEASE, while `cat` reads the device in a child process.
cuse_roundtrip() {
	"$PY" - <<'EOF'
import os, select, struct, subprocess, sys, time
NAME = "mqttty-selftest"
DEV = "/dev/" + NAME
IN_HDR = struct.Struct("<IIQQIIII")     # struct fuse_in_header (40 bytes)
OUT_HDR = struct.Struct("<IiQ")         # struct fuse_out_header (16 bytes)
CUSE_INIT, FUSE_OPEN, FUSE_READ, FUSE_RELEASE, FUSE_FLUSH, FUSE_INTERRUPT = 4096, 14, 15, 18, 25, 36
ENOSYS = 38

fd = os.open("/dev/cuse", os.O_RDWR)
def reply(unique, payload=b"", error=0):
    os.write(fd, OUT_HDR.pack(OUT_HDR.size + len(payload), error, unique) + payload)
def request():
    buf = os.read(fd, 1 << 20)
    length, opcode, unique = IN_HDR.unpack_from(buf)[:3]
    return opcode, unique, buf[IN_HDR.size:length]

opcode, unique, body = request()
assert opcode == CUSE_INIT, opcode
major, minor = struct.unpack_from("<II", body)
# struct cuse_init_out: major minor unused flags max_read max_write
# dev_major dev_minor spare[10]; then the device info strings.
init_out = struct.pack("<8I10I", 7, minor, 0, 0, 65536, 65536, 0, 0, *[0] * 10)
reply(unique, init_out + b"DEVNAME=" + NAME.encode() + b"\0")
for _ in range(50):
    if os.path.exists(DEV):
        break
    time.sleep(0.1)
assert os.path.exists(DEV), DEV + " did not appear"
print(f"CUSE_INIT from kernel FUSE {major}.{minor}: {DEV} appeared")

cat = subprocess.Popen(["cat", DEV], stdout=subprocess.PIPE)
served = []
reads = 0
deadline = time.time() + 20
while time.time() < deadline:
    if cat.poll() is not None and FUSE_RELEASE in served:
        break
    if not select.select([fd], [], [], 0.2)[0]:
        continue
    opcode, unique, body = request()
    served.append(opcode)
    if opcode == FUSE_OPEN:
        reply(unique, struct.pack("<QII", 1, 0, 0))   # fuse_open_out: fh, open_flags
    elif opcode == FUSE_READ:
        reads += 1
        reply(unique, b"hello from a CUSE device\n" if reads == 1 else b"")
    elif opcode in (FUSE_FLUSH, FUSE_RELEASE):
        reply(unique)
    elif opcode != FUSE_INTERRUPT:
        reply(unique, error=-ENOSYS)
out = cat.communicate(timeout=10)[0]
print("cat read:", out.decode().strip(), "| opcodes served:", served)
assert out == b"hello from a CUSE device\n", out
os.close(fd)                        # server gone: the node must vanish
for _ in range(50):
    if not os.path.exists(DEV):
        break
    time.sleep(0.1)
assert not os.path.exists(DEV), DEV + " still there after the server closed"
print(DEV, "vanished after the server closed /dev/cuse")
EOF
}

mqtt_roundtrip() {
	local dir port=1883
	dir=$(mktemp -d /tmp/selftest-mqtt.XXXXXX) || return 1
	chmod 755 "$dir"
	printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$dir/mosquitto.conf"
	mosquitto -c "$dir/mosquitto.conf" >"$dir/broker.log" 2>&1 &
	local broker=$!
	for _ in $(seq 50); do
		mosquitto_pub -h 127.0.0.1 -p "$port" -t selftest/probe -m x 2>/dev/null && break
		sleep 0.2
	done
	# Subscriber waits for one message; publish until it has it (no race
	# between subscribing and publishing).
	timeout 20 mosquitto_sub -h 127.0.0.1 -p "$port" -t selftest/t -C 1 -W 15 >"$dir/got" &
	local sub=$!
	for _ in $(seq 50); do
		kill -0 "$sub" 2>/dev/null || break
		mosquitto_pub -h 127.0.0.1 -p "$port" -t selftest/t -m "round trip inside the VM"
		sleep 0.2
	done
	wait "$sub"
	kill "$broker" 2>/dev/null
	wait "$broker" 2>/dev/null
	echo "mosquitto_sub got: $(cat "$dir/got")"
	[[ $(cat "$dir/got") == "round trip inside the VM" ]] || { cat "$dir/broker.log"; return 1; }
}

guest() {
	local pass=0 fail=0
	gcheck() {
		local name=$1; shift
		if "$@"; then echo "ok - $name"; pass=$((pass + 1)); else echo "not ok - $name"; fail=$((fail + 1)); fi
	}
	ls -l /dev/cuse; grep -w cuse /proc/misc; uname -r
	gcheck "/dev/cuse is char device 10,203" test "$(stat -c '%F %t,%T' /dev/cuse 2>/dev/null)" = "character special file a,cb"
	gcheck "cuse registered in /proc/misc" grep -qw cuse /proc/misc
	gcheck "CUSE round trip (init, open, read, release, node vanishes)" cuse_roundtrip
	gcheck "host python3 runs ($PY)" "$PY" -c 'import sys, sqlite3; print("python", sys.version.split()[0])'
	gcheck "/tmp is writable" sh -c 'echo hi >/tmp/selftest && test "$(cat /tmp/selftest)" = hi'
	gcheck "repo is writable (overlay)" sh -c "echo hi >'$PROBE' && test -s '$PROBE'"
	gcheck "cwd is the host's ($HERE)" test "$(pwd -P)" = "$HERE"
	gcheck "MQTTTY_VM=1 is set" test "${MQTTTY_VM:-}" = 1
	gcheck "lo has 127.0.0.1" sh -c 'ip -4 addr show lo | grep -q "inet 127.0.0.1/8"'
	gcheck "mosquitto pub/sub round trip over the guest's loopback" mqtt_roundtrip
	echo "guest: $pass passed, $fail failed"
	((fail == 0))
}

if [[ ${1-} == --guest ]]; then guest; exit; fi

# --------------------------------------------------------------- host side

if ! command -v mosquitto >/dev/null || ! command -v mosquitto_sub >/dev/null; then
	[[ $(id -u) == 0 ]] || { echo "selftest: needs mosquitto and mosquitto-clients" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -y -q install --no-install-recommends \
		mosquitto mosquitto-clients >&2 || exit 1
fi

cd "$HERE" || exit 1   # the guest must start in the same directory
RUN_IN_VM=$HERE/run-in-vm.sh
pass=0 fail=0
check() {
	local name=$1; shift
	if "$@"; then echo "ok - $name"; pass=$((pass + 1)); else echo "not ok - $name"; fail=$((fail + 1)); fi
}
LOG=$(mktemp -d "${TMPDIR:-/tmp}/selftest-vm.XXXXXX")
trap 'rm -rf "$LOG"' EXIT

# vm NAME ARGS... : one timed VM run; its status in $rc, stdout in $LOG/NAME.out
vm() {
	local name=$1 t0 t1; shift
	t0=$EPOCHREALTIME
	"$RUN_IN_VM" -v "$@" >"$LOG/$name.out" 2>"$LOG/$name.err"
	rc=$?
	t1=$EPOCHREALTIME
	sed "s/^/  [$name] /" "$LOG/$name.out"
	grep -h 'boot-to-command\|timed out\|stopped without' "$LOG/$name.err" | sed "s/^/  [$name] /"
	echo "  [$name] wall $(((${t1/./} - ${t0/./}) / 1000)) ms, status $rc"
}

check "prepare (install, download, build; cached after the first run)" "$RUN_IN_VM" --prepare
rm -f "$PROBE"
vm checks -- bash "$HERE/selftest.sh" --guest
check "guest checks pass (status 0)" test "$rc" = 0
check "guest ran every check" grep -q '^guest: 10 passed, 0 failed$' "$LOG/checks.out"
check "nothing written inside reached the host" test ! -e "$PROBE"
vm false -- false
check "'false' inside gives status 1" test "$rc" = 1
vm exit42 -- sh -c 'echo "to stdout"; echo "to stderr" >&2; exit 42'
check "exit status 42 propagates" test "$rc" = 42
check "stdout and stderr reach the caller" grep -qx 'to stderr' "$LOG/exit42.out"
vm timeout --timeout 8 -- sleep 60
check "a run past --timeout gives 124" test "$rc" = 124

echo "$pass passed, $fail failed"
((fail == 0))
