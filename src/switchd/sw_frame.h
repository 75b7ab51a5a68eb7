/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_frame: the pure, guest-independent half of isles-switchd.
 *
 *   - Ethernet destination classification (unicast, broadcast, IPv4/IPv6
 *     multicast, other group addresses, IEEE 802.1D link-local),
 *   - the virtio-net header (struct virtio_net_hdr_v1): parsing a copy of
 *     what a sender wrote, checking it against the features that sender
 *     negotiated, and deciding whether a receiver can take the frame,
 *   - MAC address text conversion.
 *
 * Nothing here touches guest memory: callers copy the header bytes out of
 * the guest first (no double fetch) and pass the copy.  Everything a guest
 * wrote is treated as hostile: every field is checked, nothing is
 * assert()ed.  Called by sw_fwd.c, the data path (sw_net.c, sw_tap.c)
 * and the unit tests (tests/unit/test_switch_frame.c).
 *
 * Conventions: predicates return bool; checks return an enum sw_drop
 * (SW_DROP_NONE = accepted); text conversions return 0 / -1 with errno.
 */
#ifndef ISLES_SW_FRAME_H
#define ISLES_SW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#define SW_ETH_ALEN		6
#define SW_ETH_HLEN		14
/*
 * Largest frame (Ethernet header included, virtio-net header excluded) the
 * switch carries: a 64 KiB TSO super-frame plus its Ethernet header.  Also
 * the bound of every descriptor chain walk in bytes.
 */
#define SW_MAX_FRAME		(65535u + SW_ETH_HLEN)
/* virtio_net_hdr_v1: with VIRTIO_F_VERSION_1 or MRG_RXBUF; 10 bytes without. */
#define SW_VNET_HDR_LEN		12u
#define SW_VNET_HDR_LEN_LEGACY	10u
#define SW_MAC_STRLEN		18	/* "02:00:00:00:aa:01" + NUL */
/*
 * Bytes of a TSO frame's start the switch copies out and checks: Ethernet
 * (14) + two VLAN tags (8) + IPv4 with options (60) or IPv6 (40) with some
 * extension headers + TCP with options (60).  A TSO frame whose TCP header
 * ends beyond this is refused (bad_gso).
 */
#define SW_HEAD_MAX		256u
/*
 * Smallest gso_size (TCP payload bytes per segment) accepted.  Linux never
 * sends less: its sender MSS floor, net.ipv4.tcp_min_snd_mss (at least
 * TCP_MIN_SND_MSS = 48), is counted with the TCP options, and at most 40
 * bytes of options leave 8 bytes of data (tcp_output.c __tcp_mtu_to_mss:
 * "reserve room for full set of TCP options and 8 bytes of data").  A
 * smaller gso_size only serves to make whoever segments the frame (the
 * host kernel behind the uplink, a receiving guest that forwards it) emit
 * up to 64 Ki packets for one frame.
 */
#define SW_GSO_MIN_SIZE		8u

/* Why a frame was dropped; counted per port (see sw_fwd.h for which port). */
enum sw_drop {
	SW_DROP_NONE = 0,
	/* Counted on the port the frame came from. */
	SW_DROP_MALFORMED,	/* runt, bad virtio-net header, bad chain */
	SW_DROP_BADGSO,		/* TSO header that does not fit its frame */
	SW_DROP_SPOOF,		/* source MAC is not the port's own MAC */
	SW_DROP_UNKNOWN,	/* unicast to an unknown MAC and no uplink */
	SW_DROP_SELF,		/* unicast to the sender's own MAC */
	SW_DROP_LINKLOCAL,	/* 01:80:c2:00:00:0x, never forwarded by a bridge */
	/* Counted on the port the frame was going to. */
	SW_DROP_OFFLOAD,	/* GSO/partial checksum the receiver did not negotiate */
	SW_DROP_TOOBIG,		/* larger than the receiver's buffers can hold */
	SW_DROP_NOBUF,		/* receiver had no free receive buffers */
	SW_DROP_DOWN,		/* receiver not connected, not started or in error */
	SW_DROP_MAX
};

/* Stable lower-case name of a drop reason, as in the stats JSON. */
const char *sw_drop_name(enum sw_drop why);

/* Destination class of a frame, from its destination MAC only. */
enum sw_class {
	SW_CLASS_UNICAST,
	SW_CLASS_BROADCAST,	/* ff:ff:ff:ff:ff:ff */
	SW_CLASS_MCAST4,	/* 01:00:5e:00:00:00 - 01:00:5e:7f:ff:ff */
	SW_CLASS_MCAST6,	/* 33:33:xx:xx:xx:xx */
	SW_CLASS_MCAST,		/* any other group address */
	SW_CLASS_LINKLOCAL,	/* 01:80:c2:00:00:00 - 01:80:c2:00:00:0f */
};

enum sw_class sw_classify(const uint8_t dst[SW_ETH_ALEN]);
const char *sw_class_name(enum sw_class c);

/* True for an individual (not group), non-zero MAC: a valid port MAC. */
bool sw_mac_valid_station(const uint8_t mac[SW_ETH_ALEN]);

/*
 * "02:00:00:00:aa:01" (either case, exactly six two-digit groups separated
 * by ':') -> bytes.  Returns 0, or -1 with errno EINVAL.
 */
