/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_net: transmit-chain parsing and receive-queue delivery; see
 * sw_net.h.  Guest memory is reached only through iovecs that vq.c built
 * with vu_mem_gpa(), and every length used here is bounded by them.
 */
#include "switchd/sw_net.h"

#include "vhost/iov.h"

#include <string.h>

#include <linux/virtio_net.h>

/*
 * The common layout, header and frame in one segment (a Linux guest's
 * small frames, DPDK's virtio_user): the same copies and checks as the
 * general path below, without the segment cursor.
 */
static enum sw_drop
parse_flat(struct sw_frame *f, const uint8_t *p, size_t total,
    size_t hdr_len, uint64_t features)
{
	uint8_t raw[SW_VNET_HDR_LEN];

	if (total > hdr_len + SW_MAX_FRAME || total < hdr_len + SW_ETH_HLEN)
		return SW_DROP_MALFORMED;
	/* Fixed-size copies (total >= hdr_len + SW_ETH_HLEN): two moves
	 * each, where a variable length costs a string instruction. */
	memcpy(raw, p, sizeof(raw));
	sw_vnet_hdr_decode(raw, hdr_len, &f->hdr);
	f->len = total - hdr_len;
	f->head_len = SW_ETH_HLEN;
	memcpy(f->head, p + hdr_len, SW_ETH_HLEN);
	if (f->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		f->head_len = f->len < SW_HEAD_MAX ? f->len : SW_HEAD_MAX;
		memcpy(f->head, p + hdr_len, f->head_len);
	}
	f->niov = 0;
	if (f->len > f->head_len) {
		f->iov[0].iov_base = (uint8_t *)p + hdr_len + f->head_len;
		f->iov[0].iov_len = f->len - f->head_len;
		f->niov = 1;
	}
	return sw_vnet_hdr_check_tx(&f->hdr, features, f->head, f->head_len,
	    f->len);
}

