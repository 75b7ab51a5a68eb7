#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# mkimage.sh: build the Isles guest image (kernel + initramfs).
# Called by `isles image` / image_ensure() (src/isles/image.c), which find
# this script and the agent; not meant to be run by hand, though it can be:
#
#   mkimage.sh [--force] [--arch x86_64|i386] OUTDIR SRCDIR AGENT
#
#   --arch  the guest architecture (default x86_64)
#   OUTDIR  image directory (build/image, build/image/i386): vmlinuz,
#           vmlinux (the same kernel uncompressed, for PVH boot, when the
#           kernel allows), initrd.img, key, kernel.release (the guest's
#           uname -r), work/
#   SRCDIR  the Isles source tree (its src/guest/ is part of the key)
#   AGENT   the built static guest agent (build/guest/isles-agent, for
#           i386 build/guest32/isles-agent); the other executables in its
#           directory go to /usr/bin, *.ko there to
#           /lib/modules/RELEASE/extra (as does isles_dataport.ko)
#
# x86_64: kernel and modules come from Debian's linux-image-amd64 (the
# versioned package it depends on), downloaded with apt-get and unpacked
# with dpkg-deb under OUTDIR/work; never installed on the host.  Isles' own
# kernel module (src/guest/dataport/kmod, isles_dataport.ko) is built
# against the same kernel's linux-headers, -common and linux-kbuild
# packages, unpacked the same way into a private root under OUTDIR/work.
# Userland is the host's busybox-static plus e2fsprogs and iperf3 with
# their shared libraries.
#
# i386: the same from linux-image-686 and its headers, and the userland
# (busybox-static, e2fsprogs, iperf3 and the libraries they load) from the
# i386 packages of the same names, all downloaded and unpacked, none
# installed.  apt runs with a private state under OUTDIR/work/apt (see
# "Package tools" below), so the host needs no i386 architecture.
#
# The image is keyed by the package versions, the kernel compiler's
# version and the sha256 of every file under src/guest/ (the module's
# sources included) and of the agent: when the key matches, nothing is
# done (the check takes a fraction of a second).  Progress and errors go
# to stderr as "isles image: ...".  Exit status 0 = image ready.
set -eu

say() { echo "isles image: $*" >&2; }
die() { echo "isles image: $*" >&2; exit 1; }

force=0
ARCH=x86_64
while [ $# -gt 0 ]; do
	case $1 in
	--force) force=1; shift ;;
	--arch) [ $# -ge 2 ] || die "--arch needs x86_64 or i386"; ARCH=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 3 ] || die "usage: mkimage.sh [--force] [--arch x86_64|i386] OUTDIR SRCDIR AGENT"
case $ARCH in
x86_64)
	KMETA=linux-image-amd64
	LIBDIRS="lib/x86_64-linux-gnu lib64"
	;;
i386)
	KMETA=linux-image-686
	LIBDIRS="lib/i386-linux-gnu"
	;;
