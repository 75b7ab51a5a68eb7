/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcpframe: TCP/IP frames for the switch's unit tests (test_switch_frame.c,
 * test_switch_net.c, test_switch_ports.c), which need TSO super-frames
 * whose headers are what a guest's stack writes: Ethernet with optional
 * VLAN tags, IPv4 (with options) or IPv6 (with a hop-by-hop extension
 * header), TCP (with options), then a counting payload.  Test code only.
 */
#ifndef ISLES_TEST_TCPFRAME_H
#define ISLES_TEST_TCPFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tf_shape {
	bool v6;		/* IPv6, else IPv4 */
	unsigned tags;		/* VLAN tags after the MAC addresses */
	unsigned ip_ext;	/* IPv4 option bytes (x4) / IPv6 hop-by-hop
				 * extension header bytes (x8), 0 = none */
	unsigned tcp_opt;	/* TCP option bytes (x4) */
};

/*
 * Write a frame of len bytes at f from dst to src with shape s.  Returns
 * the offset of the TCP header in *l4 and the payload offset.  len must
 * hold the headers.
 */
static inline size_t
tf_build(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src,
    const struct tf_shape *s, size_t *l4)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	for (unsigned t = 0; t < s->tags; t++) {
		f[off] = t + 1 < s->tags ? 0x88 : 0x81;		/* 802.1ad, 802.1Q */
		f[off + 1] = t + 1 < s->tags ? 0xa8 : 0x00;
		f[off + 2] = 0;
		f[off + 3] = (uint8_t)(10 + t);			/* VLAN id */
		off += 4;
	}
	f[off] = s->v6 ? 0x86 : 0x08;
	f[off + 1] = s->v6 ? 0xdd : 0x00;
	off += 2;
	if (!s->v6) {
		memset(f + off, 0, 20 + s->ip_ext);
		f[off] = (uint8_t)(0x40 | (20 + s->ip_ext) / 4);
		f[off + 6] = 0x40;			/* DF */
		f[off + 8] = 64;			/* TTL */
		f[off + 9] = 6;				/* TCP */
		memset(f + off + 20, 1, s->ip_ext);	/* NOP options */
		off += 20 + s->ip_ext;
	} else {
		memset(f + off, 0, 40);
		f[off] = 0x60;
		f[off + 6] = s->ip_ext ? 0 : 6;		/* hop-by-hop or TCP */
		f[off + 7] = 64;
		off += 40;
		if (s->ip_ext) {
			memset(f + off, 0, s->ip_ext);
			f[off] = 6;
			f[off + 1] = (uint8_t)(s->ip_ext / 8 - 1);
			f[off + 2] = 1;			/* PadN */
			f[off + 3] = (uint8_t)(s->ip_ext - 4);
			off += s->ip_ext;
		}
	}
	*l4 = off;
	memset(f + off, 0, 20 + s->tcp_opt);
	f[off + 1] = 80;				/* ports */
	f[off + 3] = 81;
	f[off + 12] = (uint8_t)((20 + s->tcp_opt) / 4 << 4);
	f[off + 13] = 0x10;				/* ACK */
	memset(f + off + 20, 1, s->tcp_opt);		/* NOP options */
	off += 20 + s->tcp_opt;
	for (size_t i = off; i < len; i++)
		f[i] = (uint8_t)(i * 7 + 3);
	return off;
}

/* The usual TSO frame: untagged IPv4, TCP with 12 option bytes (time
 * stamps): TCP header at 34, payload at 66. */
static inline size_t
tf_tcp4(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src)
{
	static const struct tf_shape s = { .tcp_opt = 12 };
	size_t l4;

	return tf_build(f, len, dst, src, &s, &l4);
}

#endif
