#!/usr/bin/env bash
# Build each libFuzzer target (clang, ASan + UBSan) and run it for N seconds
# on its seed corpus. Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
# Crashes are written to tests/fuzz/crashes/; keep each as a regression
# input in the target's corpus once fixed. Corpus growth goes to a scratch
# directory, so the seeds in git stay small.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(telnet rfc2217_addr)

out=build-fuzz
mkdir -p "$out" tests/fuzz/crashes
inc=(-Iports -Ibase -Igateway $(pkg-config --cflags jansson libuv))
declare -A srcs=(
  [telnet]="ports/telnet.c"
  [rfc2217_addr]="ports/port_rfc2217.c gateway/rfc2217_srv.c ports/tcp_out.c ports/telnet.c
                  ports/port_state.c ports/line_set.c ports/port_config.c base/log.c"
)
declare -A libs=([rfc2217_addr]="$(pkg-config --libs libuv jansson)")

for t in "${targets[@]}"; do
  clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined "${inc[@]}" \
        "tests/fuzz/fuzz_$t.c" ${srcs[$t]} -o "$out/fuzz_$t" ${libs[$t]:-}
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$t"/* "$work"/
  "$out/fuzz_$t" -max_total_time="$secs" -max_len=4096 -timeout=10 \
      -artifact_prefix=tests/fuzz/crashes/ "$work" 2>&1 | tail -n 5
  rm -rf "$work"
done
