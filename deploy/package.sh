#!/usr/bin/env bash
# Builds the Debian package: build-deb/mqttty_VERSION_ARCH.deb, installed
# under /usr (binary, man page, systemd unit, examples), its Depends taken
# from the binary's libraries (dpkg-shlibdeps). Installs what it needs
# first (deploy/install-deps.sh --package). Then:
#   sudo apt-get install ./build-deb/mqttty_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh --package
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DMQTTTY_TESTS=OFF "$@" >/dev/null
cmake --build build-deb -j"$jobs"
rm -f build-deb/mqttty_*.deb
(cd build-deb && cpack -G DEB >/dev/null)
ls build-deb/mqttty_*.deb