enum sw_drop
sw_frame_parse(struct sw_frame *f, const struct iovec *iov, unsigned niov,
    size_t hdr_len, uint64_t features)
{
	uint8_t raw[SW_VNET_HDR_LEN];
	struct iov_cur c;
	size_t total = 0;

	if (niov > VQ_MAX_IOV || hdr_len > sizeof(raw))
		return SW_DROP_MALFORMED;
	if (niov == 1)
		return parse_flat(f, iov[0].iov_base, iov[0].iov_len, hdr_len,
		    features);
	for (unsigned i = 0; i < niov; i++) {
		total += iov[i].iov_len;
		if (total > hdr_len + SW_MAX_FRAME)
			return SW_DROP_MALFORMED;
	}
	if (total < hdr_len + SW_ETH_HLEN)
		return SW_DROP_MALFORMED;
	iov_cur_init(&c, iov, niov);
	iov_cur_read(&c, raw, hdr_len);
	sw_vnet_hdr_decode(raw, hdr_len, &f->hdr);
	f->len = total - hdr_len;
	/* A TSO header is checked against the IP and TCP headers: copy
	 * those out too, so that the receiver gets what was checked. */
	f->head_len = SW_ETH_HLEN;
	if (f->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		f->head_len = f->len < SW_HEAD_MAX ? f->len : SW_HEAD_MAX;
	iov_cur_read(&c, f->head, f->head_len);
	/* The rest of the frame, from the cursor on. */
	f->niov = 0;
	while (iov_cur_room(&c) > 0) {
		f->iov[f->niov].iov_base = iov_cur_ptr(&c);
		f->iov[f->niov].iov_len = c.iov[c.i].iov_len - c.off;
		f->niov++;
		c.i++;
		c.off = 0;
	}
	return sw_vnet_hdr_check_tx(&f->hdr, features, f->head, f->head_len,
	    f->len);
}

size_t
sw_frame_flatten(const struct sw_frame *f, uint8_t *out)
{
	size_t pos = f->head_len;

	memcpy(out, f->head, f->head_len);
	for (unsigned i = 0; i < f->niov; i++) {
		memcpy(out + pos, f->iov[i].iov_base, f->iov[i].iov_len);
		pos += f->iov[i].iov_len;
	}
	return pos;
}

/*
 * Fill one receive chain from the frame: the head from our copy, then
 * the rest from the sender's segments.  *pos counts frame bytes written
 * so far.  Returns bytes written into the chain.
 */
static size_t
fill_chain(struct iov_cur *dst, const struct sw_frame *f, struct iov_cur *src,
    size_t *pos)
{
	size_t done = 0, k;

	if (*pos < f->head_len) {
		k = iov_cur_write(dst, f->head + *pos, f->head_len - *pos);
		*pos += k;
		done += k;
		if (*pos < f->head_len)
			return done;
	}
	k = iov_cur_copy(dst, src, f->len - *pos);
	*pos += k;
	return done + k;
}

bool
sw_rx_publish(struct vq *q, struct sw_rx_scratch *s)
{
	unsigned n = s->nstaged;

	s->nstaged = 0;
	/* A broken or reset queue gets nothing more. */
	if (n == 0 || q->num == 0 || q->broken)
		return false;
	vq_push_n(q, s->heads, s->lens, n);
	return true;
}

enum sw_drop
sw_rx_deliver(struct vq *q, uint64_t features, const struct sw_frame *f,
    struct sw_rx_scratch *s)
{
	enum sw_drop why;

	sw_rx_publish(q, s);
	why = sw_rx_stage(q, features, f, s);
	sw_rx_publish(q, s);
	return why;
}

/*
 * Receive buffers are write-only and hold at least a header; a chain that
 * is not breaks the ring (the guest broke the rules).
 */
static bool
rx_chain_ok(struct vq *q, const struct vq_chain *c, size_t hl)
{
	if (c->nout == 0 && c->in_len >= hl)
		return true;
	q->broken = true;
	return false;
}

/*
 * The common case: the next receive chain is one buffer that holds the
 * whole frame (a Linux guest's mergeable buffers, DPDK's virtio_user).
 * Header with num_buffers 1, our copy of the head, the rest from the
 * sender: what the general path below writes, without its cursors.
 * Returns 1 (delivered and staged), -1 (the ring is broken) or 0 (the
 * general path must do it: no chain is left popped).
 */
static int
rx_flat(struct vq *q, const struct sw_frame *f, size_t hl,
    struct sw_rx_scratch *s)
{
	struct vq_chain *c = &s->first;
	struct sw_vnet_hdr h;
	uint8_t *d;
	size_t pos;
	int r;

	if (f->niov > 1)
		return 0;
	if ((r = vq_pop(q, c)) <= 0)
		return r < 0 ? -1 : 0;
	vq_prefetch(q, SW_PF_DESC, SW_PF_BUF, true);
	if (!rx_chain_ok(q, c, hl))
		return -1;
	if (c->nin != 1 || c->in_len < hl + f->len) {
		vq_unpop(q, 1);
		return 0;
	}
	d = c->iov[0].iov_base;
	h = f->hdr;
	h.num_buffers = 1;
	sw_vnet_hdr_encode(&h, d, hl);
	memcpy(d + hl, f->head, f->head_len);
	pos = hl + f->head_len;
	if (f->niov == 1)
		memcpy(d + pos, f->iov[0].iov_base, f->iov[0].iov_len);
	s->heads[s->nstaged] = c->head;
	s->lens[s->nstaged] = (uint32_t)(hl + f->len);
	s->nstaged++;
	return 1;
}

enum sw_drop
sw_rx_stage(struct vq *q, uint64_t features, const struct sw_frame *f,
    struct sw_rx_scratch *s)
{
	bool mrg = (features & (1ull << VIRTIO_NET_F_MRG_RXBUF)) != 0;
	size_t hl = sw_vnet_hdr_len(features), pos = 0;
	struct sw_vnet_hdr h;
	uint8_t raw[SW_VNET_HDR_LEN];
	struct iov_cur src, dst;
	enum sw_drop why;
	unsigned n = 0;		/* chains popped and filled */
	uint16_t taken = 0;	/* chains popped */
	int r;

	uint16_t *heads;
	uint32_t *lens;

	if (q->num == 0 || q->broken)
		return SW_DROP_DOWN;
	if ((why = sw_vnet_hdr_check_rx(&f->hdr, features)) != SW_DROP_NONE)
		return why;
	if (s->nstaged + SW_MAX_RXBUFS > SW_RX_STAGE)
		sw_rx_publish(q, s);
	heads = s->heads + s->nstaged;
	lens = s->lens + s->nstaged;
	if ((r = rx_flat(q, f, hl, s)) != 0)
		return r > 0 ? SW_DROP_NONE : SW_DROP_DOWN;
	iov_cur_init(&src, f->iov, f->niov);
	do {
		struct vq_chain *c = n == 0 ? &s->first : &s->cur;
		size_t wrote = 0;

		if (n == SW_MAX_RXBUFS) {
			why = SW_DROP_TOOBIG;
			goto giveback;
		}
		r = vq_pop(q, c);
		if (r < 0)
			return SW_DROP_DOWN;
		if (r == 0) {
			why = SW_DROP_NOBUF;
			goto giveback;
		}
		taken++;
		if (!rx_chain_ok(q, c, hl))
			return SW_DROP_DOWN;
		if (!mrg && c->in_len < hl + f->len) {
			why = SW_DROP_TOOBIG;
			goto giveback;
		}
		iov_cur_init(&dst, c->iov, c->nin);
		/* The header goes in last, once num_buffers is known. */
		if (n == 0)
			wrote = iov_cur_skip(&dst, hl);
		wrote += fill_chain(&dst, f, &src, &pos);
		heads[n] = c->head;
		lens[n] = (uint32_t)wrote;
		n++;
	} while (pos < f->len);

	h = f->hdr;
	h.num_buffers = (uint16_t)n;
	sw_vnet_hdr_encode(&h, raw, hl);
	iov_cur_init(&dst, s->first.iov, s->first.nin);
	iov_cur_write(&dst, raw, hl);
	s->nstaged += n;
	return SW_DROP_NONE;

giveback:
	/* Not consumed: the guest keeps these buffers for the next frame. */
	vq_unpop(q, taken);
	return why;
}
