#!/usr/bin/env bash
# run-in-vm.sh — run one command inside a throwaway VM whose kernel has fuse
# and cuse (/dev/cuse), for tests that the host cannot run (no /dev/cuse,
# no module loading here). See DESIGN.md §4 "Testing without /dev/cuse".
#
#   tests/vm/run-in-vm.sh [options] -- COMMAND [ARGS...]
#
# The guest is Debian's own kernel (downloaded with `apt-get download`, never
# installed on the host) under qemu TCG, with a busybox initramfs
# (tests/vm/guest-init.sh) that loads fuse, cuse, 9p and overlay, brings up
# lo, mounts the host's root read-only over 9p with a tmpfs overlay on top
# (so everything is writable inside and nothing written reaches the host),
# and runs COMMAND as root in a chroot of it, in the current directory.
# The guest has no NIC: everything talks over its own 127.0.0.1.
#
# COMMAND's stdout and stderr both arrive on this script's stdout (one serial
# console, ~120 KB/s: keep bulky logs in files); its stdin is /dev/null
# unless --interactive. This script exits with COMMAND's status; 124 if the
# VM ran out of time, 125 if the guest stopped without reporting a status
# (its last console lines go to stderr), 128+N on signal N (qemu is ended).
# Under TCG every exec costs: call /usr/bin/python3, not a pyenv shim (~7 s).
#
# Options:
#   --timeout SEC   bound on the whole VM run, boot included (default 120)
#   --mem MB        guest memory (default 1024); the overlay is a tmpfs in it
#   --smp N         guest CPUs (default 2)
#   --env NAME=VAL  set a variable for COMMAND (repeatable); --env NAME
#                   passes the host's value. Always set: PATH, HOME, TERM
#                   (dumb unless --interactive), MQTTTY_VM=1; passed through
#                   when set: LANG LC_ALL LC_CTYPE TZ USER LOGNAME CI.
#   -v, --verbose   harness progress and a timing line on stderr (and the
#                   guest init's own notes, "run-in-vm(guest): ...", on stdout)
#   --console       also show the raw console (firmware, kernel boot log)
#   -i, --interactive  connect this terminal to COMMAND (debugging: -- bash)
#   --prepare       only install/download/build what a run needs, then exit
# Environment:
#   MQTTTY_VM_CACHE   cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/mqttty-vm)
#   MQTTTY_VM_KERNEL  kernel package to use (default: the one the cache holds,
#                     else what linux-image-amd64 depends on)
#   MQTTTY_VM_BOOT    vmlinux (default, fast) or bzimage (the packaged vmlinuz)
#   MQTTTY_VM_ACCEL   qemu accelerator (default tcg; kvm where it works)
#   MQTTTY_VM_APPEND  extra kernel command line parameters
#   MQTTTY_VM_KEEP=1  keep the per-run directory (console.log) for inspection
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CACHE=${MQTTTY_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/mqttty-vm}
TIMEOUT=120 MEM=1024 SMP=2
VERBOSE=0 CONSOLE=0 INTERACTIVE=0 PREPARE_ONLY=0
ENVS=()
# Modules the guest needs (their dependencies are added from each .ko's
# modinfo). Built-in ones (=y in the kernel config) are skipped.
MODULES=(virtio_pci 9pnet_virtio 9p overlay fuse cuse)
# Packages this script uses; installed when missing (as root, or with sudo).
PACKAGES=(qemu-system-x86 busybox-static xz-utils zstd)

msg() { printf 'run-in-vm: %s\n' "$*" >&2; }
vmsg() { if ((VERBOSE)); then msg "$@"; fi; }
die() { msg "$*"; exit 125; }
usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

