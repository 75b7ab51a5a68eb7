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
 * assert()ed.  Called by sw_fwd.c, the data path (sw_port.c, sw_tap.c)
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

/* Why a frame was dropped; counted per port (see sw_fwd.h for which port). */
enum sw_drop {
	SW_DROP_NONE = 0,
	/* Counted on the port the frame came from. */
	SW_DROP_MALFORMED,	/* runt, bad virtio-net header, bad chain */
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
size_t sw_vnet_hdr_len(uint64_t features);

/* Decode `len` (10 or 12) little-endian bytes; num_buffers = 1 for 10. */
void sw_vnet_hdr_decode(const uint8_t *in, size_t len, struct sw_vnet_hdr *h);
/* Encode into `len` (10 or 12) little-endian bytes. */
void sw_vnet_hdr_encode(const struct sw_vnet_hdr *h, uint8_t *out, size_t len);

/*
 * Check the header a sender wrote for a frame of frame_len bytes (Ethernet
 * header included) against the features the sender negotiated:
 *   - frame_len in [SW_ETH_HLEN, SW_MAX_FRAME],
 *   - NEEDS_CSUM only with VIRTIO_NET_F_CSUM, and csum_start + csum_offset
 *     + 2 within the frame,
 *   - GSO TCPV4/TCPV6 only with HOST_TSO4/HOST_TSO6, the ECN bit only with
 *     HOST_ECN, always with NEEDS_CSUM and a non-zero gso_size; UDP and
 *     unknown GSO types never (the switch does not offer them),
 *   - a non-GSO frame is at most SW_MAX_FRAME bytes (no MTU is imposed).
 * On success the header is normalised in place: flags other than
 * NEEDS_CSUM are cleared (DATA_VALID means nothing on transmit),
 * num_buffers is zeroed, and SW_DROP_NONE is returned; otherwise
 * SW_DROP_MALFORMED.
 */
enum sw_drop sw_vnet_hdr_check_tx(struct sw_vnet_hdr *h, uint64_t features,
    size_t frame_len);

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
