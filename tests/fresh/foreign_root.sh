#!/usr/bin/env bash
# tests/fresh/foreign_root.sh ARCH — the Raspberry Pi .deb installed and run
# in a Debian 12 root of that architecture, emulated on this machine.
#   sudo bash tests/fresh/foreign_root.sh arm64|armhf [--record] [DEB]
# DEB: a mqttty_VERSION_ARCH.deb; without it, tests/fresh/cross.sh ARCH
# makes one first (a cross build in a fresh root of this machine's
# architecture). Then, in a minimal Debian 12 root of ARCH (mmdebstrap
# --architectures=ARCH, cached as lib.sh caches its roots) whose programs
# all run under qemu-user through binfmt_misc, like the userland of a
# Raspberry Pi OS install:
#   - `apt-get install ./mqttty_VERSION_ARCH.deb` (its Depends from ARCH's
#     archive), `mqttty --version`, the mqttty user in dialout, the unit
#     installed, enabled and not started;
#   - systemd and man-db of ARCH: `systemd-analyze verify` of the installed
#     unit, and its `security --offline=yes` score;
#   - ARCH's Mosquitto on a free loopback port (not 1883) and the gateway
#     started the way the unit starts it (as mqttty:dialout, the unit's
#     RuntimeDirectory and StateDirectory made by hand, its Environment=,
#     UMask=, NOTIFY_SOCKET, WATCHDOG_USEC, a free dashboard port): bytes
#     written to its pty port arrive at the broker, bytes published are read
#     from the port, READY/WATCHDOG/STOPPING reach the notify socket, TERM
#     stops it cleanly (tests/fresh/package.sh, pkg_run_as_unit).
# Not done: booting that root with its own systemd, as package.sh does for
# the amd64 root (the root's systemd-nspawn stops under qemu-user at
# "Failed to become subreaper: Invalid argument"); a qemu-system guest or a
# real Pi would be the way.
# Emulation needs binfmt_misc and qemu-user-static on this machine: when
# missing they are set up (apt-get install qemu-user-static binfmt-support,
# then update-binfmts --enable). Root only; several minutes (the first run
# builds the root: ~5 min). Prints one "ok - …" line per check; exits
# non-zero at the first failure. --record appends the result to
# docs/cross.md.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ARCH=${1-} RECORD=0 DEB="" debdir=""
for a in "${@:2}"; do
	case $a in
	--record) RECORD=1 ;;
	-*) ARCH=bad ;;
	*) DEB=$(realpath -e "$a") || ARCH=bad ;;
	esac
done
case $ARCH in
arm64) BINFMT=qemu-aarch64 ;;
armhf) BINFMT=qemu-arm ;;
*) echo "usage: $0 arm64|armhf [--record] [mqttty_VERSION_ARCH.deb]" >&2; exit 2 ;;
esac
[[ $(id -u) == 0 ]] || { echo "foreign_root: needs root (binfmt_misc, chroot, mounts)" >&2; exit 1; }
T0=$SECONDS
PY=/usr/bin/python3
LOG=$(mktemp "${TMPDIR:-/tmp}/mqttty-foreign-$ARCH.XXXXXX.log")
OUT=$(mktemp "${TMPDIR:-/tmp}/mqttty-foreign-$ARCH.XXXXXX.out")
msg() { printf 'foreign_root: %4d s %s\n' $((SECONDS - T0)) "$*" >&2; }
# every "ok"/"not ok" line goes to the output and to the record
say() { echo "$*" | tee -a "$OUT"; }

# ---- emulation on this machine ----------------------------------------------
binfmt_ok() { [[ $(head -n 1 "/proc/sys/fs/binfmt_misc/$BINFMT" 2>/dev/null) == enabled ]]; }
if ! binfmt_ok; then
	mountpoint -q /proc/sys/fs/binfmt_misc ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
		{ echo "foreign_root: cannot mount binfmt_misc" >&2; exit 1; }
	if ! dpkg-query -W -f='${Status}' qemu-user-static 2>/dev/null | grep -q "ok installed" ||
		! command -v update-binfmts >/dev/null; then
		msg "setting up emulation: apt-get install qemu-user-static binfmt-support"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			qemu-user-static binfmt-support >/dev/null ||
			{ echo "foreign_root: cannot install qemu-user-static binfmt-support" >&2; exit 1; }
	fi
	update-binfmts --enable "$BINFMT" >/dev/null 2>&1
	binfmt_ok || { echo "foreign_root: no binfmt_misc entry $BINFMT after setup" >&2; exit 1; }
