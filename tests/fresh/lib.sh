# tests/fresh/lib.sh — a throwaway minimal Debian 12 root to run the README's
# commands in, as a new user's machine would be. Sourced by tests/fresh/*.sh.
#
#   fresh_prepare          the cached root tarball (made with mmdebstrap when
#                          missing or stale), path in $FRESH_TAR
#   fresh_enter            unpack it to $ROOT, clone the current commit into
#                          $ROOT/root/mqttty, mount proc, /dev, /dev/pts and a
#                          tmpfs on /run; fresh_cleanup (an EXIT trap) ends
#                          every process whose root is $ROOT, by PID, unmounts
#                          and deletes it
#   fresh_chroot CMD...    run CMD inside as root, with a clean environment
#   fresh_add_user NAME    a normal user who administers the machine: sudo
#                          installed, NAME in group sudo, home mode 700, and
#                          a clone of the commit in ~NAME/mqttty made by NAME
#
# Root only. The cache lives in ${MQTTTY_FRESH_CACHE:-/var/cache/mqttty-fresh}:
# one tarball per recipe (its key hashes the recipe and the host's apt sources),
# rebuilt when older than ${MQTTTY_FRESH_MAX_AGE_DAYS:-7} days so that the
# root's packages are those a user installing today would get.
# MQTTTY_FRESH_KEEP=1 keeps the root (unmounted) for inspection.

FRESH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
FRESH_REPO=$(cd "$FRESH_HERE/../.." && pwd -P)
FRESH_CACHE=${MQTTTY_FRESH_CACHE:-/var/cache/mqttty-fresh}
FRESH_SUITE=bookworm
FRESH_ARCH=${MQTTTY_FRESH_ARCH:-$(dpkg --print-architecture)}
FRESH_INCLUDE=ca-certificates,git
FRESH_RECIPE=1        # bump when the way the root is made changes
ROOT=""
FRESH_MOUNTS=()
FRESH_KILL=()         # PIDs to end first at cleanup (a booted container's nspawn)

fresh_msg() { printf 'fresh: %s\n' "$*" >&2; }
fresh_die() { fresh_msg "$*"; exit 1; }

# The apt sources of the host (so the root uses the same mirror), if any.
fresh_sources() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[[ -s $f ]] && { printf '%s' "$f"; return; }
	done
}

fresh_prepare() {
	[[ $(id -u) == 0 ]] || fresh_die "needs root (chroot, mounts)"
	command -v mmdebstrap >/dev/null || fresh_die "mmdebstrap missing: bash deploy/install-deps.sh --test"
	mkdir -p "$FRESH_CACHE" || fresh_die "cannot create $FRESH_CACHE"
	local src key
	src=$(fresh_sources)
	key=$({ echo "$FRESH_RECIPE $FRESH_SUITE $FRESH_ARCH apt $FRESH_INCLUDE"; [[ -n $src ]] && cat "$src"; } |
		sha256sum | cut -c1-16)
	FRESH_TAR=$FRESH_CACHE/$FRESH_SUITE-$FRESH_ARCH-$key.tar
	exec 8>"$FRESH_CACHE/.lock"
	flock -w 900 8 || fresh_die "cache $FRESH_CACHE is locked by another run"
	if [[ -s $FRESH_TAR ]] &&
		[[ -z $(find "$FRESH_TAR" -mtime +"${MQTTTY_FRESH_MAX_AGE_DAYS:-7}") ]]; then
		exec 8>&-
		return 0
	fi
	fresh_msg "making a minimal Debian $FRESH_SUITE ($FRESH_ARCH) root with mmdebstrap (cached in $FRESH_CACHE)"
	local t0=$SECONDS args=(--format=tar --variant=apt --include="$FRESH_INCLUDE" --architectures="$FRESH_ARCH")
	timeout 1200 mmdebstrap -q "${args[@]}" "$FRESH_SUITE" "$FRESH_TAR.tmp" ${src:+"$src"} ||
		{ rm -f "$FRESH_TAR.tmp"; fresh_die "mmdebstrap failed"; }
	mv "$FRESH_TAR.tmp" "$FRESH_TAR" || fresh_die "cannot write $FRESH_TAR"
	# older recipes and keys go
	find "$FRESH_CACHE" -maxdepth 1 -name "$FRESH_SUITE-$FRESH_ARCH-*.tar" ! -name "${FRESH_TAR##*/}" -delete
	fresh_msg "root tarball ready in $((SECONDS - t0)) s"
	exec 8>&-
}

# Mount and remember, so that fresh_cleanup undoes exactly what was done.
fresh_mount() {  # mount args..., the mount point last
	mount "$@" || return 1
	FRESH_MOUNTS+=("${!#}")
}

