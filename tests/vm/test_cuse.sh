#!/usr/bin/env bash
# test_cuse.sh — cuse ports end to end, with real programs, inside a VM whose
# kernel has /dev/cuse (tests/vm/run-in-vm.sh; the host has none).
#
#   tests/vm/test_cuse.sh [--timeout SEC]      (as root; builds if needed)
#   MQTTTY_BIN=build-asan/mqttty tests/vm/test_cuse.sh   (the ASan build)
#
# Inside the guest: Mosquitto on 127.0.0.1, the gateway with its HTTP API on
# 127.0.0.1, cuse ports made through the API, then pyserial, stty, hamlib's
# rigctl and plain ioctls against LINK_DIR/NAME (tests/vm/cuse_checks.py).
# Prints one "ok - …" / "not ok - …" line per check and a closing
# "N passed, N failed"; exits non-zero if any check failed.
set -uo pipefail
# mosquitto is in /usr/sbin, which a normal user's PATH lacks
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
BIN=${MQTTTY_BIN:-build/mqttty}
PY=/usr/bin/python3      # Debian's python3: python3-serial, python3-paho-mqtt

if [[ ${1-} == --guest ]]; then
	exec "$PY" "$HERE/cuse_checks.py"
fi

TIMEOUT=600
while (($#)); do
	case $1 in
	--timeout) TIMEOUT=${2-}; shift 2 || exit 2 ;;
	*) echo "usage: $0 [--timeout SEC]" >&2; exit 2 ;;
	esac
done

cd "$REPO" || exit 1
if [[ ! -x $BIN ]]; then
	if [[ $BIN == build-asan/* ]]; then bash deploy/build.sh --asan; else bash deploy/build.sh; fi ||
		exit 1
fi
missing=()
for m in serial paho.mqtt.client; do
	"$PY" -c "import $m" 2>/dev/null || missing+=("$m")
done
for c in rigctl stty mosquitto; do
	command -v "$c" >/dev/null || missing+=("$c")
done
if ((${#missing[@]})); then
	echo "test_cuse: missing ${missing[*]}: run deploy/install-deps.sh --test" >&2
	exit 1
fi
exec "$HERE/run-in-vm.sh" --timeout "$TIMEOUT" --env MQTTTY_BIN="$BIN" \
	--env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}" \
	--env UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
	-- bash tests/vm/test_cuse.sh --guest
