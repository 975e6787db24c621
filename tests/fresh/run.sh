#!/usr/bin/env bash
# tests/fresh/run.sh — README command 1 on a fresh Debian 12, then the .deb.
#
#   tests/fresh/run.sh [--no-package]     as root from /root/mqttty, then the .deb
#   tests/fresh/run.sh --user             as a normal user from ~/mqttty
#
# A minimal Debian 12 root (mmdebstrap --variant=apt, only ca-certificates and
# git added; cached, see lib.sh) gets a clone of the current commit in
# /root/mqttty. Inside it:
#   1. `bash deploy/demo.sh` (README command 1) runs in the background, as
#      root from /root/mqttty, then as a second user without sudo from a
#      clone in their home (the packages are there by then); each time, from
#      outside we check what a user sees (check_demo.py): the demo port's
#      link appears, bytes written to it arrive on mqttty/ID/demo/tx at the
#      broker the demo started, bytes published on .../rx are read from it,
#      the dashboard answers; then Ctrl-C (SIGINT to the demo's process
#      group) stops it and removes the link.
#   2. the package (unless --no-package): deploy/package.sh,
#      `apt-get install ./build-deb/mqttty_*.deb`, `mqttty --version`,
#      `systemd-analyze verify` of the installed unit, the `mqttty` user in
#      `dialout`, and the gateway started the way the unit starts it (as
#      that user, with its directories and environment) serving a port;
#      then the root is booted with its own systemd (systemd-nspawn from
#      the root's packages) and the enabled unit must start there, hardened,
#      and serve a port end to end.
# --user instead makes a normal user in a fresh root (nothing installed yet
# but `sudo`, the user in group sudo, home mode 700; lib.sh fresh_add_user),
# who clones the commit into ~/mqttty and runs the README command exactly as
# written, in a login shell of their own:
#   runuser -u alice -- bash -lc 'cd ~/mqttty && bash deploy/demo.sh'
# so the packages are installed through sudo; then the same checks.
# The demo uses 127.0.0.1:1883 and :8080: nothing may listen there first.
# Root only. Prints one "ok - …" line per check; exits non-zero on failure.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/fresh/lib.sh
source "$HERE/lib.sh"
PACKAGE=1 USER_MODE=0
for a in "$@"; do
	case $a in
	--no-package) PACKAGE=0 ;;
	--user) USER_MODE=1 PACKAGE=0 ;;
	*) echo "usage: $0 [--no-package | --user]" >&2; exit 2 ;;
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

# ---- 1. README command 1 ------------------------------------------------------
# demo WHO LINK COMMAND...: run COMMAND (README command 1, as WHO) in the
# root in a session of its own, check it from outside through LINK (the
# host's path of the demo port's link), stop it as Ctrl-C would: SIGINT to
# its process group.
demo() {
	local who=$1 link=$2 log=$ROOT/var/tmp/demo-$1.log
	shift 2
	fresh_chroot_cmd
	# in the background, so not a process group leader: setsid does not fork
	setsid "${FRESH_CHROOT[@]}" "$@" >"$log" 2>&1 </dev/null &
	local pid=$!
	echo "# README command 1 as $who: ${*: -1}"
	if ! "$PY" "$HERE/check_demo.py" "$link" "$pid"; then
		echo "--- demo output (tail)"; tail -n 40 "$log"
		return 1
	fi
	stamp "demo as $who checked"
	DEMO_LOG=$log
	# The broker that answered is the one the demo started, inside the root.
	local bpid
	bpid=$(sed -n 's/^started Mosquitto on 127.0.0.1:1883 (pid \([0-9]*\)).*/\1/p' "$log")
	if [[ -n $bpid && $(readlink "/proc/$bpid/root") == "$ROOT" ]]; then
		echo "ok - the broker on 127.0.0.1:1883 is the Mosquitto the demo started (pid $bpid)"
	else
		echo "not ok - the demo did not say it started a Mosquitto in the root (pid '${bpid}')"
		tail -n 20 "$log"; return 1
	fi
	# Ctrl-C ends the demo: the gateway stops cleanly and its link goes.
	kill -INT -- "-$pid" || { echo "not ok - the demo is no process group of its own"; return 1; }
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "not ok - the demo still runs 10 s after Ctrl-C"; return 1
	fi
	wait "$pid"
	if [[ -L $link ]]; then
		echo "not ok - the demo link is still there after the demo stopped"; return 1
	fi
	grep -q "stopped" "$log" || { echo "not ok - the gateway did not log a clean stop"; tail -n 20 "$log"; return 1; }
	echo "ok - Ctrl-C stops the demo: the gateway stopped cleanly, the link is gone"
	# the demo ends its Mosquitto too (which may take a moment)
	for _ in $(seq 50); do [[ -z $(fresh_pids) ]] && break; sleep 0.1; done
	local left
	left=$(fresh_pids)
	[[ -z $left ]] || { echo "not ok - still running in the root after the demo: $(ps -o pid=,comm= -p ${left//$'\n'/,})"; return 1; }
}