# Unmount what fresh_enter mounted on these paths (relative to $ROOT), e.g.
# to boot the root with systemd-nspawn, which wants /dev, /proc and /run
# to itself.
fresh_umount() {
	local rel i
	for rel in "$@"; do
		for ((i = ${#FRESH_MOUNTS[@]} - 1; i >= 0; i--)); do
			[[ ${FRESH_MOUNTS[i]} == "$ROOT/$rel" ]] || continue
			umount "${FRESH_MOUNTS[i]}" || return 1
			unset 'FRESH_MOUNTS[i]'
			FRESH_MOUNTS=("${FRESH_MOUNTS[@]}")
			break
		done
	done
}

fresh_enter() {
	ROOT=$(mktemp -d "${MQTTTY_FRESH_TMP:-/var/tmp}/mqttty-fresh.XXXXXX") || fresh_die "mktemp failed"
	trap fresh_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tar -C "$ROOT" -xf "$FRESH_TAR" || fresh_die "cannot unpack $FRESH_TAR"
	# Name resolution as on the host (mmdebstrap leaves the root without it).
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
	# and the machine's own name, as Debian's installer writes it (else
	# sudo warns "unable to resolve host" at every call)
	[[ -s $ROOT/etc/hosts ]] ||
		printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
	grep -qsw "$(hostname)" "$ROOT/etc/hosts" || printf '127.0.1.1\t%s\n' "$(hostname)" >>"$ROOT/etc/hosts"
	# Only where the host needs them to reach the registries (a user's own
	# network needs none): its extra trusted CAs and npm's cafile.
	local crt extra=0
	for crt in /usr/local/share/ca-certificates/*.crt; do
		[[ -f $crt ]] || continue
		mkdir -p "$ROOT/usr/local/share/ca-certificates"
		cp "$crt" "$ROOT/usr/local/share/ca-certificates/" && extra=1
	done
	if [[ -f /etc/npmrc ]]; then
		local cafile
		cafile=$(sed -n 's/^[[:space:]]*cafile[[:space:]]*=[[:space:]]*//p' /etc/npmrc | tail -n 1)
		cp /etc/npmrc "$ROOT/etc/npmrc"
		if [[ -n $cafile && -f $cafile ]]; then
			mkdir -p "$ROOT$(dirname "$cafile")" && cp "$cafile" "$ROOT$cafile"
		fi
	fi
	# The apt options the host's mirror needs (dated snapshot mirrors).
	local f
	for f in /etc/apt/apt.conf.d/*; do
		grep -qs 'Check-Valid-Until' "$f" && cp "$f" "$ROOT/etc/apt/apt.conf.d/"
	done

	local commit
	commit=$(git -C "$FRESH_REPO" rev-parse HEAD) || fresh_die "not a git checkout"
	[[ -z $(git -C "$FRESH_REPO" status --porcelain --untracked-files=no) ]] ||
		fresh_msg "note: uncommitted changes are not tested; the root gets commit ${commit:0:12}"
	git init -q "$ROOT/root/mqttty" &&
		git -C "$ROOT/root/mqttty" fetch -q "$FRESH_REPO" HEAD &&
		git -C "$ROOT/root/mqttty" checkout -q --detach "$commit" ||
		fresh_die "cannot clone $commit into the root"

	# Each bind is made private at once: where the host's mounts are shared
	# (systemd), a mount or unmount below it must not propagate to the host.
	fresh_mount -t proc proc "$ROOT/proc" &&
		fresh_mount --bind /dev "$ROOT/dev" && mount --make-private "$ROOT/dev" &&
		fresh_mount --bind /dev/pts "$ROOT/dev/pts" && mount --make-private "$ROOT/dev/pts" &&
		fresh_mount -t tmpfs -o mode=0755 tmpfs "$ROOT/run" ||
		fresh_die "cannot mount proc, /dev, /dev/pts, /run in $ROOT"
	# POSIX shared memory (Chromium needs it): the host's, where it has one
	if mountpoint -q /dev/shm; then
		fresh_mount --bind /dev/shm "$ROOT/dev/shm" && mount --make-private "$ROOT/dev/shm" ||
			fresh_die "cannot mount /dev/shm in $ROOT"
	fi
	# apt's downloads are kept between runs (apt checks every one against
	# the fresh package lists, so this only saves the transfer)
	# (apt locks it: scripts that may run beside each other use their own)
	local archives=$FRESH_CACHE/${FRESH_ARCHIVES:-archives}-$FRESH_ARCH
	mkdir -p "$archives/partial" &&
		fresh_mount --bind "$archives" "$ROOT/var/cache/apt/archives" &&
		mount --make-private "$ROOT/var/cache/apt/archives" ||
		fresh_die "cannot mount the apt cache"
	if ((extra)); then
		fresh_chroot update-ca-certificates >/dev/null 2>&1 || fresh_die "update-ca-certificates failed"
	fi
}

# Run a command in the root as root, in a clean environment (plus the host's
# proxy settings, if any). fresh_chroot_cmd sets FRESH_CHROOT to the command
# prefix, for starting one in the background with its own PID in $!.
fresh_chroot_cmd() {
	FRESH_CHROOT=(chroot "$ROOT" /usr/bin/env -i
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
		TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
	local v
	for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
		[[ -n ${!v-} ]] && FRESH_CHROOT+=("$v=${!v}")
	done
	return 0
}
fresh_chroot() {
	fresh_chroot_cmd
	"${FRESH_CHROOT[@]}" "$@"
}

# A normal user as a Debian user who administers their own machine has one:
# created like adduser does it (home mode 700, bash), in group sudo, with
# the `sudo` package installed (a minimal root has none). Tests cannot type
# a password, so a sudoers drop-in lets NAME run sudo without one (the only
# difference from a real user's sudo). The user clones the commit into
# ~/mqttty themself, from a bundle (as from any remote). Sets FRESH_UID.
fresh_add_user() {
	local name=$1 log=$ROOT/var/tmp/add-user.log
	{ fresh_chroot apt-get update -q && fresh_chroot apt-get install -y -q --no-install-recommends sudo; } \
		>"$log" 2>&1 || { tail -n 20 "$log" >&2; fresh_msg "cannot install sudo in the root"; return 1; }
	fresh_chroot useradd --create-home --shell /bin/bash --groups sudo "$name" &&
		fresh_chroot chmod 700 "/home/$name" || { fresh_msg "cannot create user $name"; return 1; }
	printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$name" >"$ROOT/etc/sudoers.d/90-$name" &&
		chmod 440 "$ROOT/etc/sudoers.d/90-$name" || return 1
	FRESH_UID=$(fresh_chroot id -u "$name")
	local commit
	commit=$(git -C "$ROOT/root/mqttty" rev-parse HEAD) &&
		git -C "$ROOT/root/mqttty" bundle create -q "$ROOT/var/tmp/mqttty.bundle" HEAD 2>/dev/null &&
		chmod 644 "$ROOT/var/tmp/mqttty.bundle" || { fresh_msg "cannot bundle the commit"; return 1; }
	fresh_chroot runuser -u "$name" -- bash -lc \
		"git -c advice.detachedHead=false clone -q /var/tmp/mqttty.bundle ~/mqttty && git -C ~/mqttty -c advice.detachedHead=false checkout -q $commit" ||
		{ fresh_msg "$name cannot clone the commit into ~/mqttty"; return 1; }
	rm -f "$ROOT/var/tmp/mqttty.bundle"
}

# PIDs of processes whose root directory is $ROOT.
fresh_pids() {
	local d r
	for d in /proc/[0-9]*; do
		r=$(readlink "$d/root" 2>/dev/null) || continue
		[[ $r == "$ROOT" ]] && printf '%s\n' "${d#/proc/}"
	done
}

fresh_cleanup() {
	local rc=$? p i
	[[ -n $ROOT ]] || return "$rc"
	trap - EXIT INT TERM
	# A container booted from the root (its processes show another root):
	# ending its nspawn ends all of them.
	for p in "${FRESH_KILL[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${FRESH_KILL[@]}"; do
		for i in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	# End what runs inside the root: TERM first, then KILL what is left.
	for p in $(fresh_pids); do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 50); do [[ -z $(fresh_pids) ]] && break; sleep 0.1; done
	for p in $(fresh_pids); do kill -KILL "$p" 2>/dev/null; done
	for i in $(seq 50); do [[ -z $(fresh_pids) ]] && break; sleep 0.1; done
	# Unmount in reverse order; lazily if something still holds a mount.
	for ((i = ${#FRESH_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${FRESH_MOUNTS[i]}" 2>/dev/null || umount -l "${FRESH_MOUNTS[i]}" ||
			fresh_msg "cannot unmount ${FRESH_MOUNTS[i]}"
	done
	if grep -q " $ROOT/" /proc/self/mountinfo; then
		fresh_msg "mounts left under $ROOT; not deleting it"
	elif [[ ${MQTTTY_FRESH_KEEP:-0} == 1 ]]; then
		fresh_msg "kept $ROOT"
	else
		rm -rf --one-file-system "$ROOT"
	fi
	return "$rc"
}

# Fail unless nothing answers on 127.0.0.1:PORT (the demo needs it).
fresh_port_free() {
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		fresh_die "something already listens on 127.0.0.1:$1; the demo needs it: stop it and run again"
	fi
}