*)	die "unknown guest architecture '$ARCH' (x86_64 or i386)" ;;
esac
# Absolute paths: the module build runs make -C elsewhere.
mkdir -p "$1" || die "cannot create $1"
OUT=$(cd "$1" && pwd) || die "cannot enter $1"
SRC=$(cd "$2" && pwd) || die "no source tree $2"
AGENT=$3
case $AGENT in
/*) ;;
*) AGENT=$(pwd)/$AGENT ;;
esac
WORK=$OUT/work
GUEST=$SRC/src/guest

# Kernel modules the guest may need, by module name; their dependencies
# (modules.dep closure) come along.  Everything else stays out.  ahci and
# sd_mod: a driver VM's own SATA disk (/dev/sda); loop: losetup, as the
# seed's recipe for client images uses it.
MODULES="virtio_pci virtio_blk virtio_net virtio_console
vsock vmw_vsock_virtio_transport uio uio_pci_generic
ext4 crc32c_generic libcrc32c button evdev
ahci sd_mod loop"
# More by name for devices passed through (docs/passthrough.md), e.g.
# ISLES_IMAGE_MODULES="ixgbe" isles image --force.
MODULES="$MODULES ${ISLES_IMAGE_MODULES:-}"

# Userland programs copied from the host with their shared libraries
# (HOSTPROGS to /sbin, HOSTBINS, all in /usr/bin on the host, to /usr/bin).
# For i386 the same paths are taken from the i386 packages USERPKGS, which
# also hold every library they load (checked when the image is built:
# a library none of them has is named, to be added here).
# util-linux's losetup, not busybox's: the seed's image recipe runs
# `losetup -D`, which busybox does not have.
HOSTPROGS="/sbin/mke2fs /sbin/e2fsck /sbin/tune2fs /sbin/dumpe2fs
/sbin/resize2fs /sbin/mkfs /sbin/losetup"
HOSTBINS="/usr/bin/iperf3"
USERPKGS="busybox-static e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1
util-linux mount libsmartcols1 iperf3 libiperf0 libssl3 libsctp1 libc6"

[ -x "$AGENT" ] || die "guest agent $AGENT is missing: run make first"
[ -d "$GUEST" ] || die "no guest sources in $GUEST"
# The compiler Debian built the guest kernel with (its linux-headers
# package names it): out-of-tree modules must use the same.
KCC=gcc-12

tools="dpkg-deb depmod modinfo cpio gzip apt-get apt-cache make $KCC"
[ $ARCH = i386 ] && tools="$tools readelf"
for tool in $tools; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing (run scripts/deps.sh as root)"
done
[ $ARCH = i386 ] || [ -x /bin/busybox ] ||
	die "/bin/busybox is missing: install busybox-static"

mkdir -p "$WORK"
newkey=$WORK/key.$$
root=""
cleanup() {
	rm -f "$newkey"
	# make's dependency scan (find build -name '*.d') must not meet the
	# staging tree's etc/init.d.
	[ -z "$root" ] || rm -rf "$root"
}
trap cleanup EXIT

# --- Package tools -------------------------------------------------------

# x86_64 uses the host's apt as it is.  i386 uses a private apt state in
# work/apt: the host's sources, keys and configuration, but its own package
# lists (architectures i386 and amd64, i386 native: amd64 is there for
# linux-kbuild, the kernel's build tools, which run on the host) and an
# empty dpkg status.  So the host needs no `dpkg --add-architecture i386`,
# and an i386 index that fails to download never breaks the host's own
# apt-get update.  Downloads are still apt's: signed indexes, the host's
# proxies.
APTDIR=""
LISTS=/var/lib/apt/lists
if [ $ARCH = i386 ]; then
	APTDIR=$WORK/apt
	LISTS=$APTDIR/lists
fi
apt_run() {
	tool=$1
	shift
	if [ -n "$APTDIR" ]; then
		"$tool" -o Dir::State="$APTDIR/state" -o Dir::State::Lists="$LISTS" \
		    -o Dir::State::status="$APTDIR/status" \
		    -o Dir::Cache="$APTDIR/cache" -o APT::Architecture=i386 \
		    -o APT::Architectures::=i386 -o APT::Architectures::=amd64 "$@"
	else
		"$tool" "$@"
	fi
}

# apt-get update: the host's, or that of the private state.  For the
# private state every index that downloads is used: the i386 security
# index has been seen failing for a while ("Mirror sync in progress")
# while the main archive served the packages.  One retry (a connection
# may drop), then what was fetched is good enough (apt keeps the previous
# copy of an index it failed to get); the kernel and its headers are
# pinned to one version below, whichever index they come from.  Returns
# non-zero if there were errors.
apt_update() {
	if [ -z "$APTDIR" ]; then
		apt-get update -q >/dev/null 2>&1
		return
	fi
	mkdir -p "$LISTS/partial" "$APTDIR/cache" "$APTDIR/state"
	[ -e "$APTDIR/status" ] || : >"$APTDIR/status"
	say "updating the i386 package lists in $APTDIR ..."
	for try in 1 2; do
		if apt_run apt-get update -q >"$WORK/apt-update.log" 2>&1; then
			touch "$APTDIR/updated"
			return 0
		fi
	done
	touch "$APTDIR/updated"
	say "warning: apt-get update failed for some index; using what it got:"
	grep -E '^(E|W|Err):' "$WORK/apt-update.log" | head -n 4 |
		sed 's/^/isles image:   /' >&2
	return 1
}

# The private lists are brought up to date when the archive has published
# a release since they were (the host's lists, kept current by whoever
# runs apt-get update there, have a Release file newer than our update;
# apt dates those files by the archive's Last-Modified), so the i386 image
# follows the x86_64 one to a new kernel.
if [ -n "$APTDIR" ]; then
	if [ ! -e "$APTDIR/updated" ] || [ -n "$(find /var/lib/apt/lists \
	    -maxdepth 1 -name '*Release' -newer "$APTDIR/updated" 2>/dev/null |
	    head -n 1)" ]; then
		apt_update || true
	fi
fi

# --- Inputs --------------------------------------------------------------

# Which kernel package apt offers now.  apt-cache is the slow part of the
# key check (about 0.7 s), so its answer is cached against the state of the
# package lists.
apt_state() {
	ls -l --time-style=+%s "$LISTS/" 2>/dev/null | cksum
}

resolve_kernel() {
	apt_run apt-cache show --no-all-versions "$KMETA" 2>/dev/null |
		awk '/^Version:/ { v = $2 }
		     /^Depends:/ { for (i = 2; i <= NF; i++)
			if ($i ~ /^linux-image-[0-9]/) { p = $i; break } }
		     END { if (v != "" && p != "") print p, v }'
}

# i386: "PACKAGE VERSION" of each of USERPKGS that apt offers now (i386).
resolve_userland() {
	# shellcheck disable=SC2086
	apt_run apt-cache show --no-all-versions \
	    $(for p in $USERPKGS; do echo "$p:i386"; done) 2>/dev/null |
		awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }'
}

kpkg=""
kver=""
userland=""
state=$(apt_state)
# A changed USERPKGS must be resolved again.
[ $ARCH = x86_64 ] || state="$state $(echo $USERPKGS)"
if [ -r "$WORK/apt-resolved" ]; then
	{ read -r cstate; read -r kpkg kver; userland=$(cat); } \
	    <"$WORK/apt-resolved" || true
	[ "$cstate" = "$state" ] || kpkg=""
fi
if [ -z "$kpkg" ]; then
	r=$(resolve_kernel)
	if [ -z "$r" ]; then
		if [ -s "$OUT/key" ] && [ -s "$OUT/vmlinuz" ] && [ $force = 0 ]; then
			say "cannot resolve $KMETA (no apt lists?); using the existing image"
			exit 0
		fi
		say "no package lists for $KMETA: running apt-get update ..."
		if ! apt_update && [ -z "$APTDIR" ]; then
			die "cannot download $KMETA: apt-get update failed"
		fi
		state=$(apt_state)
		[ $ARCH = x86_64 ] || state="$state $(echo $USERPKGS)"
		r=$(resolve_kernel)
		[ -n "$r" ] || die "cannot download $KMETA: apt does not know it"
	fi
	kpkg=${r% *}
	kver=${r#* }
	userland=""
	if [ $ARCH = i386 ]; then
		userland=$(resolve_userland)
		for p in $USERPKGS; do
			echo "$userland" | grep -q "^$p " ||
				die "apt offers no i386 package $p (its lists: $LISTS)"
		done
	fi
	{ printf '%s\n%s %s\n' "$state" "$kpkg" "$kver"
	  [ -z "$userland" ] || echo "$userland"; } >"$WORK/apt-resolved.$$"
	mv "$WORK/apt-resolved.$$" "$WORK/apt-resolved"
fi
krel=${kpkg#linux-image-}

if [ $ARCH = x86_64 ]; then
	bbver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) ||
		die "busybox-static is not installed"
	e2ver=$(dpkg-query -W -f='${Version}' e2fsprogs 2>/dev/null) ||
		die "e2fsprogs is not installed"
	ipver=$(dpkg-query -W -f='${Version}' iperf3 2>/dev/null) ||
		die "iperf3 is not installed (run scripts/deps.sh as root)"
	# libiperf0 is the package that changes with a security update.
	libipver=$(dpkg-query -W -f='${Version}' libiperf0 2>/dev/null) ||
		die "libiperf0 is not installed (run scripts/deps.sh as root)"
fi
kccver=$(dpkg-query -W -f='${Version}' "$KCC" 2>/dev/null) ||
	die "$KCC is not installed (run scripts/deps.sh as root)"

# Other guest programs built next to the agent (GUEST_PROGS: build/guest/)
# and out-of-tree kernel modules put there (*.ko) go into the image too.
guest_extras() {
	for f in "$(dirname "$AGENT")"/*; do
		[ -f "$f" ] && [ "$f" != "$AGENT" ] || continue
		case $f in
		*.ko) echo "$f" ;;
		*.a|*.o|*.d) ;;
		*) [ -x "$f" ] && echo "$f" ;;
		esac
	done
}

key() {
	if [ $ARCH = x86_64 ]; then
		echo "kernel $kpkg $kver"
		echo "busybox-static $bbver"
		echo "e2fsprogs $e2ver"
		echo "iperf3 $ipver libiperf0 $libipver"
	else
		echo "arch $ARCH"
		echo "kernel $kpkg $kver"
		echo "$userland" | sed 's/^/userland /'
	fi
	echo "kbuild $KCC $kccver"
	(cd "$GUEST" && find . -type f ! -name '*.o' ! -name '*.d' -print |
		LC_ALL=C sort | xargs -r sha256sum)
	(cd "$GUEST" && find . -type l -print | LC_ALL=C sort |
		while read -r l; do echo "link $l -> $(readlink "$l")"; done)
	echo "agent $(sha256sum <"$AGENT")"
	guest_extras | while read -r f; do
		echo "guest $(basename "$f") $(sha256sum <"$f")"
	done
}
up_to_date() {
	[ $force = 0 ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ] &&
	    [ -r "$OUT/key" ] && cmp -s "$newkey" "$OUT/key"
}

# Outputs are replaced by rename and the key last, so a matching key means
# a complete image even while another build runs: no lock for the check.
key >"$newkey"
up_to_date && exit 0

# One build at a time per image directory (isles up may race isles image);
# the build we waited for may have made ours unnecessary.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$WORK/lock"
	if ! flock -n 9; then
		say "waiting for another build of $OUT ..."
		flock 9
	fi
	up_to_date && exit 0
fi

start=$(date +%s)

# --- Kernel package ------------------------------------------------------

debs=$WORK/debs
mkdir -p "$debs"

# fetch_deb PKG[:ARCH] [VERSION [DIR]]: the path of PKG's .deb at VERSION
# (default $kver) in DIR (default $debs), downloaded if it is not there
# yet.  Every kernel package fetched is pinned to the kernel's version: the
# headers and kbuild come from the same source package as the kernel.
# ARCH picks a package of another architecture than apt's native one
# (linux-kbuild:amd64 for the i386 kernel).
fetch_deb() {
	fname=${1%%:*}
	farch=""
	case $1 in *:*) farch=${1#*:} ;; esac
	fver=${2:-$kver}
	fdir=${3:-$debs}
	f=$(ls "$fdir/${fname}_"*.deb 2>/dev/null | while read -r c; do
		v=$(dpkg-deb -f "$c" Version 2>/dev/null) && [ "$v" = "$fver" ] &&
		    { [ -z "$farch" ] ||
		      [ "$(dpkg-deb -f "$c" Architecture)" = "$farch" ]; } &&
			echo "$c"; done | head -n 1)
	if [ -z "$f" ]; then
		say "downloading $1 $fver ..."
		if ! (cd "$fdir" && apt_run apt-get download -q "$1=$fver" \
		    </dev/null >/dev/null 2>&1); then
			say "download failed: running apt-get update and retrying ..."
			apt_update </dev/null || true
			(cd "$fdir" && apt_run apt-get download -q "$1=$fver" \
			    </dev/null >/dev/null 2>&1) ||
				die "cannot download $1 $fver (apt-get download failed)"
		fi
		f=$(ls -t "$fdir/${fname}_"*.deb | head -n 1)
	fi
	echo "$f"
}

deb=$(fetch_deb "$kpkg")

# The unpacked kernel is cached in work/kernel, keyed by the package and
# the module list, and pruned to the modules the image takes (the whole
# package unpacks to about 400 MB).
kdir=$WORK/kernel
kmod=$kdir/lib/modules/$krel
# Bump the "kcache" number when the way the cache is made changes.
kstamp="kcache2 $kpkg $kver $(echo $MODULES)"
if [ ! -e "$kdir/.done" ] || [ "$(cat "$kdir/.done")" != "$kstamp" ]; then
	say "extracting $(basename "$deb") ..."
	rm -rf "$kdir"
	mkdir -p "$kdir"
	dpkg-deb -x "$deb" "$kdir" || die "cannot extract $deb"
	[ -f "$kdir/boot/vmlinuz-$krel" ] || die "no kernel in $deb"
	say "running depmod for $krel ..."
	depmod -b "$kdir" "$krel" || die "depmod failed for $krel"

	# The closure of $MODULES over modules.dep (which lists every
	# module's dependencies transitively).
	want=$(for m in $MODULES; do echo "$m"; done)
	awk -v want="$want" '
		BEGIN { n = split(want, w, "\n")
			for (i = 1; i <= n; i++) { gsub("-", "_", w[i]); need[w[i]] = 1 } }
		{
			path = $1; sub(":$", "", path)
			name = path; sub(".*/", "", name); sub("\\.ko.*$", "", name)
			gsub("-", "_", name)
			if (name in need) {
				found[name] = 1; print path
				for (i = 2; i <= NF; i++) print $i
			}
		}
		END { for (m in need) if (!(m in found)) print m > "/dev/stderr" }
	' "$kmod/modules.dep" 2>"$kdir/modules.missing" |
		LC_ALL=C sort -u >"$kdir/modules.list"
	# A module that is built in is not missing.
	while read -r m; do
		grep -Eq "/${m}\.ko" "$kmod/modules.builtin" ||
			say "warning: module $m is neither in $kpkg nor built in"
	done <"$kdir/modules.missing"
	(cd "$kmod" && find kernel -name '*.ko*' | LC_ALL=C sort |
		LC_ALL=C comm -23 - "$kdir/modules.list" | xargs -r rm -f)
	find "$kmod/kernel" -type d -empty -delete
	rm -rf "$kdir/usr"

	# The uncompressed ELF kernel boots through PVH (QEMU loads it
	# straight into guest memory): under TCG that saves the bzImage's
	# real-mode set-up and xz decompression, seconds per boot.  Only if
	# the kernel supports PVH and its payload is xz; else vmlinuz is used.
	rm -f "$kdir/vmlinux"
	if grep -q '^CONFIG_PVH=y' "$kdir/boot/config-$krel" &&
	    command -v xz >/dev/null 2>&1; then
		off=$(LC_ALL=C grep -obUaP '\xfd7zXZ' "$kdir/boot/vmlinuz-$krel" |
			head -n 1 | cut -d: -f1)
		if [ -n "$off" ]; then
			say "uncompressing the kernel for PVH boot ..."
			tail -c +$((off + 1)) "$kdir/boot/vmlinuz-$krel" |
				xz -dc --single-stream >"$kdir/vmlinux" 2>/dev/null || true
		fi
		magic=$(head -c 4 "$kdir/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' \n')
		[ "$magic" = "7f454c46" ] || rm -f "$kdir/vmlinux"
	fi
	echo "$kstamp" >"$kdir/.done"
fi

# --- Guest kernel module: isles_dataport -----------------------------------

# Out-of-tree modules are built against the guest kernel's own headers:
# linux-headers-RELEASE (the build tree: .config, Module.symvers, generated
# headers), the -common package it names (the source tree's headers and
# top Makefile) and linux-kbuild-X.Y (scripts, modpost, objtool, built for
# the host).  They are unpacked under work/headers, a private root that is
# never installed: the only absolute path in them, the build tree's
# "include /usr/src/linux-headers-...-common/Makefile", is resolved below
# by running the -common Makefile with -f from the build tree (which is
# what kbuild's own sub-make does), and their other links are relative.
hdir=$WORK/headers
hstamp="hcache1 $kpkg $kver"
hobj=$hdir/usr/src/linux-headers-$krel
if [ ! -e "$hdir/.done" ] || [ "$(cat "$hdir/.done")" != "$hstamp" ]; then
	hdeb=$(fetch_deb "linux-headers-$krel")
	# linux-headers-RELEASE depends on its -common and on linux-kbuild.
	# linux-kbuild holds programs that run on the host (fixdep, modpost):
	# for i386 its amd64 build, of the same version.
	hdeps=$(dpkg-deb -f "$hdeb" Depends | tr ',' '\n' |
		awk -v arch="$ARCH" '$1 ~ /^linux-(headers|kbuild)-/ {
			if (arch != "x86_64" && $1 ~ /^linux-kbuild-/)
				print $1 ":amd64"
			else
				print $1 }')
	[ -n "$hdeps" ] || die "linux-headers-$krel names no -common or kbuild package"
	rm -rf "$hdir"
	mkdir -p "$hdir"
	for p in "linux-headers-$krel" $hdeps; do
		f=$(fetch_deb "$p")
		say "extracting $(basename "$f") ..."
		dpkg-deb -x "$f" "$hdir" || die "cannot extract $f"
	done
	rm -rf "$hdir/usr/share" "$hdir/lib"
	[ -f "$hobj/Makefile" ] || die "no build tree $hobj in linux-headers-$krel"
	echo "$hstamp" >"$hdir/.done"
fi
# Packages of other kernel versions are of no further use.
for f in "$debs"/*.deb; do
	v=$(dpkg-deb -f "$f" Version 2>/dev/null) || v=""
	[ "$v" = "$kver" ] || rm -f "$f"
done

# --- i386 userland ---------------------------------------------------------

# The i386 packages of USERPKGS at the versions resolved above, unpacked
# into work/userland (cached, keyed by those versions); their .debs are
# kept in work/udebs until a version changes.
udir=$WORK/userland
if [ $ARCH = i386 ]; then
	ustamp="ucache1 $(echo $userland)"
	if [ ! -e "$udir/.done" ] || [ "$(cat "$udir/.done")" != "$ustamp" ]; then
		udebs=$WORK/udebs
		mkdir -p "$udebs"
		rm -rf "$udir"
		mkdir -p "$udir"
		echo "$userland" | while read -r p v; do
			f=$(fetch_deb "$p:i386" "$v" "$udebs")
			dpkg-deb -x "$f" "$udir" || die "cannot extract $f"
			basename "$f"
		done >"$udir/.debs"
		for f in "$udebs"/*.deb; do
			grep -qxF "$(basename "$f")" "$udir/.debs" || rm -f "$f"
		done
		[ -x "$udir/bin/busybox" ] || die "no /bin/busybox in busybox-static:i386"
		rm -rf "$udir/usr/share"
		echo "$ustamp" >"$udir/.done"
	fi
fi

# elf_deps FILE: the program interpreter (an absolute path) and the
# NEEDED sonames of an ELF file, one a line.
elf_deps() {
	readelf -lW "$1" 2>/dev/null |
		sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p'
	readelf -dW "$1" 2>/dev/null |
		sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]$/\1/p'
}

# elf_closure FILE...: every library the given files (paths under $udir)
# load, transitively, as paths under $udir: the interpreter as named, the
# sonames where the loader looks for them (Debian's i386 multiarch paths
# first).  A library that none of USERPKGS has stops the build.
elf_closure() {
	seen=" "
	queue="$*"
	while [ -n "$queue" ]; do
		# shellcheck disable=SC2086
		set -- $queue
		f=$1
		shift
		queue="$*"
		for dep in $(elf_deps "$udir/$f"); do
			case $dep in
			/*) path=${dep#/} ;;
			*)
				path=""
				for d in lib/i386-linux-gnu usr/lib/i386-linux-gnu lib usr/lib; do
					if [ -e "$udir/$d/$dep" ]; then
						path=$d/$dep
						break
					fi
				done
				[ -n "$path" ] || die "/$f needs $dep, which none of the i386 packages has (add its package to USERPKGS in mkimage.sh)"
				;;
			esac
			[ -e "$udir/$path" ] || die "/$f needs /$path, which none of the i386 packages has"
			case $seen in *" $path "*) continue ;; esac
			seen="$seen$path "
			queue="$queue $path"
			echo "$path"
		done
	done
}

hsrcmk=$(sed -n 's|^include \(/usr/src/[^ ]*/Makefile\)$|\1|p' "$hobj/Makefile")
[ -n "$hsrcmk" ] && [ -f "$hdir$hsrcmk" ] ||
	die "$hobj/Makefile does not include a source tree Makefile under $hdir/usr/src"
