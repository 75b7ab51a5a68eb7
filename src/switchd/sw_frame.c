/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_frame: frame classification and virtio-net header rules; see
 * sw_frame.h.  Pure functions over copies the caller made.  The TCP/IP
 * header walk is written here rather than taken from a library: it is
 * the dozen bounds checks below, and the packet libraries at hand parse
 * kernel or mbuf structures, not a plain copy.
 */
#include "sw_frame.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <linux/if_ether.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "le.h"

#define BIT(n)	(1ull << (n))

static const char *const drop_names[SW_DROP_MAX] = {
	[SW_DROP_NONE] = "none",
	[SW_DROP_MALFORMED] = "malformed",
	[SW_DROP_BADGSO] = "bad_gso",
	[SW_DROP_SPOOF] = "spoofed_source",
	[SW_DROP_UNKNOWN] = "unknown_unicast",
	[SW_DROP_SELF] = "to_self",
	[SW_DROP_LINKLOCAL] = "link_local",
	[SW_DROP_OFFLOAD] = "offload",
	[SW_DROP_TOOBIG] = "too_big",
	[SW_DROP_NOBUF] = "no_buffers",
	[SW_DROP_DOWN] = "port_down",
};

const char *
sw_drop_name(enum sw_drop why)
{
	if ((unsigned)why >= SW_DROP_MAX)
		return "invalid";
	return drop_names[why];
}

enum sw_class
sw_classify(const uint8_t dst[SW_ETH_ALEN])
{
	static const uint8_t bcast[SW_ETH_ALEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};

	if ((dst[0] & 0x01) == 0)
		return SW_CLASS_UNICAST;
	if (memcmp(dst, bcast, SW_ETH_ALEN) == 0)
		return SW_CLASS_BROADCAST;
	if (dst[0] == 0x01 && dst[1] == 0x00 && dst[2] == 0x5e &&
	    (dst[3] & 0x80) == 0)
		return SW_CLASS_MCAST4;
	if (dst[0] == 0x33 && dst[1] == 0x33)
		return SW_CLASS_MCAST6;
	if (dst[0] == 0x01 && dst[1] == 0x80 && dst[2] == 0xc2 &&
	    dst[3] == 0x00 && dst[4] == 0x00 && (dst[5] & 0xf0) == 0)
		return SW_CLASS_LINKLOCAL;
	return SW_CLASS_MCAST;
}

const char *
sw_class_name(enum sw_class c)
{
	switch (c) {
	case SW_CLASS_UNICAST:
		return "unicast";
	case SW_CLASS_BROADCAST:
		return "broadcast";
	case SW_CLASS_MCAST4:
		return "multicast4";
	case SW_CLASS_MCAST6:
		return "multicast6";
	case SW_CLASS_MCAST:
		return "multicast";
	case SW_CLASS_LINKLOCAL:
		return "link_local";
	}
	return "invalid";
}