while (($#)); do
	case $1 in
	--timeout) TIMEOUT=${2-}; shift 2 || die "--timeout needs a value" ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--mem) MEM=${2-}; shift 2 || die "--mem needs a value" ;;
	--smp) SMP=${2-}; shift 2 || die "--smp needs a value" ;;
	--env) ENVS+=("${2-}"); shift 2 || die "--env needs a value" ;;
	-v | --verbose) VERBOSE=1; shift ;;
	--console) CONSOLE=1 VERBOSE=1; shift ;;
	-i | --interactive) INTERACTIVE=1; shift ;;
	--prepare) PREPARE_ONLY=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) msg "unknown option: $1"; usage >&2; exit 125 ;;
	esac
done
for v in TIMEOUT MEM SMP; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "bad --${v,,}: ${!v}"
done
((PREPARE_ONLY || $# > 0)) || { usage >&2; exit 125; }

# ---------------------------------------------------------------- host tools

ensure_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	as_root || die "missing packages (install them as root): ${missing[*]}"
	msg "installing ${missing[*]}${AS_ROOT:+ with sudo (it may ask for your password)}"
	local apt=(timeout 900 "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
		-o DPkg::Lock::Timeout=300 install --no-install-recommends "${missing[@]}")
	"${apt[@]}" >&2 || { timeout 600 "${AS_ROOT[@]}" apt-get -q update >&2 && "${apt[@]}" >&2; } ||
		die "apt-get install ${missing[*]} failed"
}

# How to run apt as root: AS_ROOT empty as root, (sudo) for a user who has
# it (README: a normal user needs sudo); fails otherwise.
as_root() {
	AS_ROOT=()
	[[ $(id -u) == 0 ]] && return 0
	command -v sudo >/dev/null || return 1
	AS_ROOT=(sudo)
	# a password prompt here, not under timeout(1) (no terminal there)
	sudo -v
}

# ------------------------------------------------------------ kernel + cache

# Name of the newest kernel image package, from the local package lists.
kernel_package() {
	local p
	p=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	[[ -n $p ]] || p=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-amd64$' 2>/dev/null |
		awk '{ print $1 }' | sort -V | tail -n 1)
	printf '%s' "$p"
}

# Little-endian u32 at offset $2 of file $1.
u32() { od -An -tu4 -j "$2" -N 4 "$1" | tr -d ' '; }

# Decompress the kernel proper from a bzImage ($1) into an ELF vmlinux ($2).
# The x86 boot header gives where the compressed payload is
# (payload_offset/payload_length, relative to the protected-mode code that
# starts after the setup sectors); the kernel build appends the uncompressed
# size (u32) to the payload. Without a usable header, scan for the magic.
extract_vmlinux() {
	local in=$1 out=$2 off='' len='' setup magic size
	if [[ $(od -An -tx1 -j $((0x202)) -N 4 "$in" | tr -d ' \n') == 48647253 ]]; then # "HdrS"
		setup=$(od -An -tu1 -j $((0x1f1)) -N 1 "$in" | tr -d ' ')
		((setup)) || setup=4
		off=$(((setup + 1) * 512 + $(u32 "$in" $((0x248)))))
		len=$(u32 "$in" $((0x24c)))
	fi
	magic=$(od -An -tx1 -j "${off:-0}" -N 6 "$in" | tr -d ' \n')
	case $magic in
	fd377a585a00 | 28b52ffd*) ;;
	*)
		off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00|\x28\xb5\x2f\xfd' "$in" | head -n 1 | cut -d: -f1)
		[[ -n $off ]] || { msg "no xz/zstd payload in $in"; return 1; }
		len='' magic=$(od -An -tx1 -j "$off" -N 6 "$in" | tr -d ' \n')
		;;
	esac
	local dec=(xz -dc --single-stream)
	[[ $magic == 28b52ffd* ]] && dec=(zstd -dcq)
	if [[ -n $len ]]; then
		size=$(u32 "$in" $((off + len - 4)))
		dd if="$in" bs=1M iflag=skip_bytes,count_bytes skip="$off" count=$((len - 4)) status=none |
			"${dec[@]}" >"$out" || return 1
		[[ $(stat -c %s "$out") == "$size" ]] || { msg "vmlinux size mismatch"; return 1; }
	else
		# No length known: decompress to the end; trailing bytes may make
		# the decompressor complain after it has written everything.
		dd if="$in" bs=1M iflag=skip_bytes skip="$off" status=none | "${dec[@]}" >"$out" 2>/dev/null
	fi
	[[ $(od -An -tx1 -N 4 "$out" | tr -d ' ') == 7f454c46 ]] || { msg "payload is no ELF"; return 1; }
}

