#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Install the Debian packages Isles needs to build, test and run, if any
# are missing, and create the daemons' user isles if it is missing.
# Idempotent and silent when everything is present; run by `make check`
# and `make demo` on a fresh Debian 12 machine (as root).
set -eu

# gcc-12 and libelf1 (objtool): building the guest kernel module against
# Debian's linux-headers (src/guest/image/mkimage.sh).  gcc-multilib and
# libc6-dev-i386: the static 32-bit guest programs (build/guest32/);
# binutils' readelf: the i386 image's library closure.  clang and
# libclang-rt-14-dev (libFuzzer, ASan, UBSan runtimes): the fuzz targets
# (make FUZZ=1, scripts/fuzz.sh).
# libwebsockets-dev, nodejs and chromium: isles web (docs/web.md) and its
# browser test.
PKGS="gcc gcc-12 libelf1 make pkg-config gcc-multilib libc6-dev-i386 binutils
libconfig-dev liburing-dev libseccomp-dev libcmocka-dev
clang libclang-rt-14-dev
qemu-system-x86 qemu-utils
busybox-static kmod cpio dpkg-dev fdisk e2fsprogs
python3 python3-pytest python3-pexpect
iproute2 socat dnsmasq-base iperf3 fio graphviz
dpdk-dev
libwebsockets-dev nodejs chromium"

# The unprivileged user the supervisor runs the daemons as
# (src/supervisor/child.h, docs/architecture.md "Lock-down"): a system
# user with no home, no shell and a group of its own.  Without it (or
# when not root) the daemons run as the supervisor's user, and the
# supervisor says so in its log.
add_user() {
	getent passwd isles >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "isles: no user isles and not root: the daemons will run as the supervisor's user" >&2
		return 0
	fi
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin isles ||
		{ echo "isles: useradd isles failed: the daemons will run as root" >&2; return 0; }
	echo "isles: created the system user isles (the daemons run as it)"
}
add_user

missing=""
for p in $PKGS; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = "installed" ] || missing="$missing $p"
done
# npm (isles web's front-end libraries, `npm ci` in web/): Debian's npm
# package, unless the installed nodejs brings its own.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

echo "isles: installing missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "isles: need root to install packages (run as root or install them by hand)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { echo "isles: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	{ echo "isles: apt-get install failed for:$missing" >&2; exit 1; }
echo "isles: packages installed"
