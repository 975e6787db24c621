"""Stale link temporaries (CONTRACT.md §5, issue 10 item 3): a SIGKILL
between symlink() and rename() leaves LINK_DIR/.NAME.PID.tmp; the next
start removes such symlinks of the gateway's own naming, and nothing else."""

import os
import subprocess
import time


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_stale_link_temporaries_removed_at_start(gateway, broker):
    gw = gateway(["p1"], broker=broker, start=False)
    d = gw.link_dir
    os.makedirs(d, exist_ok=True)
    pid = dead_pid()
    stale = [".p1.%d.tmp" % pid, ".radio.2m.%d.tmp" % pid]
    keep_links = [".p1.abc.tmp",                    # not a PID
                  ".p1.%d.tmp" % os.getpid(),       # a live process may be mid-rename
                  "p1.%d.tmp" % pid,                # no leading dot
                  "..x.%d.tmp" % pid,               # NAME may not start with '.'
                  ".p1.%d.tmpx" % pid]
    for n in stale + keep_links:
        os.symlink("/dev/pts/999999", os.path.join(d, n))
    # a live PID but an hour old: the PID was reused, the temporary is stale
    old = ".p5.%d.tmp" % os.getpid()
    os.symlink("/dev/pts/999998", os.path.join(d, old))
    os.utime(os.path.join(d, old), (time.time() - 3600,) * 2, follow_symlinks=False)
    stale.append(old)
    regular = ".p2.%d.tmp" % pid                    # right name, but a regular file
    with open(os.path.join(d, regular), "w") as f:
        f.write("not ours")
    os.mkdir(os.path.join(d, ".p3.%d.tmp" % pid))  # nor a directory

    gw.start()
    left = set(os.listdir(d))
    for n in stale:
        assert n not in left, "stale temporary %s survived the start" % n
    for n in keep_links + [regular, ".p3.%d.tmp" % pid]:
        assert n in left, "%s was removed but is not a stale temporary of ours" % n
    with open(os.path.join(d, regular)) as f:
        assert f.read() == "not ours"
    assert os.path.islink(gw.link("p1"))
    assert "stale link temporary" in gw.log_text()
