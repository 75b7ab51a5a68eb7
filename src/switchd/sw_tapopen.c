/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_tapopen: opening the TAP uplink of a switch (sw_tap.h), apart from
 * the data path so that the supervisor, which opens the uplink of every
 * switch of a system and hands the fd to isles-switchd, links only this.
 * Called by the supervisor (src/supervisor/daemons.c) and by
 * isles-switchd started by hand with --uplink NAME.
 */
#include "switchd/sw_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>

int
sw_tap_open(const char *name)
{
	struct ifreq ifr;
	int fd, hl = SW_VNET_HDR_LEN, e;

	if (strlen(name) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hl) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD,
	    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
