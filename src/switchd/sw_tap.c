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
