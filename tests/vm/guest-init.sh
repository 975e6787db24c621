#!/bin/busybox sh
# PID 1 of the test VM started by run-in-vm.sh (runs from the initramfs,
# busybox only). Contract with the host side, one line each on the console:
#   MQTTTY_VM_INIT <nonce>              /init started (console is now raw)
#   MQTTTY_VM_RUN <nonce> <uptime>      the command starts now
#   MQTTTY_VM_EXIT=<rc> <nonce> <uptime> the command ended with status rc
# Anything that goes wrong before the command prints "run-in-vm(guest): ..."
# and powers off without an EXIT line; the host then reports 125.
# Per-run settings come from /mqttty-vm/run.conf (a second cpio archive
# appended by the host): NONCE, VERBOSE, INTERACTIVE, CWD; the command itself
# is /mqttty-vm/cmd.sh, run by the host's /bin/sh inside the chroot.

/bin/busybox mkdir -p /proc /sys /dev /bin
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

NONCE=none VERBOSE=0 INTERACTIVE=0 CWD=/
. /mqttty-vm/run.conf

# Raw console output: no \n -> \r\n, so what the command prints reaches the
# host byte for byte (kept for --interactive, where a terminal shows it).
[ "$INTERACTIVE" = 1 ] || stty -onlcr </dev/console 2>/dev/null
echo "MQTTTY_VM_INIT $NONCE"

say() { [ "$VERBOSE" = 1 ] && echo "run-in-vm(guest): $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
halt() { sync; poweroff -f; sleep 10; }   # poweroff -f does not return
die() { echo "run-in-vm(guest): $*"; halt; }

say "init at $(up)s"

# 1. Modules, in dependency order (computed on the host).
while read -r m; do
	[ -n "$m" ] || continue
	insmod "/mqttty-vm/modules/$m.ko" || die "insmod $m failed"
done </mqttty-vm/modules.order

# 2. Loopback (the guest has no NIC).
ip link set lo up || die "cannot bring up lo"
ip addr add 127.0.0.1/8 dev lo 2>/dev/null   # normally already there
hostname mqttty-vm

# 3. Host root, read-only over 9p. The virtio device may show up a moment
#    after its driver loaded: retry for up to ~5 s.
mkdir -p /host /rw /newroot
n=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose \
	hostroot /host 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 50 ] || die "cannot mount the host root (9p tag hostroot)"
	sleep 0.1
done

# 4. Writable view: overlay (upper on tmpfs) over the host root, so the
#    command can write anywhere (/tmp, /root, the repo's build dirs);
#    everything written is lost at power-off. Fallback without overlay:
#    the read-only root with tmpfs on the usual scratch directories.
mount -t tmpfs -o mode=0755 rw /rw
mkdir -p /rw/upper /rw/work
if mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot; then
	say "root: overlay (tmpfs over 9p)"
	SCRATCH=""
else
	echo "run-in-vm(guest): overlay failed; read-only root with tmpfs scratch dirs"
	mount --bind /host /newroot || die "cannot bind the host root"
	SCRATCH="/tmp /var/tmp /root"
fi
R=/newroot
mount -t proc proc $R/proc || die "mount proc"
mount -t sysfs sysfs $R/sys || die "mount sysfs"
mount -t devtmpfs devtmpfs $R/dev || die "mount devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts $R/dev/pts || die "mount devpts"
mount -t tmpfs -o mode=1777 shm $R/dev/shm
mount -t tmpfs -o mode=0755 run $R/run || die "mount /run"
mkdir -p $R/run/lock $R/run/mqttty-vm
chmod 1777 $R/run/lock
for d in $SCRATCH; do
	[ -d "$R$d" ] && mount -t tmpfs -o mode=1777 scratch "$R$d"
done
cp /mqttty-vm/cmd.sh $R/run/mqttty-vm/cmd.sh || die "cannot copy the command"
[ -d "$R$CWD" ] || die "working directory $CWD does not exist in the guest"

# 5. The command, as root in the chroot, with the environment the host wrote
#    into cmd.sh. stdin is /dev/null unless --interactive.
echo "MQTTTY_VM_RUN $NONCE $(up)"
if [ "$INTERACTIVE" = 1 ]; then
	setsid cttyhack env -i chroot $R /bin/sh /run/mqttty-vm/cmd.sh
else
	env -i chroot $R /bin/sh /run/mqttty-vm/cmd.sh </dev/null
fi
rc=$?
echo "MQTTTY_VM_EXIT=$rc $NONCE $(up)"
halt