# "depends=" of a module file (any compression), comma-separated.
ko_cat() {
	case $1 in
	*.ko.xz) xz -dc "$1" ;; *.ko.zst) zstd -dcq "$1" ;; *.ko.gz) gzip -dc "$1" ;; *) cat "$1" ;;
	esac
}
ko_depends() { ko_cat "$1" | tr '\0' '\n' | grep -a -m 1 '^depends=' | cut -d= -f2; }

# Download package $1 and build $2: vmlinux, vmlinuz, config, modules/*.ko,
# modules.order (load order). Works in a temporary dir, moved in at the end.
prepare_kernel() {
	local pkg=$1 dest=$2 tmp
	tmp=$(mktemp -d "$CACHE/.prep.XXXXXX") || die "cannot write $CACHE"
	msg "downloading $pkg (once; cached in $CACHE)"
	(cd "$tmp" && timeout 600 apt-get -q download -o APT::Sandbox::User=root "$pkg" >&2) ||
		{ as_root && timeout 600 "${AS_ROOT[@]}" apt-get -q update >&2 &&
			(cd "$tmp" && timeout 600 apt-get -q download -o APT::Sandbox::User=root "$pkg" >&2); } ||
		{ rm -rf "$tmp"; die "apt-get download $pkg failed"; }
	dpkg-deb -x "$tmp"/*.deb "$tmp/x" || { rm -rf "$tmp"; die "dpkg-deb -x failed"; }
	mkdir -p "$tmp/out/modules"
	local vmlinuz config
	vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -n 1)
	config=$(ls "$tmp"/x/boot/config-* 2>/dev/null | head -n 1)
	[[ -f $vmlinuz && -f $config ]] || { rm -rf "$tmp"; die "$pkg has no /boot/vmlinuz-* or config"; }
	cp "$vmlinuz" "$tmp/out/vmlinuz" && cp "$config" "$tmp/out/config"
	if grep -q '^CONFIG_PVH=y' "$config" && extract_vmlinux "$vmlinuz" "$tmp/out/vmlinux"; then
		:
	else
		msg "cannot boot an uncompressed kernel from $pkg; will boot the (slower) bzImage"
		rm -f "$tmp/out/vmlinux"
	fi

	# Index every module file by module name (dashes read as underscores).
	local -A ko=() seen=()
	local f b order=()
	while IFS= read -r -d '' f; do
		b=${f##*/}; b=${b%%.ko*}; ko[${b//-/_}]=$f
	done < <(find "$tmp/x/lib/modules" "$tmp/x/usr/lib/modules" -name '*.ko*' -print0 2>/dev/null)
	local builtin
	builtin=$(cat "$tmp"/x/lib/modules/*/modules.builtin "$tmp"/x/usr/lib/modules/*/modules.builtin 2>/dev/null |
		sed 's,.*/,,; s,\.ko$,,; s,-,_,g')
	visit() { # depth-first: dependencies first
		local m=$1 d
		case ${seen[$m]-} in done) return 0 ;; busy) msg "module dependency cycle at $m"; return 1 ;; esac
		if [[ -z ${ko[$m]-} ]]; then
			grep -qx "$m" <<<"$builtin" && { seen[$m]="done"; return 0; }
			msg "module $m is neither in $pkg nor built in"; return 1
		fi
		seen[$m]="busy"
		local IFS=,
		for d in $(ko_depends "${ko[$m]}"); do visit "$d" || return 1; done
		seen[$m]="done"
		order+=("$m")
	}
	local m
	for m in "${MODULES[@]}"; do visit "$m" || { rm -rf "$tmp"; die "cannot resolve modules"; }; done
	for m in "${order[@]}"; do
		ko_cat "${ko[$m]}" >"$tmp/out/modules/$m.ko" || { rm -rf "$tmp"; die "cannot unpack $m"; }
	done
	printf '%s\n' "${order[@]}" >"$tmp/out/modules.order"
	printf '%s\n' "${MODULES[@]}" >"$tmp/out/modules.wanted"
	echo "$pkg" >"$tmp/out/package"
	rm -rf "$dest" && mv "$tmp/out" "$dest" && rm -rf "$tmp" || die "cannot fill $dest"
	msg "kernel $pkg ready: modules $(tr '\n' ' ' <"$dest/modules.order")"
}

