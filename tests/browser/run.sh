#!/usr/bin/env bash
# Runs the dashboard tests: a private Mosquitto and the real gateway on free
# loopback ports, then node's test runner driving Debian's Chromium.
# Arguments: test files to run (default: every *.test.mjs here).
# Ends only the processes it started.
set -euo pipefail
# mosquitto is in /usr/sbin, which a normal user's PATH lacks
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(realpath "${MQTTTY_BIN:-$root/build/mqttty}")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing answers on 127.0.0.1:$1" >&2; return 1
}

mport=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$mport" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
wait_port "$mport"

hport=$(free_port)
"$bin" serve --broker "mqtt://127.0.0.1:$mport" --id browser --db "$work/mqttty.db" \
  --link-dir "$work/links" --http "127.0.0.1:$hport" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_port "$hport"

cd "$here"
# The lockfile pins playwright-core to a release whose `engines` accepts the
# Node.js Debian 12 ships (18); reinstall when node_modules holds another one.
want=$(node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "require('./node_modules/playwright-core/package.json').version" 2>/dev/null || true)
if [[ "$have" != "$want" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p artifacts
rc=0
# Every *.test.mjs, one file at a time (the machine is small). The files
# other than dashboard.test.mjs start their own gateways on the same broker.
tests=("$@")
if [[ ${#tests[@]} -eq 0 ]]; then tests=(*.test.mjs); fi
export MQTTTY_URL="http://127.0.0.1:$hport" MQTTTY_LINK_DIR="$work/links" \
  MQTTTY_BIN="$bin" MQTTTY_BROKER="mqtt://127.0.0.1:$mport"
for t in "${tests[@]}"; do
  node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=./summary-reporter.mjs --test-reporter-destination=stdout "$t" || rc=$?
done
if [[ $rc -ne 0 ]]; then
  echo "--- gateway log (tail)"; tail -40 "$work/gateway.log"
fi
exit $rc
