#!/usr/bin/env python3
"""report.py RESULTS.jsonl [--write docs/reliability.md]: the table of
figures from the JSON lines tests/faults/run collected. Prints it; with
--write also writes the page (the long form does)."""

import datetime
import json
import os
import subprocess
import sys


def load(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def kb(v):
    if v is None:
        return "—"
    return "%+.1f MB" % (v / 1024.0)


def rtt(d):
    if not d or d.get("p50_ms") is None:
        return "—"
    return "%.2f / %.2f / %.2f" % (d["p50_ms"], d["p99_ms"], d["max_ms"])


def page(rows):
    by = {}
    for r in rows:
        by.setdefault(r.get("kind"), []).append(r)
    form = next((r.get("form") for r in rows if r.get("form")), "short")
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "?"
    o = []
    o.append("# Reliability figures")
    o.append("")
    o.append("Written by `tests/faults/run%s` (%s form) on %s at commit %s; the "
             "test command runs the short form. How each figure is measured: the "
             "docstring of each test in `tests/faults/` and `tests/fuzz/`. Loopback "
             "only, one 2-core machine shared with other work."
             % (" --long" if form == "long" else "", form,
                datetime.date.today().isoformat(), commit))
    o.append("")
    o.append("## Faults")
    o.append("")
    o.append("RSS growth under ASan+UBSan includes the memory ASan holds back "
             "(quarantine); the release rows are the ones to read for leaks.")
    o.append("")
    o.append("| run | cycles | bytes lost | duplicates | out of order | fd growth | RSS growth | notes |")
    o.append("|---|---|---|---|---|---|---|---|")
    for r in by.get("broker_faults", []):
        o.append("| broker restarts, %s, %s | %d | tx %d, rx %d | tx %d, rx %d | tx %d, rx %d | — | %s | "
                 "%d tx records, %d rx acknowledged; gateway away ≤ %.1f s%s |"
                 % ("persistence" if r["persistence"] else "no persistence",
                    r.get("build", "?"), r["cycles"],
                    r["tx_lost_bytes"], r["rx_lost_bytes"], r["tx_duplicates"],
                    r["rx_duplicates"], r["tx_out_of_order"], r["rx_out_of_order"],
                    kb(r["rss_growth_kb"]), r["tx_records"], r["rx_acked"],
                    r["longest_away_s"],
                    "" if r["persistence"] else "; loss is the broker's (sessions and what it held in flight lost)"))
    for r in by.get("connection_resets", []):
        o.append("| connection resets (RST) under a QoS 1 tx stream, %s | %d | tx %d | tx %d | tx %d | — | %s | "
                 "%d tx records; %d fresh Paho clients, %d of them replacing one that a write "
                 "broken by the reset had poisoned; session resumed %d times |"
                 % (r.get("build", "?"), r["cycles"], r["tx_lost_bytes"], r["tx_duplicates"],
                    r["tx_out_of_order"], kb(r["rss_growth_kb"]), r["tx_records"],
                    r["fresh_clients"], r.get("poisoned_clients_left", 0), r["sessions_resumed"]))
    for r in by.get("crash_safety", []):
        o.append("| SIGKILL during API changes, %s | %d | %d of %d acknowledged changes | — | — | — | — | "
                 "%d in-flight requests landed; %d link temporaries left by kills; %d of %d "
                 "planted stale temporaries kept |"
                 % (r.get("build", "?"), r["cycles"], r["lost_changes"],
                    r["acknowledged_changes"],
                    r["in_flight_landed"], r["temporaries_left"],
                    r["planted_temporaries_kept"], r["cycles"]))
    for r in by.get("churn", []):
        o.append("| open/configure/write/close churn, %s | %d | %d | %d | — | %+d fds | %s | %d bytes |"
                 % (r.get("build", "?"), r["cycles"], r["bytes_lost"], r["duplicates"],
                    r["fd_growth"],
                    kb(r["rss_growth_kb"]), r["bytes"]))
    for r in by.get("http_fuzz", []):
        oc = ", ".join("%s %d" % kv for kv in sorted(r["outcomes"].items()))
        o.append("| hostile HTTP/websocket inputs, %s | %d inputs | — | — | — | %+d fds | %s | %s; "
                 "%d 500/malformed answers |"
                 % (r.get("build", "?"), r["inputs"], r["fd_end"] - r["fd_start"],
                    kb(r["rss_end_kb"] - r["rss_start_kb"]), oc, r["bad_answers"]))
    o.append("")
    o.append("## Load (release binary; round trip rx→application→tx in ms, p50 / p99 / max)")
    o.append("")
    o.append("| load | round trip before | round trip during | API failures | memory | notes |")
    o.append("|---|---|---|---|---|---|")
    for r in by.get("load_slowloris", []):
        o.append("| %d slowloris connections, %d s | %s | %s | %d of %d | RSS %.1f MB | %d still open at the end |"
                 % (r["connections"], r["seconds"], rtt(r["rtt_before"]), rtt(r["rtt_during"]),
                    r["api_failed"], r["api_ok"] + r["api_failed"], r["rss_kb"] / 1024.0,
                    r["still_open_at_end"]))
    for r in by.get("load_ws_never_read", []):
        o.append("| %d websocket clients that never read, %d s | %s | %s | %d of %d | "
                 "peak %.1f MB, %s kept after they left | %d accepted, %d refused (503) |"
                 % (r["clients"], r["seconds"], rtt(r.get("rtt_before")), rtt(r["rtt_during"]),
                    r["api_failed"], r["api_ok"] + r["api_failed"], r["rss_peak_kb"] / 1024.0,
                    kb(r["rss_kept_kb"]), r["accepted"], r["refused_503"]))
    for r in by.get("load_login_storm", []):
        ans = ", ".join("%s×%d" % kv for kv in sorted(r["answers"].items()))
        o.append("| login storm, %d processes, %d s | %s | %s | %d of %d | — | answers %s |"
                 % (r["processes"], r["seconds"], rtt(r["rtt_before"]), rtt(r["rtt_during"]),
                    r["api_failed"], r["api_ok"] + r["api_failed"], ans))
    o.append("")
    o.append("## Fuzzing (libFuzzer, ASan+UBSan)")
    o.append("")
    o.append("| target | seconds | executions | coverage | crashes | run at |")
    o.append("|---|---|---|---|---|---|")
    for r in sorted(by.get("fuzz", []), key=lambda r: r["target"]):
        o.append("| %s | %s | %s | %s | %s | %s |"
                 % (r["target"], r["seconds"], r["execs"], r["cov"], r["crashes"],
                    "commit %s (%s)" % (r["commit"], r["why"]) if r.get("commit") else "this run"))
    o.append("")
    o.append("## Sanitizers")
    o.append("")
    o.append("The integration suite runs under ASan+UBSan in the test command.")
    for r in by.get("valgrind", []):
        o.append("valgrind memcheck (release build; the integration files of the "
                 "valgrind part of `tests/faults/run`): %d gateway processes, **%d reports from our code**, "
                 "%d from libraries." % (r["processes"], r["reports_ours"],
                                         r["reports_libraries"]))
    o.append("")
    xf = by.get("xfail", [])
    if xf:
        o.append("## Expected failures (open work elsewhere)")
        o.append("")
        for r in xf:
            o.append("- `%s`: %s" % (r["test"], r["reason"]))
        o.append("")
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "findings.md")) as f:
            o.append(f.read().rstrip("\n"))
            o.append("")
    except OSError:
        pass
    return "\n".join(o)


def main():
    rows = load(sys.argv[1])
    text = page(rows)
    print(text)
    if "--write" in sys.argv:
        with open(sys.argv[sys.argv.index("--write") + 1], "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
