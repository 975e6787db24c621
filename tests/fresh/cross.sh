#!/usr/bin/env bash
# tests/fresh/cross.sh ARCH — a Raspberry Pi build, made and tried here.
#   sudo bash tests/fresh/cross.sh arm64|armhf [--record] [--integration [all]]
# In a fresh Debian 12 root (tests/fresh/lib.sh; the host's own packages are
# never touched): `dpkg --add-architecture ARCH`, Debian's cross compiler
# (crossbuild-essential-ARCH) and ARCH's -dev packages, then
#   - the gateway and the unit tests built with cmake/cross-linux.cmake,
#   - the unit tests run under qemu-user (ctest's emulator),
#   - a .deb for ARCH (cpack, Depends from dpkg-shlibdeps for ARCH),
#   - the binary under qemu-user: --version, and a gateway with a pty port.
# --integration also runs integration tests (default: test_tx, test_rx,
# test_state, test_api; `--integration all`: all of tests/integration;
# MQTTTY_CROSS_PYTEST overrides, paths from the repo root) from the root's
# clone against the ARCH binary under qemu-user, with this machine's pytest
# and Mosquitto (bash deploy/install-deps.sh --test): the binary, its
# libraries and the tests come from the root. The tests see
# MQTTTY_EMULATED=qemu-user and skip, with a reason, only what cannot hold
# under qemu-user (tests/integration/emulation.py).
# Too slow for every test run (a few minutes, mostly downloads; the whole
# suite adds 10-30 min): --record appends the result to docs/cross.md.
# MQTTTY_CROSS_DEB_OUT=DIR copies the .deb made there to DIR (for
# tests/fresh/foreign_root.sh).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/fresh/lib.sh
source "$HERE/lib.sh"
ARCH=${1-}
RECORD=0 INTEGRATION=0 ALL=0
prev=""
for a in "${@:2}"; do
	case $a in
	--record) RECORD=1 ;;
	--integration) INTEGRATION=1 ;;
	all) [[ $prev == --integration ]] && ALL=1 || ARCH=bad ;;
	*) ARCH=bad ;;
	esac
	prev=$a
done
case $ARCH in
arm64) TRIPLET=aarch64-linux-gnu QEMU=qemu-aarch64-static ;;
armhf) TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm-static ;;
*) echo "usage: $0 arm64|armhf [--record] [--integration [all]]" >&2; exit 2 ;;
esac
T0=$SECONDS
FRESH_ARCHIVES=archives-cross-$ARCH
fresh_prepare
fresh_enter
commit=$(git -C "$ROOT/root/mqttty" rev-parse --short=12 HEAD)
LOG=$(mktemp "${TMPDIR:-/tmp}/mqttty-cross-$ARCH.XXXXXX.log")
fresh_msg "cross-building for $ARCH in $ROOT at $commit (log: $LOG)"

# shellcheck disable=SC2016  # expanded inside the root
fresh_chroot A="$ARCH" T="$TRIPLET" Q="$QEMU" bash -c '
set -euo pipefail
step() { echo "### $*"; }
step "packages"
dpkg --add-architecture "$A"
apt-get update -qq
apt-get install -y -qq --no-install-recommends crossbuild-essential-"$A" cmake pkg-config \
	dpkg-dev file qemu-user-static \
	libpaho-mqtt-dev:"$A" libuv1-dev:"$A" libwebsockets-dev:"$A" libwebsockets-evlib-uv:"$A" \
	libjansson-dev:"$A" libsqlite3-dev:"$A" libssl-dev:"$A" libfuse3-dev:"$A" \
	libsystemd-dev:"$A" libcmocka-dev:"$A" >/dev/null
cd /root/mqttty
export MQTTTY_CROSS=$T
step "build"
cmake -S . -B "build-$A" -DCMAKE_TOOLCHAIN_FILE=cmake/cross-linux.cmake \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr -DMQTTTY_TESTS=ON >/dev/null
cmake --build "build-$A" -j"$(nproc)" >/dev/null
file -b "build-$A/mqttty" | cut -d, -f1-2
step "unit tests under qemu-user"
urc=0
ctest --test-dir "build-$A" --output-on-failure --no-tests=error >/tmp/ctest.log 2>&1 || urc=$?
grep -E "FAILED|Failed|\(Failed\)|ENOSYS|not implemented|\[  FAILED|ERROR" /tmp/ctest.log | head -n 20 || true
grep -E "tests passed" /tmp/ctest.log
step "package"
(cd "build-$A" && DEB_HOST_ARCH=$A cpack -G DEB >/dev/null)
deb=$(ls "build-$A"/mqttty_*_"$A".deb)
echo "$deb"
dpkg-deb -f "$deb" Architecture Depends
step "the binary under qemu-user"
"$Q" "build-$A/mqttty" --version
rm -rf /tmp/gw && mkdir -p /tmp/gw
"$Q" "build-$A/mqttty" serve --broker mqtt://127.0.0.1:9 --id pi --db /tmp/gw/db \
	--link-dir /tmp/gw/links --http off --port p1 >/tmp/gw/log 2>&1 &
