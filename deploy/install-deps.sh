#!/usr/bin/env bash
# Installs what mqttty needs from Debian's packages (Debian 12 / Raspberry
# Pi OS). Usage: deploy/install-deps.sh [--test]   (--test adds test tools)
# Installs only what is missing, so a second run is quick and offline.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libpaho-mqtt-dev libuv1-dev
      libwebsockets-dev libwebsockets-evlib-uv libjansson-dev libsqlite3-dev
      libssl-dev libfuse3-dev mosquitto mosquitto-clients)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(libcmocka-dev python3 python3-pytest python3-paho-mqtt chromium
         strace socat libhamlib-utils python3-serial valgrind clang libclang-rt-14-dev)
  command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
