/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_net: transmit-chain parsing and receive-queue delivery; see
 * sw_net.h.  Guest memory is reached only through iovecs that vq.c built
 * with vu_mem_gpa(), and every length used here is bounded by them.
 */
#include "switchd/sw_net.h"

#include <string.h>

#include <linux/virtio_net.h>

/* A position in a list of segments. */
struct cursor {
	const struct iovec *iov;
	unsigned n, i;
	size_t off;
};

static void
cur_init(struct cursor *c, const struct iovec *iov, unsigned n)
{
	c->iov = iov;
	c->n = n;
	c->i = 0;
	c->off = 0;
}

/* Room left in the current segment, moving past exhausted ones. */
static size_t
cur_room(struct cursor *c)
{
	while (c->i < c->n && c->off >= c->iov[c->i].iov_len) {
		c->i++;
		c->off = 0;
	}
	return c->i < c->n ? c->iov[c->i].iov_len - c->off : 0;
}

static uint8_t *
cur_ptr(const struct cursor *c)
{
	return (uint8_t *)c->iov[c->i].iov_base + c->off;
}

/* Copy up to len bytes out of c into out; returns bytes copied. */
static size_t
cur_read(struct cursor *c, void *out, size_t len)
{
	size_t done = 0, room, k;

	while (done < len && (room = cur_room(c)) > 0) {
		k = len - done < room ? len - done : room;
		memcpy((uint8_t *)out + done, cur_ptr(c), k);
		c->off += k;
		done += k;
	}
	return done;
}

/* Copy up to len bytes from in into c; returns bytes copied. */
static size_t
cur_write(struct cursor *c, const void *in, size_t len)
{
	size_t done = 0, room, k;

	while (done < len && (room = cur_room(c)) > 0) {
		k = len - done < room ? len - done : room;
		memcpy(cur_ptr(c), (const uint8_t *)in + done, k);
		c->off += k;
		done += k;
	}
	return done;
}

/* Copy up to len bytes from src into dst; returns bytes copied. */
static size_t
cur_copy(struct cursor *dst, struct cursor *src, size_t len)
{
	size_t done = 0, droom, sroom, k;

	while (done < len && (droom = cur_room(dst)) > 0 &&
	    (sroom = cur_room(src)) > 0) {
		k = len - done;
		if (k > droom)
			k = droom;
		if (k > sroom)
			k = sroom;
		memcpy(cur_ptr(dst), cur_ptr(src), k);
		dst->off += k;
		src->off += k;
		done += k;
	}
	return done;
}

enum sw_drop
sw_frame_parse(struct sw_frame *f, const struct iovec *iov, unsigned niov,
    size_t hdr_len, uint64_t features)
{
	uint8_t raw[SW_VNET_HDR_LEN];
	struct cursor c;
	size_t total = 0;

	if (niov > VQ_MAX_IOV || hdr_len > sizeof(raw))
		return SW_DROP_MALFORMED;
	for (unsigned i = 0; i < niov; i++) {
		total += iov[i].iov_len;
		if (total > hdr_len + SW_MAX_FRAME)
			return SW_DROP_MALFORMED;
	}
	if (total < hdr_len + SW_ETH_HLEN)
		return SW_DROP_MALFORMED;
	cur_init(&c, iov, niov);
	cur_read(&c, raw, hdr_len);
	sw_vnet_hdr_decode(raw, hdr_len, &f->hdr);
	f->len = total - hdr_len;
	/* A TSO header is checked against the IP and TCP headers: copy
	 * those out too, so that the receiver gets what was checked. */
	f->head_len = SW_ETH_HLEN;
	if (f->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		f->head_len = f->len < SW_HEAD_MAX ? f->len : SW_HEAD_MAX;
	cur_read(&c, f->head, f->head_len);
	/* The rest of the frame, from the cursor on. */
	f->niov = 0;
	while (cur_room(&c) > 0) {
		f->iov[f->niov].iov_base = cur_ptr(&c);
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

void
sw_vq_push_n(struct vq *q, const uint16_t *heads, const uint32_t *lens,
    unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vq_used_elem *e =
		    &q->used->ring[(uint16_t)(q->used_idx + i) & (q->num - 1)];

		e->id = heads[i];
		e->len = lens[i];
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

/*
 * Fill one receive chain from the frame: the head from our copy, then
 * the rest from the sender's segments.  *pos counts frame bytes written
 * so far.  Returns bytes written into the chain.
 */
static size_t
fill_chain(struct cursor *dst, const struct sw_frame *f, struct cursor *src,
    size_t *pos)
{
	size_t done = 0, k;

	if (*pos < f->head_len) {
		k = cur_write(dst, f->head + *pos, f->head_len - *pos);
		*pos += k;
		done += k;
		if (*pos < f->head_len)
			return done;
	}
	k = cur_copy(dst, src, f->len - *pos);
	*pos += k;
	return done + k;
}

enum sw_drop
sw_rx_deliver(struct vq *q, uint64_t features, const struct sw_frame *f,
    struct sw_rx_scratch *s)
{
	bool mrg = (features & (1ull << VIRTIO_NET_F_MRG_RXBUF)) != 0;
	size_t hl = sw_vnet_hdr_len(features), pos = 0;
	uint16_t start = q->last_avail;
	struct sw_vnet_hdr h;
	uint8_t raw[SW_VNET_HDR_LEN];
	struct cursor src, dst;
	enum sw_drop why;
	unsigned n = 0;
	int r;

	if (q->num == 0 || q->broken)
		return SW_DROP_DOWN;
	if ((why = sw_vnet_hdr_check_rx(&f->hdr, features)) != SW_DROP_NONE)
		return why;
	cur_init(&src, f->iov, f->niov);
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
		/* Receive buffers are write-only and hold at least a header. */
		if (c->nout != 0 || c->in_len < hl) {
			q->broken = true;
			return SW_DROP_DOWN;
		}
		if (!mrg && c->in_len < hl + f->len) {
			why = SW_DROP_TOOBIG;
			goto giveback;
		}
		cur_init(&dst, c->iov, c->nin);
		if (n == 0) {
			/* The header goes in last, once num_buffers is known. */
			dst.off = 0;
			while (wrote < hl) {
				size_t room = cur_room(&dst), k;

				k = hl - wrote < room ? hl - wrote : room;
				dst.off += k;
				wrote += k;
			}
		}
		wrote += fill_chain(&dst, f, &src, &pos);
		s->heads[n] = c->head;
		s->lens[n] = (uint32_t)wrote;
		n++;
	} while (pos < f->len);

	h = f->hdr;
	h.num_buffers = (uint16_t)n;
	sw_vnet_hdr_encode(&h, raw, hl);
	cur_init(&dst, s->first.iov, s->first.nin);
	cur_write(&dst, raw, hl);
	sw_vq_push_n(q, s->heads, s->lens, n);
	return SW_DROP_NONE;

giveback:
	/* Not consumed: the guest keeps these buffers for the next frame. */
	q->last_avail = start;
	return why;
}
