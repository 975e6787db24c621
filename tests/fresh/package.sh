# tests/fresh/package.sh — the .deb inside the fresh root (sourced by run.sh
# after README command 1 ran there, so the build packages are installed).
# fresh_package: build it (deploy/package.sh), `apt-get install ./…deb`,
# then check what an administrator relies on. Prints "ok - …" lines;
# returns non-zero at the first failure.

pkg_fail() { echo "not ok - $*"; return 1; }

# A key's values in the installed unit ("Environment" gives several).
unit_values() { sed -n "s/^$1=//p" "$ROOT$UNIT"; }

fresh_package() {
	local log=$ROOT/root/package.log deb version
	if ! fresh_chroot bash -c 'cd /root/mqttty && bash deploy/package.sh' >"$log" 2>&1; then
		tail -n 30 "$log"; pkg_fail "deploy/package.sh failed in the fresh root"; return 1
	fi
	deb=$(tail -n 1 "$log")
	[[ -f $ROOT/root/mqttty/$deb ]] || { tail -n 5 "$log"; pkg_fail "no .deb built"; return 1; }
	echo "$deb" >"$log.deb"
	echo "ok - deploy/package.sh built $deb"
	stamp "package built"

	if ! fresh_chroot bash -c "cd /root/mqttty && apt-get install -y -q ./$deb" >>"$log" 2>&1; then
		tail -n 30 "$log"; pkg_fail "apt-get install ./$deb failed"; return 1
	fi
	echo "ok - apt-get install ./$deb"
	stamp "package installed"

	version=$(sed -n 's/^project(mqttty VERSION \([0-9.]*\).*/\1/p' "$FRESH_REPO/CMakeLists.txt")
	local out
	out=$(fresh_chroot mqttty --version 2>&1)
	[[ $out == *"$version"* ]] || { pkg_fail "mqttty --version says '$out', not $version"; return 1; }
	echo "ok - mqttty --version: $out"

	out=$(fresh_chroot id -nG mqttty 2>&1)
	[[ " $out " == *" dialout "* ]] || { pkg_fail "user mqttty is not in dialout: '$out'"; return 1; }
	echo "ok - system user mqttty exists, in group dialout ($out)"

	UNIT=/usr/lib/systemd/system/mqttty.service
	[[ -f $ROOT$UNIT ]] || UNIT=/lib/systemd/system/mqttty.service
	[[ -L $ROOT/etc/systemd/system/multi-user.target.wants/mqttty.service ]] ||
		{ pkg_fail "mqttty.service is not enabled (multi-user.target.wants)"; return 1; }
	local p
	for p in $(fresh_pids); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == mqttty ]] &&
			{ pkg_fail "installing started the gateway (pid $p)"; return 1; }
	done
	echo "ok - the unit is enabled (and nothing started it; under a running systemd: below)"

	# systemd itself (for systemd-analyze) and man-db (verify checks that
	# Documentation=man:mqttty(1) resolves): not in a minimal root.
	if ! fresh_chroot apt-get install -y -q --no-install-recommends systemd man-db >>"$log" 2>&1; then
		tail -n 20 "$log"; pkg_fail "apt-get install systemd man-db failed"; return 1
	fi
	if ! out=$(fresh_chroot systemd-analyze verify "$UNIT" 2>&1) || [[ -n $out ]]; then
		pkg_fail "systemd-analyze verify $UNIT: $out"; return 1
	fi
	echo "ok - systemd-analyze verify $UNIT: clean (man mqttty resolves)"
	out=$(fresh_chroot systemd-analyze security --offline=yes "$UNIT" 2>&1 | tail -n 1)
	local score
	score=$(sed -n 's/.*Overall exposure level for mqttty.service: \([0-9.]*\).*/\1/p' <<<"$out")
	[[ -n $score ]] && awk -v s="$score" 'BEGIN { exit !(s < 3.0) }' ||
		{ pkg_fail "systemd-analyze security: '$out' (want below 3.0)"; return 1; }
	echo "ok - systemd-analyze security --offline=yes: exposure $score"
	stamp "unit checked"

	pkg_run_as_unit || return 1
	stamp "ran the way the unit runs it"
	pkg_systemd_boot
}