bool
sw_mac_valid_station(const uint8_t mac[SW_ETH_ALEN])
{
	static const uint8_t zero[SW_ETH_ALEN];

	return (mac[0] & 0x01) == 0 && memcmp(mac, zero, SW_ETH_ALEN) != 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sw_mac_parse(const char *s, uint8_t mac[SW_ETH_ALEN])
{
	uint8_t out[SW_ETH_ALEN];

	if (s == NULL || strlen(s) != SW_MAC_STRLEN - 1)
		goto bad;
	for (int i = 0; i < SW_ETH_ALEN; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);

		if (hi < 0 || lo < 0)
			goto bad;
		if (i < SW_ETH_ALEN - 1 && p[2] != ':')
			goto bad;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, out, SW_ETH_ALEN);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

void
sw_mac_format(const uint8_t mac[SW_ETH_ALEN], char out[SW_MAC_STRLEN])
{
	snprintf(out, SW_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void
sw_vnet_hdr_decode(const uint8_t *in, size_t len, struct sw_vnet_hdr *h)
{
	h->flags = in[0];
	h->gso_type = in[1];
	h->hdr_len = le_get16(in + 2);
	h->gso_size = le_get16(in + 4);
	h->csum_start = le_get16(in + 6);
	h->csum_offset = le_get16(in + 8);
	h->num_buffers = len >= SW_VNET_HDR_LEN ? le_get16(in + 10) : 1;
}

void
sw_vnet_hdr_encode(const struct sw_vnet_hdr *h, uint8_t *out, size_t len)
{
	out[0] = h->flags;
	out[1] = h->gso_type;
	le_put16(out + 2, h->hdr_len);
	le_put16(out + 4, h->gso_size);
	le_put16(out + 6, h->csum_start);
	le_put16(out + 8, h->csum_offset);
	if (len >= SW_VNET_HDR_LEN)
		le_put16(out + 10, h->num_buffers);
}

#define TCP_CSUM_OFF	16	/* offsetof(struct tcphdr, check) */
#define MAX_VLAN_TAGS	2
#define MAX_IPV6_EXT	8

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool
sw_gso_parse(const uint8_t *head, size_t len, bool v6,
    struct sw_gso_hdrs *o)
{
	size_t off = 12;	/* the EtherType of the untagged header */
	uint16_t type;
	uint8_t proto;

	for (int tags = 0;; tags++) {
		if (off + 2 > len)
			return false;
		type = be16(head + off);
		if (type != ETH_P_8021Q && type != ETH_P_8021AD)
			break;
		if (tags == MAX_VLAN_TAGS)
			return false;
		off += 4;
	}
	off += 2;
	o->l3 = off;
	if (!v6) {
		size_t ihl;

		if (type != ETH_P_IP || off + 20 > len ||
		    head[off] >> 4 != 4)
			return false;
		ihl = (size_t)(head[off] & 0x0f) * 4;
		/* More fragments or a fragment offset: not a whole segment. */
		if (ihl < 20 || off + ihl > len ||
		    (be16(head + off + 6) & 0x3fff) != 0)
			return false;
		proto = head[off + 9];
		off += ihl;
	} else {
		if (type != ETH_P_IPV6 || off + 40 > len ||
		    head[off] >> 4 != 6)
			return false;
		proto = head[off + 6];
		off += 40;
		/* Hop-by-hop, routing, destination options: (n + 1) * 8. */
		for (int n = 0; proto == IPPROTO_HOPOPTS ||
		    proto == IPPROTO_ROUTING || proto == IPPROTO_DSTOPTS; n++) {
			if (n == MAX_IPV6_EXT || off + 2 > len)
				return false;
			proto = head[off];
			off += ((size_t)head[off + 1] + 1) * 8;
		}
	}
	if (proto != IPPROTO_TCP || off + 20 > len)
		return false;
	o->l4 = off;
	off += (size_t)(head[off + 12] >> 4) * 4;
	if (off < o->l4 + 20 || off > len)
		return false;
	o->end = off;
	return true;
}

/* The TSO header against the frame it came with; see sw_frame.h. */
static enum sw_drop
check_gso(struct sw_vnet_hdr *h, bool v6, const uint8_t *head,
    size_t head_len, size_t frame_len)
{
	struct sw_gso_hdrs o;

	if (h->gso_size < SW_GSO_MIN_SIZE)
		return SW_DROP_BADGSO;
	if (head_len > frame_len)
		head_len = frame_len;
	if (!sw_gso_parse(head, head_len, v6, &o))
		return SW_DROP_BADGSO;
	if (h->hdr_len != 0 && (h->hdr_len < o.end || h->hdr_len > frame_len))
		return SW_DROP_BADGSO;
	if (h->csum_start != o.l4 || h->csum_offset != TCP_CSUM_OFF)
		return SW_DROP_BADGSO;
	if (frame_len - o.end <= h->gso_size) {
		/* One segment or less: an ordinary partial-checksum frame. */
		h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
		h->gso_size = 0;
		h->hdr_len = 0;
	}
	return SW_DROP_NONE;
}

enum sw_drop
sw_vnet_hdr_check_tx(struct sw_vnet_hdr *h, uint64_t features,
    const uint8_t *head, size_t head_len, size_t frame_len)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool ecn = (h->gso_type & VIRTIO_NET_HDR_GSO_ECN) != 0;
	bool csum = (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
	enum sw_drop why;

	if (frame_len < SW_ETH_HLEN || frame_len > SW_MAX_FRAME)
		return SW_DROP_MALFORMED;
	if (csum) {
		if (!(features & BIT(VIRTIO_NET_F_CSUM)))
			return SW_DROP_MALFORMED;
		if ((size_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return SW_DROP_MALFORMED;
	}
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (ecn)
			return SW_DROP_MALFORMED;
		h->gso_size = 0;
		h->hdr_len = 0;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(features & BIT(gso == VIRTIO_NET_HDR_GSO_TCPV4 ?
		    VIRTIO_NET_F_HOST_TSO4 : VIRTIO_NET_F_HOST_TSO6)))
			return SW_DROP_MALFORMED;
		if (ecn && !(features & BIT(VIRTIO_NET_F_HOST_ECN)))
			return SW_DROP_MALFORMED;
		if (!csum)
			return SW_DROP_MALFORMED;
		why = check_gso(h, gso == VIRTIO_NET_HDR_GSO_TCPV6, head,
		    head_len, frame_len);
		if (why != SW_DROP_NONE)
			return why;
		break;
	default:
		return SW_DROP_MALFORMED;
	}
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->num_buffers = 0;
	return SW_DROP_NONE;
}

enum sw_drop
sw_vnet_hdr_check_rx(const struct sw_vnet_hdr *h, uint64_t features)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !(features & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return SW_DROP_OFFLOAD;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
	    !(features & BIT(VIRTIO_NET_F_GUEST_TSO4)))
		return SW_DROP_OFFLOAD;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
	    !(features & BIT(VIRTIO_NET_F_GUEST_TSO6)))
		return SW_DROP_OFFLOAD;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !(features & BIT(VIRTIO_NET_F_GUEST_ECN)))
		return SW_DROP_OFFLOAD;
	return SW_DROP_NONE;
}

uint64_t
sw_net_features(void)
{
	return BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
	    BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
	    BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
	    BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
	    BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_GUEST_ECN);
}
