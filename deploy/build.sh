#!/usr/bin/env bash
# Builds build/mqttty (release).
#   --asan   also build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer)
#   --tests  build the unit tests too (needs cmocka: install-deps.sh --test);
#            without it they are built only where cmocka is installed
set -euo pipefail
cd "$(dirname "$0")/.."
asan=0 tests=()
for a in "$@"; do
  case $a in
    --asan) asan=1 ;;
    --tests) tests=(-DMQTTTY_TESTS=ON) ;;
    *) echo "usage: deploy/build.sh [--asan] [--tests]" >&2; exit 2 ;;
  esac
done
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${tests[@]}" >/dev/null
cmake --build build -j"$jobs"
if ((asan)); then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMQTTTY_SANITIZE=ON "${tests[@]}" >/dev/null
  cmake --build build-asan -j"$jobs"
fi