gw=$!
made=0
for _ in $(seq 100); do [[ -L /tmp/gw/links/p1 ]] && { made=1; break; }; sleep 0.1; done
sleep 0.5
kill -TERM "$gw"; grc=0; wait "$gw" || grc=$?
if ((made)); then echo "pty port p1: link made"
else echo "pty port p1: NOT made:"; grep -i "p1\|error" /tmp/gw/log | head -n 5; fi
echo "gateway exit status on TERM: $grc"
exit "$urc"
' >"$LOG" 2>&1
rc=$?
if [[ -n ${MQTTTY_CROSS_DEB_OUT-} ]]; then
	mkdir -p "$MQTTTY_CROSS_DEB_OUT" &&
		cp "$ROOT/root/mqttty/build-$ARCH"/mqttty_*_"$ARCH".deb "$MQTTTY_CROSS_DEB_OUT/" ||
		{ echo "### cannot copy the .deb to $MQTTTY_CROSS_DEB_OUT" >>"$LOG"; ((rc == 0)) && rc=1; }
fi
if ((INTEGRATION)); then
	# qemu-user looks each absolute path up under -L first: a prefix with only
	# the root's usr (and lib) gives the binary the root's libraries and this
	# machine's /dev, /tmp and /etc
	sys=$ROOT/var/tmp/qemu-sysroot
	mkdir -p "$sys" && ln -s ../../../usr "$sys/usr" && ln -s usr/lib "$sys/lib"
	sys=$(cd "$sys" && pwd -P)
	# one such script per program of the build (the tests find helpers such
	# as rfc2217_srv_harness beside the gateway)
	bin=$ROOT/var/tmp/qemu-bin
	mkdir -p "$bin"
	for f in "$ROOT/root/mqttty/build-$ARCH"/*; do
		[[ -f $f && -x $f && $(head -c 4 "$f") == $'\x7fELF' ]] || continue
		printf '#!/bin/sh\nexec %q -L %q %q "$@"\n' "$ROOT/usr/bin/$QEMU" "$sys" "$f" >"$bin/${f##*/}"
		chmod +x "$bin/${f##*/}"
	done
	some="tests/integration/test_tx.py tests/integration/test_rx.py tests/integration/test_state.py tests/integration/test_api.py"
	((ALL)) && some=tests/integration
	read -ra tests <<<"${MQTTTY_CROSS_PYTEST:-$some}"
	{
		echo "### integration tests under qemu-user (this machine's pytest and Mosquitto)"
		echo "${tests[*]##*/}"
		irc=0 t1=$SECONDS
		(cd "$ROOT/root/mqttty" && MQTTTY_BIN=$bin/mqttty MQTTTY_EMULATED=qemu-user \
			timeout 5400 /usr/bin/python3 -m pytest -q --basetemp="$ROOT/var/tmp/pytest" "${tests[@]}") \
			>"$ROOT/var/tmp/pytest.log" 2>&1 || irc=$?
		cp "$ROOT/var/tmp/pytest.log" "${LOG%.log}-pytest.log"
		# skipped under emulation, with the reason; failures
		sed -n 's/^SKIPPED \[[0-9]*\] /skipped: /p' "$ROOT/var/tmp/pytest.log" | head -n 40
		grep -E "^(FAILED|ERROR) " "$ROOT/var/tmp/pytest.log" | head -n 20
		echo "pytest: $(tail -n 1 "$ROOT/var/tmp/pytest.log") (exit $irc, $((SECONDS - t1)) s)"
	} >>"$LOG" 2>&1
	((rc == 0)) && rc=$irc
fi
secs=$((SECONDS - T0))
cat "$LOG"
fresh_msg "cross build for $ARCH: exit $rc after ${secs} s"
if ((RECORD)); then
	out=$FRESH_REPO/docs/cross.md
	[[ -f $out ]] || printf '# Raspberry Pi builds (arm64, armhf), made and run here\n\nWritten by `tests/fresh/cross.sh ARCH --record`: a cross build in a fresh\nDebian 12 root with Debian'"'"'s cross compilers and multiarch -dev packages,\nits unit tests and binary run under qemu-user. One section per run, in the\norder run.\n' >"$out"
	{
		echo
		echo "## $ARCH — $(date -u '+%Y-%m-%d %H:%M') UTC, commit \`$commit\`, exit $rc, ${secs} s"
		echo
		echo '```'
		grep -v '^\s*$' "$LOG" | grep -v 'debconf\|^W: ' | tail -n 40
		echo '```'
	} >>"$out"
	fresh_msg "recorded in docs/cross.md"
fi
exit "$rc"