# The demo's links without a login session's XDG_RUNTIME_DIR (a chroot has
# no systemd-logind): it must say where they go.
user_link_dir() {  # UID
	local dir
	dir=$(sed -n 's/^ports appear in \([^;]*\);.*/\1/p' "$DEMO_LOG")
	if [[ $dir == "/tmp/mqttty-$1" ]] && grep -q "XDG_RUNTIME_DIR is not set" "$DEMO_LOG"; then
		echo "ok - without XDG_RUNTIME_DIR the demo said so and put the links in $dir"
	else
		echo "not ok - the demo's link directory: '$dir'"; grep -n 'XDG\|ports appear' "$DEMO_LOG"; return 1
	fi
}

if ((USER_MODE)); then
	# a normal user with sudo, on a root where nothing is installed yet
	fresh_add_user alice || exit 1
	stamp "sudo installed, user alice (uid $FRESH_UID, group sudo) cloned ~/mqttty"
	demo alice "$ROOT/tmp/mqttty-$FRESH_UID/demo" \
		runuser -u alice -- bash -lc 'cd ~/mqttty && bash deploy/demo.sh' || exit 1
	grep -q "^install-deps: installing with sudo" "$DEMO_LOG" &&
		echo "ok - the packages were installed through sudo, and the demo said so" ||
		{ echo "not ok - the demo did not say it installs with sudo"; head -n 5 "$DEMO_LOG"; exit 1; }
	user_link_dir "$FRESH_UID" || exit 1
	[[ -f $ROOT/home/alice/.local/state/mqttty/mqttty.db ]] &&
		echo "ok - alice's gateway kept its ports in ~/.local/state/mqttty/mqttty.db" ||
		{ echo "not ok - no database in alice's ~/.local/state/mqttty"; exit 1; }
	stamp "done"
	exit 0
fi

# root, from /root/mqttty: installs the packages, builds, runs
demo root "$ROOT/run/mqttty/demo" bash -c 'cd /root/mqttty && bash deploy/demo.sh' || exit 1

# a second user, without sudo, from a clone in their home (the packages
# are there now): links in /tmp/mqttty-UID without XDG_RUNTIME_DIR, the
# database in ~/.local/state
fresh_chroot useradd --create-home --shell /bin/bash bob && fresh_chroot chmod 700 /home/bob || exit 1
uid=$(fresh_chroot id -u bob) gid=$(fresh_chroot id -g bob)
git -c advice.detachedHead=false clone -q "$ROOT/root/mqttty" "$ROOT/home/bob/mqttty" && chown -R "$uid:$gid" "$ROOT/home/bob/mqttty" ||
	{ echo "not ok - cannot clone into bob's home"; exit 1; }
demo bob "$ROOT/tmp/mqttty-$uid/demo" \
	runuser -u bob -- bash -lc 'cd ~/mqttty && bash deploy/demo.sh' || exit 1
user_link_dir "$uid" || exit 1
[[ -f $ROOT/home/bob/.local/state/mqttty/mqttty.db ]] &&
	echo "ok - bob's gateway kept its ports in ~/.local/state/mqttty/mqttty.db" ||
	{ echo "not ok - no database in bob's ~/.local/state/mqttty"; exit 1; }

((PACKAGE)) || { stamp "done"; exit 0; }

# ---- 2. the package ----------------------------------------------------------
source "$HERE/package.sh"
fresh_package || exit 1
stamp "done"
