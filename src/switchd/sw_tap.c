/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_tap: the TAP uplink; see sw_tap.h.
 */
#include "switchd/sw_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#define BIT(n)	(1ull << (n))

uint64_t
sw_tap_features(void)
{
	/* What TUNSETOFFLOAD below lets the kernel hand us, and what a tun
	 * device accepts from us (any GSO, any partial checksum). */
	return BIT(VIRTIO_F_VERSION_1) |
	    BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
	    BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
	    BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
	    BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VIRTIO_NET_F_GUEST_ECN);
}

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

enum sw_drop
sw_tap_send(int fd, const struct sw_frame *f)
{
	struct iovec iov[VQ_MAX_IOV + 2];
	uint8_t raw[SW_VNET_HDR_LEN];
	struct sw_vnet_hdr h = f->hdr;
	ssize_t n;

	h.num_buffers = 0;
	sw_vnet_hdr_encode(&h, raw, sizeof(raw));
	iov[0].iov_base = raw;
	iov[0].iov_len = sizeof(raw);
	iov[1].iov_base = (void *)f->head;
	iov[1].iov_len = f->head_len;
	memcpy(iov + 2, f->iov, f->niov * sizeof(struct iovec));
	do {
		n = writev(fd, iov, (int)f->niov + 2);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return SW_DROP_NONE;
	return errno == EAGAIN ? SW_DROP_NOBUF : SW_DROP_DOWN;
}