hsrcmk=$hdir$hsrcmk
grep -qx "#define UTS_RELEASE \"$krel\"" "$hobj/include/generated/utsrelease.h" 2>/dev/null ||
	die "linux-headers-$krel is not for kernel $krel (UTS_RELEASE)"
grep -q "^CC = .*)$KCC\$" "$hobj/.kernelvariables" 2>/dev/null ||
	die "linux-headers-$krel wants a compiler other than $KCC: update KCC in mkimage.sh and scripts/deps.sh"

# The module is cached in work/kbuild, keyed like the image (kernel,
# compiler, its sources).  Kbuild writes next to the sources, so they are
# copied there first; M= paths may not contain spaces or colons.
kbdir=$WORK/kbuild
kbsrc=$GUEST/dataport/kmod
[ -f "$kbsrc/Kbuild" ] || die "no kernel module sources in $kbsrc"
kbsum=$(cd "$kbsrc" && find . -type f -print | LC_ALL=C sort | xargs sha256sum | sha256sum)
kbstamp="kbuild1 $kpkg $kver $KCC $kccver ${kbsum%% *}"
case $kbdir in
*[\ :]*) die "the image directory $OUT has a space or colon: kbuild cannot build there" ;;
esac
if [ ! -e "$kbdir/.done" ] || [ "$(cat "$kbdir/.done")" != "$kbstamp" ]; then
	say "building isles_dataport.ko against linux-headers-$krel ..."
	kbstart=$(date +%s.%N)
	rm -rf "$kbdir"
	mkdir -p "$kbdir/src"
	cp -R "$kbsrc/." "$kbdir/src/"
	# A clean environment: no MAKEFLAGS (jobserver) of a calling make, no
	# ARCH, CROSS_COMPILE, KBUILD_* or CFLAGS of the user's.
	if ! env -i PATH="$PATH" LC_ALL=C make -C "$hobj" -f "$hsrcmk" \
	    M="$kbdir/src" modules >"$kbdir/build.log" 2>&1; then
		tail -n 30 "$kbdir/build.log" >&2
		die "building isles_dataport.ko failed (log: $kbdir/build.log)"
	fi
	# The module must load into this kernel: same vermagic as its own.
	want=$(modinfo -F vermagic "$kmod/kernel/drivers/uio/uio.ko")
	got=$(modinfo -F vermagic "$kbdir/src/isles_dataport.ko")
	[ -n "$want" ] && [ "$got" = "$want" ] ||
		die "isles_dataport.ko has vermagic '$got', the kernel '$want'"
	cp "$kbdir/src/isles_dataport.ko" "$kbdir/isles_dataport.ko"
	echo "$kbstamp" >"$kbdir/.done"
	say "built isles_dataport.ko in $(echo "$kbstart $(date +%s.%N)" |
		awk '{ printf "%.1f", $2 - $1 }') s"
