"""A device port holds its tty exclusively (TIOCEXCL) while it has it open,
and gives that up when it closes it.

On a pty slave (a device made by socat, or another gateway's port) the
exclusive flag outlives the close while the master stays open: a gateway
that left it set could not open the device again after a restart unless it
ran as root, and the packaged unit runs it as `mqttty`. Found running the
tests as a normal user (the restart in test_bridge's cable stayed at EBUSY).
Checked here through TIOCGEXCL, so that it shows when the tests run as root
too (root opens an exclusive tty all the same).
"""

import errno
import fcntl
import os
import struct

from cable_helpers import Api
from helpers import free_port, wait_until

TIOCGEXCL = 0x80045440      # _IOR('T', 0x40, int), Linux 3.8


def exclusive(path):
    """The tty's exclusive flag; True also when it cannot be opened for
    being exclusive (EBUSY: not root)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.EBUSY:
            return True
        raise
    try:
        return struct.unpack("i", fcntl.ioctl(fd, TIOCGEXCL, b"\0" * 4))[0] != 0
    finally:
        os.close(fd)


def test_device_exclusive_while_open_and_released_at_stop_and_delete(broker, gateway, tmp_path):
    hp = free_port()
    gw = gateway(ports=(), broker=broker, extra=["--http", "127.0.0.1:%d" % hp])
    api = Api(hp).wait_up(gw)
    master, slave = os.openpty()
    dev = os.ttyname(slave)
    link = str(tmp_path / "ttyPTY0")
    os.symlink(dev, link)
    os.close(slave)
    try:
        def is_open():
            st, j = api.request("GET", "/api/v1/ports/dev")
            assert st == 200, (st, j)
            return j["state"]["open"] is True

        api.add_port({"name": "dev", "kind": "device", "device": link})
        wait_until(is_open, 5, what="dev open")
        assert exclusive(dev), "the gateway does not hold the device exclusively"

        assert gw.terminate() == 0
        assert not exclusive(dev), "the stopped gateway left the device exclusive"

        # restarted, it opens the stored device again (as any user)
        gw.start(wait_links=False)
        api.wait_up(gw)
        wait_until(is_open, 5, what="dev open again after the restart")
        assert exclusive(dev)

        st, j = api.request("DELETE", "/api/v1/ports/dev")
        assert st == 204, (st, j)
        wait_until(lambda: not exclusive(dev), 5, what="the deleted port to let go of the device")
    finally:
        os.close(master)
        os.unlink(link)
