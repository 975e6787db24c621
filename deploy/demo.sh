#!/usr/bin/env bash
# One command on a fresh machine: install, build, make sure a broker answers
# on 127.0.0.1:1883 (starts a local Mosquitto on loopback if none does), and
# run the gateway in the foreground with a demo port `demo`.
#   picocom "$LINK_DIR/demo"          # type here ...
#   mosquitto_sub -t 'mqttty/#' -v    # ... and see it on mqttty/ID/demo/tx
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh

port=1883
if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
  state=${XDG_STATE_HOME:-$HOME/.local/state}/mqttty
  mkdir -p "$state"
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$state/mosquitto.conf"
  mosquitto -c "$state/mosquitto.conf" >"$state/mosquitto.log" 2>&1 &
  broker=$!
  trap 'kill $broker 2>/dev/null' EXIT
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  echo "started Mosquitto on 127.0.0.1:$port (pid $broker)"
fi

link_dir=${MQTTTY_LINK_DIR:-${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/mqttty}}
[[ -z "$link_dir" ]] && link_dir=$([[ $(id -u) -eq 0 ]] && echo /run/mqttty || echo /tmp/mqttty-$(id -u))
echo "ports appear in $link_dir; dashboard on http://127.0.0.1:8080/ ; Ctrl-C stops"
build/mqttty serve --link-dir "$link_dir" --port demo "$@" &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw; [[ -n "${broker:-}" ]] && kill $broker 2>/dev/null' EXIT INT TERM
wait $gw
