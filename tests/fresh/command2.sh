#!/usr/bin/env bash
# tests/fresh/command2.sh — README command 2 (`bash tests/run`) in a fresh
# minimal Debian 12 root, run as root from a clone in /root/mqttty, or with
# --user as a normal user with sudo from a clone in their home, as a new
# user would run it. Too slow for every test run (~15-20 min on 2 cores): run
# it by hand before a release, with --record to write the result to
# docs/fresh-root.md (its section for root or for the user; commit it).
#   sudo bash tests/fresh/command2.sh [--user] [--record]
# The root is made as for tests/fresh/run.sh (lib.sh: cached mmdebstrap
# tarball, proc, /dev, /dev/pts, /dev/shm, a tmpfs on /run). --user makes
# the user as run.sh --user does (lib.sh fresh_add_user: sudo installed, the
# user in group sudo, home mode 700, their own clone in ~/mqttty) and runs
#   runuser -u alice -- bash -lc 'cd ~/mqttty && bash tests/run'
# Inside, tests/run skips its own fresh-root suites (MQTTTY_IN_FRESH_ROOT=1):
# this is that check, for the whole command.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/fresh/lib.sh
source "$HERE/lib.sh"
RECORD=0 USER_MODE=0
for a in "$@"; do
	case $a in
	--record) RECORD=1 ;;
	--user) USER_MODE=1 ;;
	*) echo "usage: $0 [--user] [--record]" >&2; exit 2 ;;
	esac
done
T0=$SECONDS
fresh_prepare
fresh_enter
commit=$(git -C "$ROOT/root/mqttty" rev-parse --short=12 HEAD)
LOG=$(mktemp "${TMPDIR:-/tmp}/mqttty-command2.XXXXXX.log")
if ((USER_MODE)); then
	fresh_add_user alice || exit 1
	who="a normal user (alice, in group sudo) from a clone in \`~/mqttty\`"
	cmd=(runuser -u alice -- bash -lc 'cd ~/mqttty && bash tests/run')
else
	who="root from a clone in \`/root/mqttty\`"
	cmd=(bash -c 'cd /root/mqttty && exec bash tests/run')
fi
fresh_msg "running README command 2 (bash tests/run) as ${who//\`/} in $ROOT at $commit"
fresh_chroot_cmd
"${FRESH_CHROOT[@]}" MQTTTY_IN_FRESH_ROOT=1 "${cmd[@]}" </dev/null 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
secs=$((SECONDS - T0))
fresh_msg "README command 2 exited $rc after ${secs} s; full output in $LOG"

# docs/fresh-root.md holds one section per mode, between "<!-- MODE -->"
# and "<!-- /MODE -->"; --record replaces its own and keeps the other.
if ((RECORD)); then
	node=$(fresh_chroot node --version 2>/dev/null || echo none)
	mode=root title="As root"
	((USER_MODE)) && mode=user title="As a normal user"
	section=$(
		echo "<!-- $mode -->"
		echo "## $title"
		echo
		echo "\`bash tests/run\` run as $who, by \`tests/fresh/command2.sh$( ((USER_MODE)) && echo ' --user') --record\`:"
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
		echo "<!-- /$mode -->"
	)
	SECTION=$section MODE=$mode /usr/bin/python3 - "$FRESH_REPO/docs/fresh-root.md" <<'PY'
import os, re, sys
path, mode, new = sys.argv[1], os.environ["MODE"], os.environ["SECTION"]
head = ("# README command 2 on a fresh Debian 12\n\n"
        "Written by `tests/fresh/command2.sh --record` (as root) and\n"
        "`tests/fresh/command2.sh --user --record` (as a normal user with sudo):\n"
        "`bash tests/run` inside a minimal Debian 12 root\n"
        "(`mmdebstrap --variant=apt --include=ca-certificates,git bookworm`),\n"
        "with nothing else installed beforehand (for the user: `sudo`, and the\n"
        "user in group `sudo`).\n")
try:
    old = open(path).read()
except OSError:
    old = ""
sections = {}
for m in ("root", "user"):
    x = re.search(r"<!-- %s -->.*?<!-- /%s -->" % (m, m), old, re.S)
    if x:
        sections[m] = x.group(0)
sections[mode] = new
out = head + "".join("\n" + sections[m] + "\n" for m in ("root", "user") if m in sections)
open(path, "w").write(out)
PY
	fresh_msg "recorded in docs/fresh-root.md ($mode)"
fi
exit "$rc"