# Start the gateway the way the unit does (no systemd runs in the root): as
# User=/Group= with their supplementary groups, the unit's RuntimeDirectory
# and StateDirectory made and owned as systemd makes them, its Environment=,
# UMask=, no new privileges, NOTIFY_SOCKET and WATCHDOG_USEC; then a port
# must work end to end and the notify protocol be spoken.
# PKG_BROKER_PORT (default 1883) and PKG_HTTP (default: the gateway's,
# 127.0.0.1:8080) move the broker and the dashboard elsewhere.
pkg_run_as_unit() {
	local user group rtdir stdir rtmode stmode umask exec env=() e
	user=$(unit_values User) group=$(unit_values Group)
	rtdir=$(unit_values RuntimeDirectory) stdir=$(unit_values StateDirectory)
	rtmode=$(unit_values RuntimeDirectoryMode) stmode=$(unit_values StateDirectoryMode)
	umask=$(unit_values UMask) exec=$(unit_values ExecStart)
	[[ -n $user && -n $group && -n $rtdir && -n $stdir && -n $exec ]] ||
		{ pkg_fail "the unit lacks User/Group/RuntimeDirectory/StateDirectory/ExecStart"; return 1; }
	while IFS= read -r e; do env+=("$e"); done < <(unit_values Environment)
	# as systemd does: made if missing, and owned by the service's user and
	# group down to every file (here the demo, run as root, left its
	# database in /var/lib/mqttty)
	fresh_chroot install -d -o "$user" -g "$group" -m "${rtmode:-0755}" "/run/$rtdir" &&
		fresh_chroot install -d -o "$user" -g "$group" -m "${stmode:-0755}" "/var/lib/$stdir" &&
		fresh_chroot chown -R "$user:$group" "/var/lib/$stdir" ||
		{ pkg_fail "cannot make the unit's directories"; return 1; }

	# a broker inside the root, and a stand-in for systemd's notify socket
	local bport=${PKG_BROKER_PORT:-1883} http=${PKG_HTTP-} more=()
	[[ $bport != 1883 ]] && more+=("MQTTTY_BROKER=mqtt://127.0.0.1:$bport")
	[[ -n $http ]] && more+=("MQTTTY_HTTP=$http")
	printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$bport" >"$ROOT/root/pkg-mosquitto.conf"
	fresh_chroot_cmd
	"${FRESH_CHROOT[@]}" mosquitto -c /root/pkg-mosquitto.conf >"$ROOT/root/pkg-mosquitto.log" 2>&1 &
	local broker=$!
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$bport") 2>/dev/null && break; sleep 0.1; done
	"$PY" "$HERE/notify_listen.py" "$ROOT/run/notify" >"$ROOT/root/notify.log" 2>&1 &
	local listener=$!
	for _ in $(seq 50); do grep -q listening "$ROOT/root/notify.log" 2>/dev/null && break; sleep 0.1; done

	local glog=$ROOT/root/pkg-gateway.log
	"${FRESH_CHROOT[@]}" "${env[@]}" RUNTIME_DIRECTORY="/run/$rtdir" STATE_DIRECTORY="/var/lib/$stdir" \
		NOTIFY_SOCKET=/run/notify WATCHDOG_USEC=1000000 MQTTTY_ID=pkg MQTTTY_PORT=pkgtest MQTTTY_LOG_LEVEL=debug "${more[@]}" \
		setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
		sh -c "umask ${umask:-0022} && exec $exec" >"$glog" 2>&1 &
	local gw=$!
	local rc=0
	FRESH_HTTP=1 FRESH_BROKER_PORT=$bport FRESH_HTTP_ADDR=${http:-127.0.0.1:8080} \
		"$PY" "$HERE/check_demo.py" "$ROOT/run/$rtdir/pkgtest" "$gw" || rc=1
	if ((rc == 0)); then
		local slave gid
		slave=$(readlink "$ROOT/run/$rtdir/pkgtest")
		gid=$(fresh_chroot getent group "$group" | cut -d: -f3)
		if [[ $(stat -c '%g %a' "$slave") == "$gid 660" ]]; then
			echo "ok - the port's pty is group $group, mode 0660 (users in $group can open it)"
		else
			pkg_fail "the port's pty is $(stat -c 'gid %g mode %a' "$slave"), want group $group mode 660"; rc=1
		fi
		[[ $(stat -c %u "$ROOT/var/lib/$stdir/mqttty.db" 2>/dev/null) == $(fresh_chroot id -u "$user") ]] &&
			echo "ok - the database is /var/lib/$stdir/mqttty.db, owned by $user" ||
			{ pkg_fail "no database owned by $user in /var/lib/$stdir"; rc=1; }
		sleep 1.2    # two more keep-alives (every 0.5 s) at least
	fi
	kill -TERM "$gw" 2>/dev/null
	local grc=0
	wait "$gw" || grc=$?
	kill -TERM "$listener" "$broker" 2>/dev/null; wait "$listener" "$broker" 2>/dev/null
	if ((rc == 0)); then
		((grc == 0)) || { pkg_fail "the gateway exited with $grc on TERM"; rc=1; }
		[[ ! -e $ROOT/run/$rtdir/pkgtest ]] || { pkg_fail "the link stayed after TERM"; rc=1; }
		local n
		n=$(grep -c '^WATCHDOG=1$' "$ROOT/root/notify.log")
		if grep -qx 'READY=1' "$ROOT/root/notify.log" && ((n >= 2)) &&
			grep -qx 'STOPPING=1' "$ROOT/root/notify.log"; then
			echo "ok - notify socket: READY=1, WATCHDOG=1 ×$n, STOPPING=1"
		else
			pkg_fail "notify socket got: $(tr '\n' ' ' <"$ROOT/root/notify.log")"; rc=1
		fi
	fi
	((rc == 0)) && echo "ok - the gateway ran as $user:$group the way the unit starts it; TERM stopped it cleanly" ||
		{ echo "--- gateway log (tail)"; tail -n 20 "$glog"; }
	return "$rc"
}

