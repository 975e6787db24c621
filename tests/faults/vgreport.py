#!/usr/bin/env python3
"""vgreport.py DIR [--record]: read valgrind memcheck logs (vg-PID.log) and
sort each error and definite leak into "ours" (the first frame past
valgrind and the C library is in one of the project's own source files) or
"libraries" (Paho, libwebsockets, OpenSSL, ...). Prints a summary and the first report of each kind; exits 1
if any report is ours. --record appends the figures to $FAULTS_RESULTS."""

import glob
import json
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OURS = set()
for d in ("base", "db", "gateway", "ports", "web"):
    OURS.update(os.path.basename(p) for p in glob.glob(os.path.join(REPO, d, "*.c")))

HEAD = re.compile(r"^==\d+== (Invalid |Conditional jump|Use of uninitialised|Syscall param|"
                  r"Mismatched free|\S.* bytes in \S+ blocks are definitely lost|"
                  r"Source and destination overlap)")
FRAME = re.compile(r"\((\S+\.c):\d+\)")


def reports(path):
    """Each error block: its first line and the lines that follow it up to
    the empty "==PID==" line."""
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        if HEAD.match(lines[i]):
            block = [lines[i]]
            i += 1
            while i < len(lines) and re.match(r"^==\d+==\s+\S", lines[i]):
                block.append(lines[i])
                i += 1
            yield block
        else:
            i += 1


def is_ours(block):
    """Whose code made the access (or the leaked allocation)? The first
    frame of the stack that is not valgrind's or the C library's: a frame
    in one of our files is ours; a frame in another library (Paho,
    libwebsockets, OpenSSL) is that library's, even if we called it."""
    for line in block[1:]:
        if "Address 0x" in line or "Block was alloc" in line or "Uninitialised value" in line:
            break
        if not re.search(r"(at|by) 0x[0-9A-F]+:", line):
            continue
        if "vgpreload" in line or "libc.so" in line or "ld-linux" in line:
            continue
        m = FRAME.search(line)
        if m:
            if os.path.basename(m.group(1)) in OURS:
                return True
            continue    # glibc with its debug info (vfprintf-internal.c, ...)
        if "(in /" in line and "/mqttty" not in line:
            return False
        if "(below main)" in line:
            break
    return False


def main():
    d = sys.argv[1]
    logs = sorted(glob.glob(os.path.join(d, "vg-*.log")))
    ours, libs = [], []
    for p in logs:
        for block in reports(p):
            (ours if is_ours(block) else libs).append((os.path.basename(p), block))
    print("valgrind: %d processes, %d reports from our code, %d from libraries"
          % (len(logs), len(ours), len(libs)))
    for label, group in (("ours", ours), ("libraries", libs)):
        for name, block in group[:3]:
            print("--- %s (%s)" % (label, name))
            print("\n".join(block[:25]))
    if "--record" in sys.argv and os.environ.get("FAULTS_RESULTS"):
        with open(os.environ["FAULTS_RESULTS"], "a") as f:
            f.write(json.dumps({"kind": "valgrind", "processes": len(logs),
                                "reports_ours": len(ours), "reports_libraries": len(libs)})
                    + "\n")
    return 1 if ours or not logs else 0


if __name__ == "__main__":
    sys.exit(main())
