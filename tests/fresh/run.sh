#!/usr/bin/env bash
# tests/fresh/run.sh — README command 1 on a fresh Debian 12, then the .deb.
#
# A minimal Debian 12 root (mmdebstrap --variant=apt, only ca-certificates and
# git added; cached, see lib.sh) gets a clone of the current commit in
# /root/mqttty. Inside it:
#   1. `bash deploy/demo.sh` (README command 1) runs in the background, as
#      root from /root/mqttty, then as a new user from a clone in the
#      user's home; each time, from
#      outside we check what a user sees (check_demo.py): the demo port's
#      link appears, bytes written to it arrive on mqttty/ID/demo/tx at the
#      broker the demo started, bytes published on .../rx are read from it,
#      the dashboard answers; then a TERM to the demo removes the link.
#   2. the package (unless --no-package): deploy/package.sh,
#      `apt-get install ./build-deb/mqttty_*.deb`, `mqttty --version`,
#      `systemd-analyze verify` of the installed unit, the `mqttty` user in
#      `dialout`, and the gateway started the way the unit starts it (as
#      that user, with its directories and environment) serving a port;
#      then the root is booted with its own systemd (systemd-nspawn from
#      the root's packages) and the enabled unit must start there, hardened,
#      and serve a port end to end.
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

# ---- 1. README command 1, as root and as a normal user ------------------------
# demo WHO DIR LINK [PREFIX...]: run `bash deploy/demo.sh` from DIR in the
# root (PREFIX: how to become WHO), check it from outside through LINK (the
# host's path of the demo port's link), stop it as Ctrl-C would.
demo() {
	local who=$1 dir=$2 link=$3 log=$ROOT/var/tmp/demo-$1.log
	shift 3
	fresh_chroot_cmd
	"${FRESH_CHROOT[@]}" "$@" bash -c "cd $dir && exec bash deploy/demo.sh" >"$log" 2>&1 </dev/null &
	local pid=$!
	echo "# README command 1 as $who, from $dir"
	if ! "$PY" "$HERE/check_demo.py" "$link" "$pid"; then
		echo "--- demo output (tail)"; tail -n 40 "$log"
		return 1
	fi
	stamp "demo as $who checked"
	# The broker that answered is the one the demo started, inside the root.
	local bpid
	bpid=$(sed -n 's/^started Mosquitto on 127.0.0.1:1883 (pid \([0-9]*\)).*/\1/p' "$log")
	if [[ -n $bpid && $(readlink "/proc/$bpid/root") == "$ROOT" ]]; then
		echo "ok - the broker on 127.0.0.1:1883 is the Mosquitto the demo started (pid $bpid)"
	else
		echo "not ok - the demo did not say it started a Mosquitto in the root (pid '${bpid}')"
		tail -n 20 "$log"; return 1
	fi
	# Ctrl-C/TERM ends the demo: the gateway stops cleanly and its link goes.
	kill -TERM "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "not ok - the demo still runs 10 s after TERM"; return 1
	fi
	wait "$pid"
	if [[ -L $link ]]; then
		echo "not ok - the demo link is still there after the demo stopped"; return 1
	fi
	grep -q "stopped" "$log" || { echo "not ok - the gateway did not log a clean stop"; tail -n 20 "$log"; return 1; }
	echo "ok - TERM stops the demo: the gateway stopped cleanly, the link is gone"
	# the demo ends its Mosquitto too (which may take a moment)
	for _ in $(seq 50); do [[ -z $(fresh_pids) ]] && break; sleep 0.1; done
	local left
	left=$(fresh_pids)
	[[ -z $left ]] || { echo "not ok - still running in the root after the demo: $(ps -o pid=,comm= -p ${left//$'\n'/,})"; return 1; }
}

# root, from /root/mqttty: installs the packages, builds, runs
demo root /root/mqttty "$ROOT/run/mqttty/demo" || exit 1

# a normal user, from a clone in their home (the packages are there now;
# the user has no sudo): links in /tmp/mqttty-UID without XDG_RUNTIME_DIR,
# the database in ~/.local/state
fresh_chroot useradd --create-home --shell /bin/bash alice || exit 1
uid=$(fresh_chroot id -u alice) gid=$(fresh_chroot id -g alice)
git -c advice.detachedHead=false clone -q "$ROOT/root/mqttty" "$ROOT/home/alice/mqttty" && chown -R "$uid:$gid" "$ROOT/home/alice/mqttty" ||
	{ echo "not ok - cannot clone into alice's home"; exit 1; }
demo alice /home/alice/mqttty "$ROOT/tmp/mqttty-$uid/demo" \
	setpriv --reuid=alice --regid=alice --init-groups env HOME=/home/alice USER=alice LOGNAME=alice || exit 1
[[ -f $ROOT/home/alice/.local/state/mqttty/mqttty.db ]] &&
	echo "ok - alice's gateway kept its ports in ~/.local/state/mqttty/mqttty.db" ||
	{ echo "not ok - no database in alice's ~/.local/state/mqttty"; exit 1; }

((PACKAGE)) || { stamp "done"; exit 0; }

# ---- 2. the package ----------------------------------------------------------
source "$HERE/package.sh"
fresh_package || exit 1
stamp "done"
