"""What installing mqttty gives a user and an administrator: the files
`cmake --install` puts in place, the man page against `--help`, the systemd
unit's hardening score and the launchd plist."""

import os
import plistlib
import re
import shutil
import subprocess

import pytest

from emulation import not_emulated
from gateway_proc import binary_path
from helpers import REPO_ROOT


def project_version():
    with open(os.path.join(REPO_ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(mqttty VERSION ([0-9.]+)", f.read()).group(1)


def man_text():
    with open(os.path.join(REPO_ROOT, "docs", "mqttty.1")) as f:
        return f.read()


def test_man_page_lists_every_option_help_prints():
    out = subprocess.run([binary_path(), "--help"], capture_output=True, text=True,
                         timeout=10).stdout
    opts = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", out))
    assert {"broker", "help", "version", "port", "log-level"} <= opts, out
    man = man_text().replace("\\-", "-")
    missing = sorted(o for o in opts if not re.search(r"--%s(?![a-z-])" % re.escape(o), man))
    assert not missing, "options in --help but not in docs/mqttty.1: %s" % missing
    for sub in ("serve", "port", "passwd"):
        assert re.search(r"^\.B %s\b" % sub, man_text(), re.M), sub


def test_man_page_names_this_version():
    th = next(l for l in man_text().splitlines() if l.startswith(".TH "))
    assert '"mqttty %s"' % project_version() in th, th


@not_emulated("the build tree was made inside the cross-build root, so its "
              "cmake_install.cmake names that root's paths; the ARCH .deb's files are "
              "installed and run in an ARCH root by tests/fresh/foreign_root.sh instead")
def test_cmake_install_puts_files_where_they_belong(tmp_path):
    build = os.path.dirname(binary_path())
    dest = str(tmp_path / "dest")
    r = subprocess.run(["cmake", "--install", build], env=dict(os.environ, DESTDIR=dest),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        prefix = re.search(r"^CMAKE_INSTALL_PREFIX:PATH=(.*)$", f.read(), re.M).group(1)
    root = dest + prefix
    assert os.access(os.path.join(root, "bin", "mqttty"), os.X_OK)
    assert os.path.isfile(os.path.join(root, "share", "man", "man1", "mqttty.1"))
    for ex in ("mosquitto-local.conf", "mqttty.default", "mqttty-cuse.conf",
               "70-mqttty-cuse.rules", "org.mqttty.plist"):
        assert os.path.isfile(os.path.join(root, "share", "doc", "mqttty", "examples", ex)), ex
    unit = os.path.join(root, "lib", "systemd", "system", "mqttty.service")
    with open(unit) as f:
        text = f.read()
    # the installed unit starts the installed binary
    assert re.search(r"^ExecStart=%s/bin/mqttty serve$" % re.escape(prefix), text, re.M), text
    out = subprocess.run([os.path.join(root, "bin", "mqttty"), "--version"],
                         capture_output=True, text=True, timeout=10).stdout
    assert project_version() in out, out


def test_unit_is_hardened_below_3_0_and_notifies():
    sa = shutil.which("systemd-analyze")
    assert sa, "systemd-analyze missing (deploy/install-deps.sh --test installs systemd)"
    unit = os.path.join(REPO_ROOT, "deploy", "mqttty.service")
    r = subprocess.run([sa, "security", "--offline=yes", unit], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"Overall exposure level for mqttty.service: ([0-9.]+)", r.stdout)
    assert m, r.stdout[-500:] + r.stderr
    assert float(m.group(1)) < 3.0, r.stdout
    with open(unit) as f:
        keys = dict(l.split("=", 1) for l in f.read().splitlines()
                    if "=" in l and not l.startswith("#"))
    assert keys["Type"] == "notify" and keys["WatchdogSec"] and keys["User"] == "mqttty"
    assert keys["Restart"] == "on-failure"
    assert keys["RuntimeDirectory"] == "mqttty" and keys["StateDirectory"] == "mqttty"


def test_launchd_plist_is_a_valid_plist_starting_the_gateway():
    with open(os.path.join(REPO_ROOT, "deploy", "org.mqttty.plist"), "rb") as f:
        p = plistlib.load(f)
    assert p["Label"] == "org.mqttty"
    assert p["ProgramArguments"][:2] == ["/usr/local/bin/mqttty", "serve"]
    assert p["KeepAlive"] is True and p["RunAtLoad"] is True