fi
# qemu-user-static registers with the F flag: the emulator is loaded once,
# here, and serves programs inside a chroot too
grep -q '^flags:.*F' "/proc/sys/fs/binfmt_misc/$BINFMT" ||
	{ echo "foreign_root: $BINFMT is registered without the F flag (install qemu-user-static)" >&2; exit 1; }

# ---- the .deb -------------------------------------------------------------------
if [[ -z $DEB ]]; then
	debdir=$(mktemp -d "${TMPDIR:-/tmp}/mqttty-foreign-deb.XXXXXX")
	msg "no .deb given: tests/fresh/cross.sh $ARCH makes one"
	MQTTTY_CROSS_DEB_OUT=$debdir bash "$HERE/cross.sh" "$ARCH" >"$LOG" 2>&1 ||
		{ tail -n 30 "$LOG"; echo "foreign_root: cross.sh $ARCH failed" >&2; exit 1; }
	DEB=$(ls "$debdir"/mqttty_*_"$ARCH".deb 2>/dev/null | head -n 1)
fi
[[ -f $DEB && $(dpkg-deb -f "$DEB" Architecture 2>/dev/null) == "$ARCH" ]] ||
	{ echo "foreign_root: '$DEB' is not an $ARCH mqttty .deb" >&2; exit 1; }

# ---- the root ---------------------------------------------------------------------
export MQTTTY_FRESH_ARCH=$ARCH
# shellcheck source=tests/fresh/lib.sh
source "$HERE/lib.sh"
# shellcheck source=tests/fresh/package.sh
source "$HERE/package.sh"
pkg_fail() { say "not ok - $*"; return 1; }
fresh_prepare
msg "root tarball $FRESH_TAR"
fresh_enter
commit=$(git -C "$ROOT/root/mqttty" rev-parse --short=12 HEAD)
msg "root unpacked in $ROOT"