# Base initramfs (busybox, /init, modules), rebuilt when any input changes.
build_initramfs() {
	local kdir=$1 key stage out
	key=$(cat "$HERE/guest-init.sh" /bin/busybox "$kdir/modules.order" "$kdir"/modules/*.ko |
		sha256sum | cut -c1-16)
	out="$kdir/initramfs-$key.cpio.gz"
	if [[ ! -s $out ]]; then
		vmsg "building initramfs $out"
		stage=$(mktemp -d "$CACHE/.stage.XXXXXX") || die "cannot write $CACHE"
		mkdir -p "$stage"/{bin,proc,sys,dev,mqttty-vm}
		cp /bin/busybox "$stage/bin/busybox" && cp "$HERE/guest-init.sh" "$stage/init" &&
			chmod 755 "$stage/init" && cp -r "$kdir/modules" "$kdir/modules.order" "$stage/mqttty-vm/" ||
			die "cannot stage the initramfs"
		(cd "$stage" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) >"$out.tmp" &&
			mv "$out.tmp" "$out" || die "cannot build the initramfs"
		rm -rf "$stage"
		# Older builds go once no run can still be about to copy them.
		find "$kdir" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -name "${out##*/}" -mmin +60 -delete
	fi
	printf '%s' "$out"
}

prepare() {
	ensure_packages
	mkdir -p "$CACHE" || die "cannot create $CACHE"
	exec 9>"$CACHE/.lock"
	flock -w 900 9 || die "cache $CACHE is locked by another run"
	local pkg=${MQTTTY_VM_KERNEL:-}
	if [[ -z $pkg && -s $CACHE/current ]]; then pkg=$(<"$CACHE/current"); fi
	if [[ -z $pkg ]]; then
		pkg=$(kernel_package)
		if [[ -z $pkg ]] && as_root; then
			timeout 600 "${AS_ROOT[@]}" apt-get -q update >&2
			pkg=$(kernel_package)
		fi
		[[ -n $pkg ]] || die "no linux-image-*-amd64 package known to apt"
	fi
	KDIR=$CACHE/$pkg
	if [[ ! -s $KDIR/modules.order ]] ||
		[[ "$(cat "$KDIR/modules.wanted" 2>/dev/null)" != "$(printf '%s\n' "${MODULES[@]}")" ]]; then
		prepare_kernel "$pkg" "$KDIR"
	fi
	echo "$pkg" >"$CACHE/current"
	INITRAMFS=$(build_initramfs "$KDIR") || exit 125
	KERNEL=$KDIR/vmlinux
	[[ ${MQTTTY_VM_BOOT:-vmlinux} == bzimage || ! -s $KERNEL ]] && KERNEL=$KDIR/vmlinuz
	exec 9>&-
	vmsg "kernel $KERNEL"
}

