#!/usr/bin/env bash
# tests/fresh/run.sh — README command 1 on a fresh Debian 12, then the .deb.
#
# A minimal Debian 12 root (mmdebstrap --variant=apt, only ca-certificates and
# git added; cached, see lib.sh) gets a clone of the current commit in
# /root/mqttty. Inside it, as root:
#   1. `bash deploy/demo.sh` (README command 1) runs in the background; from
#      outside we check what a user sees (check_demo.py): the demo port's
#      link appears, bytes written to it arrive on mqttty/ID/demo/tx at the
#      broker the demo started, bytes published on .../rx are read from it,
#      the dashboard answers; then a TERM to the demo removes the link.
#   2. the package (unless --no-package): `cpack -G DEB` from the demo's
#      build, `apt-get install ./mqttty_*.deb`, `mqttty --version`,
#      `systemd-analyze verify` of the installed unit, the `mqttty` user in
#      `dialout`, and the gateway started the way the unit starts it (as
#      that user, with its directories and environment) serving a port.
# The demo uses 127.0.0.1:1883 and :8080: nothing may listen there first.
# Root only. Prints one "ok - …" line per check; exits non-zero on failure.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/fresh/lib.sh
source "$HERE/lib.sh"
PACKAGE=1
for a in "$@"; do
	case $a in
	--no-package) PACKAGE=0 ;;
	*) echo "usage: $0 [--no-package]" >&2; exit 2 ;;
	esac
done
PY=/usr/bin/python3
T0=$SECONDS
stamp() { fresh_msg "$(printf '%4d s' $((SECONDS - T0))) $*"; }

fresh_port_free 1883
fresh_port_free 8080
fresh_prepare
stamp "root tarball $FRESH_TAR"
fresh_enter
stamp "root unpacked in $ROOT, commit $(git -C "$ROOT/root/mqttty" rev-parse --short HEAD) cloned"

# ---- 1. README command 1 ---------------------------------------------------
LOG=$ROOT/root/demo.log
fresh_chroot_cmd
"${FRESH_CHROOT[@]}" bash -c 'cd /root/mqttty && exec bash deploy/demo.sh' >"$LOG" 2>&1 </dev/null &
DEMO=$!
if ! "$PY" "$HERE/check_demo.py" "$ROOT/run/mqttty/demo" "$DEMO"; then
	echo "--- demo output (tail)"; tail -n 40 "$LOG"
	exit 1
fi
stamp "demo checked"
# The broker that answered is the one the demo started, inside the root.
bpid=$(sed -n 's/^started Mosquitto on 127.0.0.1:1883 (pid \([0-9]*\)).*/\1/p' "$LOG")
if [[ -n $bpid && $(readlink "/proc/$bpid/root") == "$ROOT" ]]; then
	echo "ok - the broker on 127.0.0.1:1883 is the Mosquitto the demo started (pid $bpid)"
else
	echo "not ok - the demo did not say it started a Mosquitto in the root (pid '${bpid}')"
	tail -n 20 "$LOG"; exit 1
fi
# Ctrl-C/TERM ends the demo: the gateway stops cleanly and its link goes.
kill -TERM "$DEMO"
for _ in $(seq 100); do kill -0 "$DEMO" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DEMO" 2>/dev/null; then
	echo "not ok - the demo still runs 10 s after TERM"; exit 1
fi
wait "$DEMO"
if [[ -L $ROOT/run/mqttty/demo ]]; then
	echo "not ok - the demo link is still there after the demo stopped"; exit 1
fi
grep -q "stopped" "$LOG" || { echo "not ok - the gateway did not log a clean stop"; tail -n 20 "$LOG"; exit 1; }
echo "ok - TERM stops the demo: the gateway stopped cleanly, the link is gone"
# the demo ends its Mosquitto too (which may take a moment)
for _ in $(seq 50); do [[ -z $(fresh_pids) ]] && break; sleep 0.1; done
left=$(fresh_pids)
[[ -z $left ]] || { echo "not ok - still running in the root after the demo: $(ps -o pid=,comm= -p ${left//$'\n'/,})"; exit 1; }

((PACKAGE)) || { stamp "done"; exit 0; }

# ---- 2. the package ----------------------------------------------------------
source "$HERE/package.sh"
fresh_package || exit 1
stamp "done"