fi

# --- Root file system ----------------------------------------------------

say "assembling the initramfs ..."
root=$WORK/root		# removed on exit (cleanup)
rm -rf "$root"
mkdir -p "$root"
for d in bin sbin usr/bin usr/sbin etc root proc sys dev run tmp var/log \
    mnt $LIBDIRS "lib/modules/$krel"; do
	mkdir -p "$root/$d"
done
ln -s ../run "$root/var/run"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"

# busybox and its applet links (the e2fsprogs programs and losetup win
# over applets: no applet link where HOSTPROGS go, or cp would follow it).
# The i386 one runs on the host (x86_64 kernels run i386 programs) to list
# its applets.
if [ $ARCH = x86_64 ]; then
	busybox=/bin/busybox
else
	busybox=$udir/bin/busybox
fi
cp "$busybox" "$root/bin/busybox"
applets=$("$busybox" --list-full) ||
	die "cannot run $busybox --list-full (does the host kernel run i386 programs?)"
echo "$applets" | while read -r app; do
	case $app in
	bin/busybox|*/mke2fs|*/mkfs.ext2|*/e2fsck|*/fsck.ext2|*/losetup)
		continue ;;
	esac
	[ -e "$root/$app" ] || ln -s /bin/busybox "$root/$app"
done
ln -s bin/busybox "$root/init"

