"""The gateway under test may run under emulation: tests/fresh/cross.sh runs
a Raspberry Pi build (arm64, armhf) under qemu-user and sets
MQTTTY_EMULATED=qemu-user for the tests.

Only there, a test that cannot hold for a stated reason is skipped with
that reason (@not_emulated("why")); a native run never skips through this.
"""

import os

import pytest

EMULATED = os.environ.get("MQTTTY_EMULATED", "")


def not_emulated(reason):
    """Skip the test when the binary runs under emulation, saying why."""
    return pytest.mark.skipif(bool(EMULATED), reason="under %s: %s" % (EMULATED or "emulation", reason))