# The ELF interpreter (dynamic loader) a program asks for.
elf_interp() {
	"$PY" - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
b64, le = d[4] == 2, d[5] == 1
e = "<" if le else ">"
if b64:
    phoff, = struct.unpack_from(e + "Q", d, 0x20); phes, phn = struct.unpack_from(e + "HH", d, 0x36)
else:
    phoff, = struct.unpack_from(e + "I", d, 0x1c); phes, phn = struct.unpack_from(e + "HH", d, 0x2a)
for i in range(phn):
    o = phoff + i * phes
    if struct.unpack_from(e + "I", d, o)[0] == 3:          # PT_INTERP
        off, = struct.unpack_from(e + ("Q" if b64 else "I"), d, o + (8 if b64 else 4))
        size, = struct.unpack_from(e + ("Q" if b64 else "I"), d, o + (32 if b64 else 16))
        print(d[off:off + size].rstrip(b"\0").decode())
PY
}

# Boot the root with its own systemd, as a machine would boot: systemd-nspawn
# from the root's packages, run by the root's own dynamic loader (the host
# needs no systemd of its own). The installed, enabled unit then starts
# under real systemd with all its sandboxing: it must become active (READY=1
# on the notify socket), run as mqttty with no new privileges and a system
# call filter, carry bytes both ways, and stop cleanly.
pkg_systemd_boot() {
	local log=$ROOT/root/package.log
	if ! fresh_chroot apt-get install -y -q --no-install-recommends systemd-container dbus >>"$log" 2>&1; then
		tail -n 20 "$log"; pkg_fail "apt-get install systemd-container dbus failed"; return 1
	fi
	# what an administrator does after installing (README): name the ports
	printf 'MQTTTY_ID=svc\nMQTTTY_PORT=svc\n' >"$ROOT/etc/default/mqttty"
	local nspawn=$ROOT/usr/bin/systemd-nspawn interp libdirs shared
	interp=$(elf_interp "$nspawn") && [[ -n $interp ]] || { pkg_fail "cannot read $nspawn"; return 1; }
	shared=$(ls "$ROOT"/usr/lib/*/systemd/libsystemd-shared-*.so | head -n 1)
	libdirs=$(dirname "$shared"):$(dirname "$(dirname "$shared")")
	# nspawn makes its own /dev, /proc and /run
	fresh_umount dev/shm dev/pts dev run proc || { pkg_fail "cannot unmount /dev, /proc, /run"; return 1; }
	# Where the host runs systemd, nspawn gets its own scope from it; where
	# it does not (containers, CI runners), it stays in the caller's cgroup.
	local scope=(--keep-unit)
	[[ -d /run/systemd/system ]] && scope=()
	"$ROOT$interp" --library-path "$libdirs" "$nspawn" -q -D "$ROOT" --boot --register=no \
		"${scope[@]}" </dev/null >"$ROOT/var/tmp/boot.log" 2>&1 &
	local ns=$! init="" state="" i
	FRESH_KILL+=("$ns")
	for i in $(seq 300); do
		[[ -z $init ]] && init=$(pgrep -P "$ns" -x systemd | head -n 1)
		if [[ -n $init ]]; then
			state=$(nsenter -t "$init" -a systemctl is-active mqttty.service 2>/dev/null)
			[[ $state == active || $state == failed ]] && break
		fi
		kill -0 "$ns" 2>/dev/null || break
		sleep 0.1
	done
	local rc=0
	pkg_systemd_checks "$init" "$state" || rc=1
	# power off: nspawn asks the container's systemd to shut down
	kill -TERM "$ns" 2>/dev/null
	for i in $(seq 300); do kill -0 "$ns" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$ns" 2>/dev/null
	wait "$ns" 2>/dev/null
	((rc == 0)) || { echo "--- boot log (tail)"; tail -n 25 "$ROOT/var/tmp/boot.log"; }
	return "$rc"
}

pkg_systemd_checks() {
	local init=$1 state=$2 gw show uid log=$ROOT/root/package.log deb
	deb=$(tail -n 1 "$ROOT/root/package.log.deb")
	[[ -n $init ]] || { pkg_fail "systemd did not start in the booted root"; return 1; }
	[[ $state == active ]] || {
		pkg_fail "under systemd, mqttty.service is '$state'"
		nsenter -t "$init" -a journalctl -u mqttty --no-pager | tail -n 15; return 1; }
	show=$(nsenter -t "$init" -a systemctl show mqttty.service -p Type -p NRestarts -p WatchdogUSec)
	echo "ok - booted with systemd, the enabled unit started: active ($(tr '\n' ' ' <<<"$show"))"
	gw=$(pgrep -P "$init" -x mqttty | head -n 1)
	[[ -n $gw ]] || { pkg_fail "no mqttty process under the container's systemd"; return 1; }
	uid=$(fresh_chroot id -u mqttty)
	if [[ $(awk '/^Uid:/ { print $2 }' "/proc/$gw/status") == "$uid" ]] &&
		grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$gw/status" &&
		grep -q '^Seccomp:[[:space:]]*2' "/proc/$gw/status"; then
		echo "ok - it runs as mqttty, with no new privileges and a system call filter"
	else
		pkg_fail "the service's process: $(grep -E '^(Uid|NoNewPrivs|Seccomp):' "/proc/$gw/status" | tr '\n\t' '  ')"
		return 1
	fi
	# the container has its own /run and devpts: seen through the process
	FRESH_DEV_ROOT=/proc/$gw/root "$PY" "$HERE/check_demo.py" "/proc/$gw/root/run/mqttty/svc" "$gw" ||
		return 1
	# Its log as the journal keeps it: each line's priority read from the
	# "<N>" prefix the gateway writes when stderr is the journal, and no
	# time stamp of the gateway's own in the message.
	local out
	if out=$(nsenter -t "$init" -a journalctl -u mqttty.service -o json --no-pager |
		"$PY" -c '
import json, re, sys
prio = {"error": "3", "warn": "4", "info": "6", "debug": "7"}
n, bad, info = 0, [], 0
for line in sys.stdin:
    e = json.loads(line)
    if e.get("SYSLOG_IDENTIFIER") != "mqttty":
        continue                    # systemd on the unit
    m = e.get("MESSAGE")
    if not isinstance(m, str):
        bad.append(repr(m)); continue
    level = m.split(" ", 1)[0]
    if prio.get(level) != e.get("PRIORITY") or re.match(r"(<\d>)?\d{4}-\d\d-\d\dT", m):
        bad.append("%s %r" % (e.get("PRIORITY"), m))
    n += 1
    info += e.get("PRIORITY") == "6"
if bad or not info:
    print("; ".join(bad[:5]) or "no info line at priority 6 among %d" % n); sys.exit(1)
print(n)
'); then
		echo "ok - the journal has the gateway's $out lines at their own priorities (info: 6), without a second time stamp"
	else
		pkg_fail "the gateway's lines in the journal: $out"; return 1
	fi
	local in=(nsenter -t "$init" -a env DEBIAN_FRONTEND=noninteractive)
	# The package's scripts with systemd running: purge stops the gateway
	# and forgets the unit; a new install enables it and does not start it.
	if ! "${in[@]}" apt-get purge -y -q mqttty >>"$log" 2>&1; then
		tail -n 20 "$log"; pkg_fail "apt-get purge mqttty under systemd failed"; return 1
	fi
	if kill -0 "$gw" 2>/dev/null || [[ -e $ROOT/usr/bin/mqttty ]]; then
		pkg_fail "after apt-get purge the gateway still runs or its binary is there"; return 1
	fi
	"${in[@]}" journalctl -u mqttty --no-pager | grep -q 'info  stopped' ||
		{ pkg_fail "purge did not stop the gateway cleanly"; return 1; }
	echo "ok - apt-get purge under systemd: the gateway stopped cleanly and is gone"
	if ! "${in[@]}" apt-get install -y -q "/root/mqttty/$deb" >>"$log" 2>&1; then
		tail -n 20 "$log"; pkg_fail "apt-get install under systemd failed"; return 1
	fi
	local en act
	en=$("${in[@]}" systemctl is-enabled mqttty.service 2>&1)
	act=$("${in[@]}" systemctl is-active mqttty.service 2>&1)
	[[ $en == enabled && $act == inactive ]] ||
		{ pkg_fail "after apt-get install under systemd the unit is '$en', '$act'"; return 1; }
	echo "ok - apt-get install under systemd: the unit is enabled and not started"
	"${in[@]}" systemctl start mqttty.service
	act=$("${in[@]}" systemctl is-active mqttty.service 2>&1)
	[[ $act == active ]] || { pkg_fail "systemctl start: '$act'"; return 1; }
	"${in[@]}" systemctl stop mqttty.service
	act=$("${in[@]}" systemctl is-active mqttty.service 2>&1)
	if [[ $act == inactive ]] &&
		[[ $("${in[@]}" journalctl -u mqttty --no-pager | grep -c 'info  stopped') -ge 2 ]]; then
		echo "ok - systemctl start, then stop: active, then stopped cleanly (inactive, not failed)"
	else
		pkg_fail "after systemctl stop the unit is '$act'"
		"${in[@]}" journalctl -u mqttty --no-pager | tail -n 10; return 1
	fi
}
