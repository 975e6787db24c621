#!/usr/bin/env bash
# Builds the Debian package: build-deb/mqttty_VERSION_ARCH.deb, installed
# under /usr (binary, man page, systemd unit, examples), its Depends taken
# from the binary's libraries (dpkg-shlibdeps). Needs the build packages
# (deploy/install-deps.sh) and dpkg-dev (part of build-essential).
#   sudo apt-get install ./build-deb/mqttty_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DMQTTTY_TESTS=OFF "$@" >/dev/null
cmake --build build-deb -j"$jobs"
rm -f build-deb/mqttty_*.deb
(cd build-deb && cpack -G DEB >/dev/null)
ls build-deb/mqttty_*.deb
