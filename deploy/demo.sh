#!/usr/bin/env bash
# One command on a fresh machine: install, build, make sure a broker answers
# on 127.0.0.1:1883 (starts a local Mosquitto on loopback if none does), and
# run the gateway in the foreground with a demo port `demo`.
#   picocom "$LINK_DIR/demo"          # type here ...
#   mosquitto_sub -t 'mqttty/#' -v    # ... and see it on mqttty/ID/demo/tx
# As a normal user it needs sudo for the packages (deploy/install-deps.sh)
# and nothing else: the build, the broker's files, the database and the
# links stay in the user's own directories.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian puts mosquitto in /usr/sbin, which is not on a normal user's PATH
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
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
  up=0
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && { up=1; break; }
    kill -0 $broker 2>/dev/null || break
    sleep 0.1
  done
  if ((!up)); then
    echo "demo: Mosquitto did not start on 127.0.0.1:$port; its log ($state/mosquitto.log):" >&2
    tail -n 20 "$state/mosquitto.log" >&2
    exit 1
  fi
  echo "started Mosquitto on 127.0.0.1:$port (pid $broker)"
fi

# The links: MQTTTY_LINK_DIR, else the login session's runtime directory,
# else /run/mqttty as root. A normal user without XDG_RUNTIME_DIR (su, a
# chroot, cron: no systemd-logind session) gets /tmp/mqttty-UID, made
# private to them; it must be theirs (/tmp is everyone's).
if [[ -n ${MQTTTY_LINK_DIR:-} ]]; then
  link_dir=$MQTTTY_LINK_DIR
elif [[ -n ${XDG_RUNTIME_DIR:-} ]]; then
  link_dir=$XDG_RUNTIME_DIR/mqttty
elif [[ $(id -u) -eq 0 ]]; then
  link_dir=/run/mqttty
else
  link_dir=/tmp/mqttty-$(id -u)
  mkdir -m 700 "$link_dir" 2>/dev/null || true
  if [[ -L $link_dir || ! -d $link_dir || ! -O $link_dir ]] || ! chmod 700 "$link_dir"; then
    echo "demo: $link_dir is not a directory of yours;" \
         "set MQTTTY_LINK_DIR to one that is" >&2
    exit 1
  fi
  echo "XDG_RUNTIME_DIR is not set (no login session): the ports' links go to $link_dir"
fi
echo "ports appear in $link_dir; dashboard on http://127.0.0.1:8080/ ; Ctrl-C stops"
build/mqttty serve --link-dir "$link_dir" --port demo "$@" &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw; [[ -n "${broker:-}" ]] && kill $broker 2>/dev/null' EXIT INT TERM
wait $gw