# Dynamic programs and every library they load: the host's (x86_64, ldd
# lists the libraries), or the i386 packages' (their ELF closure).
if [ $ARCH = x86_64 ]; then
	usr=""
else
	usr=$udir
fi
for p in $HOSTPROGS $HOSTBINS; do
	[ -x "$usr$p" ] || if [ $ARCH = x86_64 ]; then
		die "$p is missing (run scripts/deps.sh as root)"
	else
		die "$p is not in the i386 packages ($udir)"
	fi
done
for p in $HOSTPROGS $HOSTBINS; do
	case $p in
	/usr/bin/*) cp -L "$usr$p" "$root/usr/bin/" ;;
	*) cp -L "$usr$p" "$root/sbin/" ;;
	esac
done
if [ $ARCH = x86_64 ]; then
	for p in $HOSTPROGS $HOSTBINS; do
		ldd "$p" | awk '/=> \// { print $3 } /^\t\// { print $1 }'
	done >"$WORK/libs"
else
	# shellcheck disable=SC2086
	elf_closure $(for p in $HOSTPROGS $HOSTBINS; do echo "${p#/}"; done) \
	    >"$WORK/libs"
	sed -i 's|^|/|' "$WORK/libs"
fi
LC_ALL=C sort -u "$WORK/libs" | while read -r lib; do
	[ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$usr$lib" "$root$lib"; }
done
rm -f "$WORK/libs"
for t in ext2 ext3 ext4; do
	ln -sf mke2fs "$root/sbin/mkfs.$t"
	ln -sf e2fsck "$root/sbin/fsck.$t"
done
[ -r "$usr/etc/mke2fs.conf" ] && cp "$usr/etc/mke2fs.conf" "$root/etc/"
ln -s /proc/mounts "$root/etc/mtab"

# The agent, the other guest programs and modules.
cp "$AGENT" "$root/sbin/isles-agent"
guest_extras | while read -r f; do
	case $f in
	*.ko)
		mkdir -p "$root/lib/modules/$krel/extra"
		cp "$f" "$root/lib/modules/$krel/extra/"
		;;
	*) cp "$f" "$root/usr/bin/" ;;
	esac
done

# Isles' own module (built above); depmod below gives it its PCI alias.
mkdir -p "$root/lib/modules/$krel/extra"
cp "$kbdir/isles_dataport.ko" "$root/lib/modules/$krel/extra/"

# Kernel modules: the closure of $MODULES, computed above.
while read -r ko; do
	mkdir -p "$root/lib/modules/$krel/$(dirname "$ko")"
	cp "$kmod/$ko" "$root/lib/modules/$krel/$ko"
done <"$kdir/modules.list"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -r "$kmod/$f" ] && cp "$kmod/$f" "$root/lib/modules/$krel/"
done
depmod -b "$root" "$krel" || die "depmod failed on the initramfs modules"

# Accounts: root/root.
if command -v openssl >/dev/null 2>&1; then
	hash=$(openssl passwd -6 root)
else
	hash=$(/bin/busybox mkpasswd -m sha512 root)
fi
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:$hash:19000:0:99999:7:::" >"$root/etc/shadow"
chmod 600 "$root/etc/shadow"
echo "root:x:0:" >"$root/etc/group"

# Isles' own guest files (init scripts, configuration).
cp -R "$GUEST/image/rootfs/." "$root/"

# The console must exist before init runs (the kernel opens it).
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
fi

say "writing initrd.img ..."
(cd "$root" && find . -print | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) >"$WORK/initrd.cpio" || die "cpio failed"
gzip -6 <"$WORK/initrd.cpio" >"$OUT/initrd.img.new" || die "gzip failed"
rm -f "$WORK/initrd.cpio"
cp "$kdir/boot/vmlinuz-$krel" "$OUT/vmlinuz.new"
mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
if [ -s "$kdir/vmlinux" ]; then
	# A hard link to the cache (66 MB), unless it is one already.
	if ! [ "$kdir/vmlinux" -ef "$OUT/vmlinux" ]; then
		rm -f "$OUT/vmlinux.new"
		ln "$kdir/vmlinux" "$OUT/vmlinux.new" 2>/dev/null ||
			cp "$kdir/vmlinux" "$OUT/vmlinux.new"
		mv -f "$OUT/vmlinux.new" "$OUT/vmlinux"
	fi
else
	rm -f "$OUT/vmlinux"
fi
mv "$OUT/initrd.img.new" "$OUT/initrd.img"
echo "$krel" >"$OUT/kernel.release"
mv "$newkey" "$OUT/key"
say "built $krel image in $(( $(date +%s) - start )) s: initrd.img $(( $(stat -c %s "$OUT/initrd.img") / 1024 )) KiB"