# shellcheck disable=SC2016  # dpkg-query's ${Field}s
check() {
	local rc=0 out
	# no package's maintainer script may start a daemon here (Mosquitto's
	# would take 127.0.0.1:1883); the gateway is started by hand below
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" && chmod +x "$ROOT/usr/sbin/policy-rc.d"
	out=$(fresh_chroot dpkg --print-architecture)
	[[ $out == "$ARCH" ]] || { pkg_fail "the root is '$out', not $ARCH"; return 1; }
	out=$(fresh_chroot uname -m)
	say "ok - a Debian 12 root of $ARCH, its programs under qemu-user (uname -m there: $out)"

	local deb=${DEB##*/} version
	cp "$DEB" "$ROOT/root/$deb" || return 1
	if ! fresh_chroot bash -c "apt-get update -qq && cd /root && apt-get install -y -q ./$deb" >>"$LOG" 2>&1; then
		tail -n 30 "$LOG"; pkg_fail "apt-get install ./$deb failed"; return 1
	fi
	out=$(fresh_chroot dpkg-query -W -f='${Version} ${Architecture} ${Status}' mqttty)
	say "ok - apt-get install ./$deb: mqttty $out"
	msg "installed"

	version=$(sed -n 's/^project(mqttty VERSION \([0-9.]*\).*/\1/p' "$FRESH_REPO/CMakeLists.txt")
	out=$(fresh_chroot mqttty --version 2>&1)
	[[ $out == *"$version"* ]] || { pkg_fail "mqttty --version says '$out', not $version"; return 1; }
	command -v file >/dev/null && out="$out ($(file -b -L "$ROOT/usr/bin/mqttty" | cut -d, -f1-2))"
	say "ok - mqttty --version in the root: $out"

	out=$(fresh_chroot id -nG mqttty 2>&1)
	[[ " $out " == *" dialout "* ]] || { pkg_fail "user mqttty is not in dialout: '$out'"; return 1; }
	say "ok - system user mqttty exists, in group dialout ($out)"

	UNIT=/usr/lib/systemd/system/mqttty.service
	[[ -f $ROOT$UNIT ]] || UNIT=/lib/systemd/system/mqttty.service
	[[ -f $ROOT$UNIT ]] || { pkg_fail "no mqttty.service installed"; return 1; }
	[[ -L $ROOT/etc/systemd/system/multi-user.target.wants/mqttty.service ]] ||
		{ pkg_fail "mqttty.service is not enabled (multi-user.target.wants)"; return 1; }
	local p
	for p in $(fresh_pids); do
		[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == *mqttty\ serve* ]] &&
			{ pkg_fail "installing started the gateway (pid $p)"; return 1; }
	done
	say "ok - $UNIT installed and enabled; nothing started it"

	# ARCH's systemd (for systemd-analyze), man-db (verify checks that
	# Documentation=man:mqttty(1) resolves), Mosquitto
	if ! fresh_chroot apt-get install -y -q --no-install-recommends systemd man-db mosquitto >>"$LOG" 2>&1; then
		tail -n 20 "$LOG"; pkg_fail "apt-get install systemd man-db mosquitto failed"; return 1
	fi
	msg "systemd, man-db, mosquitto installed"
	if ! out=$(fresh_chroot systemd-analyze verify "$UNIT" 2>&1) || [[ -n $out ]]; then
		pkg_fail "systemd-analyze verify $UNIT: $out"; return 1
	fi
	say "ok - systemd-analyze verify $UNIT ($ARCH's systemd $(fresh_chroot dpkg-query -W -f='${Version}' systemd)): clean"
	out=$(fresh_chroot systemd-analyze security --offline=yes "$UNIT" 2>&1 | tail -n 1)
	local score
	score=$(sed -n 's/.*Overall exposure level for mqttty.service: \([0-9.]*\).*/\1/p' <<<"$out")
	[[ -n $score ]] && awk -v s="$score" 'BEGIN { exit !(s < 3.0) }' ||
		{ pkg_fail "systemd-analyze security: '$out' (want below 3.0)"; return 1; }
	say "ok - systemd-analyze security --offline=yes: exposure $score"

	# the gateway as the unit starts it, against ARCH's Mosquitto, both on
	# free ports (never 1883/8080: other things may use them here)
	local bport hport
	bport=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	hport=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	msg "the gateway as the unit runs it; Mosquitto ($ARCH) on 127.0.0.1:$bport, dashboard on :$hport"
	PKG_BROKER_PORT=$bport PKG_HTTP=127.0.0.1:$hport pkg_run_as_unit | tee -a "$OUT"
	rc=${PIPESTATUS[0]}
	((rc == 0)) || return 1
	grep -q "mosquitto version" "$ROOT/root/pkg-mosquitto.log" &&
		say "ok - the broker was $ARCH's Mosquitto from the root ($(grep -o 'mosquitto version [0-9.]*' "$ROOT/root/pkg-mosquitto.log" | head -n 1)) on 127.0.0.1:$bport"
	return 0
}
check
rc=$?
[[ -n ${debdir-} ]] && rm -rf "$debdir"    # the .deb cross.sh made for this run
secs=$((SECONDS - T0))
((rc == 0)) && say "ok - the $ARCH .deb installs and runs in an $ARCH Debian 12 root (${secs} s)" ||
	echo "(log: $LOG)"
msg "exit $rc"
if ((RECORD)); then
	out=$FRESH_REPO/docs/cross.md
	{
		echo
		echo "## $ARCH .deb in an $ARCH root (tests/fresh/foreign_root.sh) — $(date -u '+%Y-%m-%d %H:%M') UTC, commit \`$commit\`, exit $rc, ${secs} s"
		echo
		echo '```'
		grep -E '^(ok|not ok) - ' "$OUT"
		echo '```'
	} >>"$out"
	msg "recorded in docs/cross.md"
fi
exit "$rc"
