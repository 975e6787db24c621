#!/usr/bin/env bash
# Installs what mqttty needs from Debian's packages (Debian 12 / Raspberry
# Pi OS). Usage: deploy/install-deps.sh [--test] [--package]
#   --test adds the test tools, --package what deploy/package.sh needs
# Installs only what is missing, so a second run is quick and offline.
# As a normal user it installs through sudo, and says so first (sudo may ask
# for your password); without sudo it prints the command for root to run.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libpaho-mqtt-dev libuv1-dev
      libwebsockets-dev libwebsockets-evlib-uv libjansson-dev libsqlite3-dev
      libssl-dev libfuse3-dev libsystemd-dev mosquitto mosquitto-clients)
test=0 package=0
for a in "$@"; do
  case $a in
    --test) test=1 ;;
    --package) package=1 ;;
    *) echo "usage: deploy/install-deps.sh [--test] [--package]" >&2; exit 2 ;;
  esac
done
if ((package)); then
  pkgs+=(dpkg-dev file)   # cpack -G DEB with dpkg-shlibdeps
fi
if ((test)); then
  pkgs+=(libcmocka-dev python3 python3-pytest python3-paho-mqtt chromium
         strace socat libhamlib-utils python3-serial python3-jinja2 prometheus
         ser2net clang libclang-rt-14-dev mmdebstrap systemd valgrind
         qemu-system-x86 busybox-static xz-utils zstd)   # tests/vm
  command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

apt=(apt-get)
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: missing packages, and you are not root and have no sudo." >&2
    echo "install-deps: as root, run:  apt-get install --no-install-recommends ${missing[*]}" >&2
    echo "install-deps: (or, as root, install sudo and add yourself to group sudo: usermod -aG sudo $(id -un))" >&2
    exit 1
  fi
  echo "install-deps: installing with sudo (it may ask for your password): ${missing[*]}"
  # sudo keeps only a few variables: pass the frontend on the command line
  apt=(sudo DEBIAN_FRONTEND=noninteractive apt-get)
else
  echo "install-deps: installing: ${missing[*]}"
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