int sw_mac_parse(const char *s, uint8_t mac[SW_ETH_ALEN]);
/* Bytes -> "02:00:00:00:aa:01" into out (at least SW_MAC_STRLEN bytes). */
void sw_mac_format(const uint8_t mac[SW_ETH_ALEN], char out[SW_MAC_STRLEN]);

/* Host byte order copy of a struct virtio_net_hdr_v1. */
struct sw_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* Header length for a port's negotiated features (12 or 10 bytes). */
static inline size_t
sw_vnet_hdr_len(uint64_t features)
{
	if (features & ((1ull << VIRTIO_F_VERSION_1) |
	    (1ull << VIRTIO_NET_F_MRG_RXBUF)))
		return SW_VNET_HDR_LEN;
	return SW_VNET_HDR_LEN_LEGACY;
}

/* Decode `len` (10 or 12) little-endian bytes; num_buffers = 1 for 10. */
void sw_vnet_hdr_decode(const uint8_t *in, size_t len, struct sw_vnet_hdr *h);
/* Encode into `len` (10 or 12) little-endian bytes. */
void sw_vnet_hdr_encode(const struct sw_vnet_hdr *h, uint8_t *out, size_t len);

/*
 * Check the header a sender wrote for a frame of frame_len bytes (Ethernet
 * header included) against the features the sender negotiated and, for
 * TSO, against the frame itself.  head[0..head_len) is the caller's copy
 * of the frame's first bytes: at least min(frame_len, SW_HEAD_MAX) bytes
 * for a TSO header, only read for one.
 *   SW_DROP_MALFORMED:
 *   - frame_len outside [SW_ETH_HLEN, SW_MAX_FRAME] (no MTU is imposed),
 *   - NEEDS_CSUM without VIRTIO_NET_F_CSUM, or csum_start + csum_offset
 *     + 2 beyond the frame,
 *   - GSO TCPV4/TCPV6 without HOST_TSO4/HOST_TSO6, the ECN bit without
 *     HOST_ECN or without a GSO type, GSO without NEEDS_CSUM; UDP and
 *     unknown GSO types always (the switch does not offer them).
 *   SW_DROP_BADGSO, a TSO header that does not fit its frame (see
 *   sw_gso_parse for what the frame must be):
 *   - gso_size below SW_GSO_MIN_SIZE,
 *   - not an Ethernet (up to two VLAN tags) + IPv4 / IPv6 + TCP frame of
 *     the GSO type's family whose headers end within SW_HEAD_MAX bytes,
 *   - hdr_len, when not 0, short of the end of the TCP header or beyond
 *     the frame (virtio 1.2 5.1.6.2: "not less than the length of the
 *     headers, including the transport header"; 0 is what senders that
 *     do not fill it in send),
 *   - csum_start other than the TCP header's offset or csum_offset other
 *     than 16 (the TCP checksum): segmentation rewrites that checksum.
 * A TSO frame whose payload fits in one segment (at most gso_size bytes
 * after the TCP header) is passed as the single segment it is: its GSO
 * type, gso_size and hdr_len are cleared, NEEDS_CSUM kept.  Linux's own
 * virtio_net_hdr_to_skb does the same ("Too small packets are not really
 * GSO ones"); it refused them for a while and went back to this.
 * On success the header is normalised in place: flags other than
 * NEEDS_CSUM are cleared (DATA_VALID means nothing on transmit),
 * num_buffers is zeroed, and SW_DROP_NONE is returned.
 */
enum sw_drop sw_vnet_hdr_check_tx(struct sw_vnet_hdr *h, uint64_t features,
    const uint8_t *head, size_t head_len, size_t frame_len);

/* Where the headers of a TCP/IP frame lie, from its first byte. */
struct sw_gso_hdrs {
	size_t l3;	/* IP header: after Ethernet and VLAN tags */
	size_t l4;	/* TCP header */
	size_t end;	/* first payload byte: end of the TCP header */
};

/*
 * Parse the headers of a TCP over IPv4 (v6 false) or IPv6 (v6 true) frame
 * from its first len bytes: Ethernet, at most two 802.1Q / 802.1ad tags,
 * then an IPv4 header (version 4, IHL >= 5, protocol TCP, not a fragment)
 * or an IPv6 header (version 6; hop-by-hop, routing and destination
 * options extension headers are walked, at most 8) followed by TCP, and a
 * TCP header with data offset >= 5.  Every header must end within len.
 * Returns true with o filled, or false.  Pure; reads only head[0..len).
 */
bool sw_gso_parse(const uint8_t *head, size_t len, bool v6,
    struct sw_gso_hdrs *o);

/*
 * Can a receiver with negotiated `features` take a frame with this
 * (checked) header?  GSO TCPV4/TCPV6 need GUEST_TSO4/GUEST_TSO6 (and
 * GUEST_ECN with the ECN bit), NEEDS_CSUM needs GUEST_CSUM.  Returns
 * SW_DROP_NONE or SW_DROP_OFFLOAD.  Frames are never segmented or
 * truncated by the switch.
 */
enum sw_drop sw_vnet_hdr_check_rx(const struct sw_vnet_hdr *h,
    uint64_t features);

/*
 * Features the switch offers on every vhost-user-net port (besides the
 * vhost-user protocol bits the vhost library adds): VERSION_1, MRG_RXBUF,
 * CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6, HOST_ECN, GUEST_ECN.
 */
uint64_t sw_net_features(void);

#endif