# -------------------------------------------------------------------- the run

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }   # POSIX-sh quoting
# Seconds (one decimal) from EPOCHREALTIME $1 to $2.
dt() { local a=${1//[.,]/} b=${2//[.,]/} d; d=$(((10#$b - 10#$a) / 100000)); printf '%d.%d' $((d / 10)) $((d % 10)); }

T_START=$EPOCHREALTIME
prepare
((PREPARE_ONLY)) && { vmsg "prepared in $(dt "$T_START" "$EPOCHREALTIME")s"; exit 0; }

RUN=$(mktemp -d "${TMPDIR:-/tmp}/mqttty-vm.XXXXXX") || die "cannot create a run dir"
cleanup() { if [[ ${MQTTTY_VM_KEEP:-0} == 1 ]]; then msg "kept $RUN"; else rm -rf "$RUN"; fi; }
trap cleanup EXIT

NONCE=$(od -An -tx1 -N 8 /dev/urandom | tr -d ' \n')
CWD=$(pwd -P)
mkdir -p "$RUN/stage/mqttty-vm"
{
	echo "NONCE=$NONCE VERBOSE=$VERBOSE INTERACTIVE=$INTERACTIVE"
	echo "CWD=$(q "$CWD")"
} >"$RUN/stage/mqttty-vm/run.conf"
{
	term=dumb
	((INTERACTIVE)) && term=${TERM:-dumb}
	printf 'export PATH=%s HOME=%s TERM=%s MQTTTY_VM=1\n' \
		"$(q "${PATH:-/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin}")" \
		"$(q "${HOME:-/root}")" "$(q "$term")"
	for v in LANG LC_ALL LC_CTYPE TZ USER LOGNAME CI; do
		[[ -n ${!v+x} ]] && printf 'export %s=%s\n' "$v" "$(q "${!v}")"
	done
	for e in "${ENVS[@]}"; do
		name=${e%%=*}
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad --env $e"
		if [[ $e == *=* ]]; then val=${e#*=}; else val=${!name-}; fi
		printf 'export %s=%s\n' "$name" "$(q "$val")"
	done
	printf 'cd %s || exit 125\nexec' "$(q "$CWD")"
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	printf '\n'
} >"$RUN/stage/mqttty-vm/cmd.sh"
(cd "$RUN/stage" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) >"$RUN/run.cpio.gz" &&
	cat "$INITRAMFS" "$RUN/run.cpio.gz" >"$RUN/initrd" || die "cannot build the per-run initrd"

append="console=ttyS0 panic=-1 8250.nr_uarts=1"
((CONSOLE)) || append+=" quiet loglevel=3"
append+=${MQTTTY_VM_APPEND:+ $MQTTTY_VM_APPEND}
signal=on
((INTERACTIVE)) && signal=off   # ^C goes to the guest; leave by ending COMMAND
# shellcheck disable=SC2054  # the commas are qemu's
QEMU=(qemu-system-x86_64 -accel "${MQTTTY_VM_ACCEL:-tcg}" -M pc -cpu max -m "$MEM" -smp "$SMP"
	-nodefaults -no-user-config -display none -no-reboot -nic none
	-chardev "stdio,id=con0,signal=$signal" -serial chardev:con0
	-kernel "$KERNEL" -initrd "$RUN/initrd" -append "$append"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
# qboot starts a Linux kernel ~0.5 s sooner than SeaBIOS.
QBOOT=$(ls /usr/share/qemu/qboot.rom /usr/share/seabios/qboot.rom 2>/dev/null | head -n 1)
[[ -n $QBOOT ]] && QEMU+=(-bios "$QBOOT")

# Show the command's output (between the INIT and EXIT markers), keep the
# whole console in console.log, note when the command started and its status.
# Interactive runs also show partial lines (prompts) as they come; a marker
# is only acted on once its whole line is in.
filter() {
	local phase=boot line raw chunk pending='' shown=0 eof=0 tmo=()
	((INTERACTIVE)) && tmo=(-t 0.05)
	exec 3>"$RUN/console.log"
	while ((!eof)); do
		if IFS= read -r "${tmo[@]}" chunk; then
			line=$pending$chunk pending=''
		elif (($? > 128)); then # timed out: a partial line
			[[ -n $chunk ]] || continue
			pending+=$chunk
			[[ $phase == run ]] && printf '%s' "$chunk" && shown=$((shown + ${#chunk}))
			continue
		else
			eof=1 line=$pending$chunk pending=''
			[[ -n $line ]] || break
		fi
		printf '%s\n' "$line" >&3
		raw=$line line=${line%$'\r'}   # match markers without the \r of a tty
		((INTERACTIVE)) && raw=$line    # the host tty adds its own \r
		case $phase in
		boot)
			if [[ $line == "MQTTTY_VM_INIT $NONCE" ]]; then phase=init
			elif ((CONSOLE)); then printf '%s\n' "$line"; fi ;;
		init)
			if [[ $line == "MQTTTY_VM_RUN $NONCE "* ]]; then
				echo "$EPOCHREALTIME ${line##* }" >"$RUN/started"; phase=run
			else printf '%s\n' "$line"; fi ;;
		run)
			if [[ $line =~ ^(.*)MQTTTY_VM_EXIT=([0-9]+)\ $NONCE\ ([0-9.]+)$ ]]; then
				# The command's last line had no newline: show it as it was.
				printf '%s' "${BASH_REMATCH[1]:shown}"
				echo "${BASH_REMATCH[2]} $EPOCHREALTIME ${BASH_REMATCH[3]}" >"$RUN/exit"
				phase="done"
			else printf '%s\n' "${raw:shown}"; fi ;;
		done) if ((CONSOLE)); then printf '%s\n' "$line"; fi ;;
		esac
		shown=0
	done
}

mkfifo "$RUN/console" || die "mkfifo failed"
filter <"$RUN/console" &
FPID=$!
T_QEMU=$EPOCHREALTIME
vmsg "booting (timeout ${TIMEOUT}s)"
qrc=0 INTERRUPTED=0
if ((INTERACTIVE)); then
	# In the foreground, on this terminal; ^C goes to the guest.
	timeout --foreground -k 5 "$TIMEOUT" "${QEMU[@]}" >"$RUN/console" || qrc=$?
else
	timeout -k 5 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$RUN/console" &
	QPID=$!
	# timeout(1) runs qemu in its own process group: pass our end on to it.
	for sig in INT:130 TERM:143 HUP:129; do
		# shellcheck disable=SC2064  # the status is fixed now, $QPID later
		trap "INTERRUPTED=${sig#*:}; kill -TERM \"\$QPID\" 2>/dev/null" "${sig%:*}"
	done
	wait "$QPID" || qrc=$?
	while kill -0 "$QPID" 2>/dev/null; do qrc=0; wait "$QPID" || qrc=$?; done
	trap - INT TERM HUP
fi
wait "$FPID"
T_END=$EPOCHREALTIME

if ((INTERRUPTED)); then msg "interrupted"; exit "$INTERRUPTED"; fi
if [[ -s $RUN/exit ]]; then
	read -r rc t_exit _ <"$RUN/exit"
	read -r t_run up_run <"$RUN/started" 2>/dev/null || { t_run=$T_QEMU up_run=0; }
	if ((VERBOSE)); then
		msg "boot-to-command $(dt "$T_QEMU" "$t_run")s (guest uptime ${up_run}s)," \
			"command $(dt "$t_run" "$t_exit")s, total $(dt "$T_START" "$T_END")s" \
			"(of which qemu $(dt "$T_QEMU" "$T_END")s)"
		msg "exit status $rc"
	fi
	exit "$rc"
fi
if ((qrc == 124 || qrc == 137)); then
	msg "timed out after ${TIMEOUT}s (raise --timeout?)"
	[[ -s $RUN/started ]] || { msg "the command never started; last console lines:"; tail -n 30 "$RUN/console.log" >&2; }
	exit 124
fi
msg "the guest stopped without reporting an exit status (qemu/timeout status $qrc); last console lines:"
tail -n 30 "$RUN/console.log" | tr -d '\r' >&2
exit 125
