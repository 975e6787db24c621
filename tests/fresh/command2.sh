#!/usr/bin/env bash
# tests/fresh/command2.sh — README command 2 (`bash tests/run`) in a fresh
# minimal Debian 12 root, run as root from a clone in /root/mqttty, as a new
# user would run it. Too slow for every test run (~7 min on 2 cores): run it
# by hand before a release, with --record to write the result to
# docs/fresh-root.md (commit that file).
#   sudo bash tests/fresh/command2.sh [--record]
# The root is made as for tests/fresh/run.sh (lib.sh: cached mmdebstrap
# tarball, proc, /dev, /dev/pts, /dev/shm, a tmpfs on /run). Inside,
# tests/run skips its own fresh-root suite (MQTTTY_IN_FRESH_ROOT=1): this is
# that check, for the whole command.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/fresh/lib.sh
source "$HERE/lib.sh"
RECORD=0
for a in "$@"; do
	case $a in
	--record) RECORD=1 ;;
	*) echo "usage: $0 [--record]" >&2; exit 2 ;;
	esac
done
T0=$SECONDS
fresh_prepare
fresh_enter
commit=$(git -C "$ROOT/root/mqttty" rev-parse --short=12 HEAD)
fresh_msg "running README command 2 (bash tests/run) in $ROOT at $commit"
LOG=$(mktemp "${TMPDIR:-/tmp}/mqttty-command2.XXXXXX.log")
fresh_chroot_cmd
"${FRESH_CHROOT[@]}" MQTTTY_IN_FRESH_ROOT=1 bash -c 'cd /root/mqttty && exec bash tests/run' \
	</dev/null 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
secs=$((SECONDS - T0))
fresh_msg "README command 2 exited $rc after ${secs} s; full output in $LOG"

if ((RECORD)); then
	node=$(fresh_chroot node --version 2>/dev/null || echo none)
	{
		echo "# README command 2 on a fresh Debian 12"
		echo
		echo "Written by \`tests/fresh/command2.sh --record\`: \`bash tests/run\` run as"
		echo "root from a clone in \`/root/mqttty\` inside a minimal Debian 12 root"
		echo "(\`mmdebstrap --variant=apt --include=ca-certificates,git bookworm\`),"
		echo "with nothing else installed beforehand."
		echo
		echo "| | |"
		echo "|---|---|"
		echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
		echo "| commit | \`$commit\` |"
		echo "| architecture | $FRESH_ARCH, $(nproc) CPUs |"
		echo "| Node.js in the root | $node |"
		echo "| exit status | $rc |"
		echo "| duration | $((secs / 60)) min $((secs % 60)) s (root tarball and apt downloads of earlier runs reused where present) |"
		echo
		echo "Suites:"
		echo
		echo '```'
		grep -E '^=== .*: (ok|FAILED)|^suites: |^FAILED: ' "$LOG"
		echo '```'
	} >"$FRESH_REPO/docs/fresh-root.md"
	fresh_msg "recorded in docs/fresh-root.md"
fi
exit "$rc"
