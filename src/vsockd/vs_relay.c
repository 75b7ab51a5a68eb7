/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vs_relay: the isles-vsockd data path; see vs_relay.h for the design.
 * Guest memory is reached only through iovecs vq.c built with
 * vu_mem_gpa(); held packets are our own copies.
 */
#include "vsockd/vs_relay.h"

#include <stdlib.h>
#include <string.h>

#include "vhost/iov.h"

enum put_res {
	PUT_DONE,		/* the whole packet is in the receive queue */
	PUT_NOBUF,		/* no receive buffer for (the rest of) it */
	PUT_DEAD,		/* the receive queue is not usable (broken) */
};

#define BIT(i)	(1ull << (i))

void
vs_relay_init(struct vs_relay *r, struct vs_table *t, const struct vs_ops *ops,
    void *ctx, size_t hold_max, uint64_t stall_ms)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->ops = ops;
	r->ctx = ctx;
	r->hold_max = hold_max < VS_HOLD_MIN ? VS_HOLD_MIN : hold_max;
	r->stall_ms = stall_ms;
	for (unsigned i = 0; i < VS_MAX_VMS; i++)
		r->blocked_on[i] = -1;
}

static void
fifo_clear(struct vs_fifo *f)
{
	struct vs_held *e, *n;

	for (e = f->head; e != NULL; e = n) {
		n = e->next;
		free(e);
	}
	f->head = f->tail = NULL;
	f->bytes = 0;
}

void
vs_relay_close(struct vs_relay *r)
{
	for (unsigned s = 0; s < VS_MAX_VMS; s++)
		for (unsigned d = 0; d < VS_MAX_VMS; d++)
			fifo_clear(&r->fifo[s][d]);
}

static void
gauge(struct vs_relay *r, unsigned s, unsigned d)
{
	struct vs_pair_counters *p = &r->t->pair[s][d];

	p->held_bytes = r->fifo[s][d].bytes;
	if (p->held_bytes > p->held_max)
		p->held_max = p->held_bytes;
}

/*
 * Put packet h (payload: h->len bytes at src) from s into d's receive
 * queue, one receive buffer per piece; *done counts payload bytes
 * delivered (in and out: pieces delivered before a PUT_NOBUF stay
 * delivered).  Every piece carries h with its own len; on SEQPACKET the
 * end-of-message flags go only on the last.
 */
static enum put_res
put(struct vs_relay *r, unsigned s, unsigned d, const struct vs_hdr *h,
    struct iov_cur *src, uint32_t *done)
{
	struct vq *q = r->ops->queue(r->ctx, d, VS_RXQ);
	struct vq_chain *c = &r->rxc;
	uint8_t raw[VS_HDR_LEN];
	int rc;

	if (q == NULL)
		return PUT_DEAD;
	do {
		struct vs_hdr piece = *h;
		struct iov_cur dst;
		uint32_t room, left = h->len - *done;

		rc = vq_pop(q, c);
		if (rc < 0) {
			r->ops->broken(r->ctx, d, VS_RXQ,
			    "malformed receive ring");
			return PUT_DEAD;
		}
		if (rc == 0) {
			/* Ask for a kick when buffers come; they may have. */
			if (vq_rearm(q))
				continue;
			return PUT_NOBUF;
		}
		if (c->nout != 0 || c->in_len < VS_HDR_LEN ||
		    (left > 0 && c->in_len == VS_HDR_LEN)) {
			r->ops->broken(r->ctx, d, VS_RXQ, c->nout != 0 ?
			    "receive buffer with readable descriptors" :
			    "receive buffer too small for a packet");
			return PUT_DEAD;
		}
		room = c->in_len - VS_HDR_LEN < left ?
		    (uint32_t)(c->in_len - VS_HDR_LEN) : left;
		piece.len = room;
		if (h->type == VS_TYPE_SEQPACKET && h->op == VS_OP_RW &&
		    room < left)
			piece.flags &= ~(VS_SEQ_EOM | VS_SEQ_EOR);
		vs_hdr_encode(&piece, raw);
		iov_cur_init(&dst, c->iov, c->nin);
		iov_cur_write(&dst, raw, sizeof(raw));
		if (room > 0)
			iov_cur_copy(&dst, src, room);
		vq_push(q, c->head, VS_HDR_LEN + room);
		*done += room;
		r->notify_rx |= BIT(d);
		r->t->vms[d].c.rx_packets++;
		r->t->vms[d].c.rx_bytes += room;
		if (s != d)
			r->t->pair[s][d].bytes += room;
	} while (*done < h->len);
	return PUT_DONE;
}

/* Keep the rest of h (payload at src, h->len bytes) at the FIFO's end. */
static void
hold(struct vs_relay *r, unsigned s, unsigned d, const struct vs_hdr *h,
    struct iov_cur *src)
{
	struct vs_fifo *f = &r->fifo[s][d];
	struct vs_held *e = malloc(sizeof(*e) + h->len);

	if (e == NULL) {
		/* Bounded, and small: only with the whole host out of it. */
		if (s != d)
			r->t->pair[s][d].lost++;
		return;
	}
	e->next = NULL;
	e->h = *h;
	e->off = 0;
	if (h->len > 0)
		iov_cur_read(src, e->data, h->len);
	if (f->tail != NULL)
		f->tail->next = e;
	else
		f->head = e;
	f->tail = e;
	f->bytes += VS_HDR_LEN + h->len;
	if (s != d)
		gauge(r, s, d);
}

/*
 * Relay h (payload at src, NULL if none) from s to d, or, s == d, the
 * relay's own packet for s.  Delivered at once if nothing of the pair is
 * held and d has room, else (the rest) held.  Returns false, having done
 * nothing, when the pair's FIFO cannot take it: the caller gives the
 * chain back and blocks s.
 */
static bool
relay_pkt(struct vs_relay *r, unsigned s, unsigned d, const struct vs_hdr *h,
    struct iov_cur *src)
{
	struct vs_fifo *f = &r->fifo[s][d];
	size_t size = VS_HDR_LEN + (size_t)h->len;
	struct vs_hdr rest;
	uint32_t done = 0;
	enum put_res res;
	struct iov_cur none;

	if (src == NULL) {
		iov_cur_init(&none, NULL, 0);
		src = &none;
	}
	if (f->bytes > 0 && f->bytes + size > r->hold_max)
		return false;
	if (f->head == NULL) {
		res = put(r, s, d, h, src, &done);
		if (res == PUT_DONE) {
			if (s != d)
				r->t->pair[s][d].packets++;
			return true;
		}
		if (res == PUT_DEAD) {
			/* d broke under it: the packet goes with d. */
			if (s != d)
				r->t->pair[s][d].lost++;
			return true;
		}
	}
	rest = *h;
	rest.len = h->len - done;
	hold(r, s, d, &rest, src);
	return true;
}

static unsigned
blocked_count(const struct vs_relay *r, unsigned d)
{
	unsigned n = 0;

	for (unsigned s = 0; s < r->t->nvms; s++)
		n += r->blocked_on[s] == (int)d;
	return n;
}

static void
block(struct vs_relay *r, unsigned s, unsigned d)
{
	if (blocked_count(r, d) == 0)
		r->waiting_since[d] = r->now_ms ? r->now_ms : 1;
	r->blocked_on[s] = (int)d;
	r->want_tx[s] = false;
	if (s != d)
		r->t->pair[s][d].stalls++;
}

static void
unblock(struct vs_relay *r, unsigned s)
{
	unsigned d = (unsigned)r->blocked_on[s];

	r->blocked_on[s] = -1;
	r->want_tx[s] = true;
	if (blocked_count(r, d) == 0)
		r->waiting_since[d] = 0;
}

/*
 * Drop everything held for d (it is gone, or stuck): counted as lost; the
 * sources whose packets were dropped get one RST per connection (the next
 * packet of the same connection in a FIFO is not answered twice) so that
 * their sockets learn it at once; blocked sources resume.
 */
static void
drop_for(struct vs_relay *r, unsigned d)
{
	for (unsigned s = 0; s < r->t->nvms; s++) {
		struct vs_fifo *f = &r->fifo[s][d];
		struct vs_held *e, *n;
		struct vs_hdr last = { 0 }, rst;
		bool have_last = false;

		for (e = f->head; e != NULL; e = n) {
			n = e->next;
			if (s != d) {
				r->t->pair[s][d].lost++;
				if (e->h.op != VS_OP_RST && (!have_last ||
				    last.src_port != e->h.src_port ||
				    last.dst_port != e->h.dst_port ||
				    last.type != e->h.type) &&
				    r->ops->queue(r->ctx, s, VS_RXQ) != NULL) {
					vs_hdr_rst(&e->h, &rst);
					/* Best effort: a full FIFO drops it. */
					if (relay_pkt(r, s, s, &rst, NULL))
						r->t->vms[s].c.rst_sent++;
				}
				last = e->h;
				have_last = true;
			}
			free(e);
		}
		f->head = f->tail = NULL;
		f->bytes = 0;
		if (s != d)
			gauge(r, s, d);
		if (r->blocked_on[s] == (int)d)
			unblock(r, s);
	}
	r->waiting_since[d] = 0;
}

void
vs_relay_down(struct vs_relay *r, unsigned vm)
{
	if (vm >= r->t->nvms)
		return;
	drop_for(r, vm);
	r->stuck[vm] = false;
	/* Its transmit ring is gone with the front-end's set-up. */
	if (r->blocked_on[vm] >= 0)
		unblock(r, vm);
	r->want_tx[vm] = false;
}

/* Count a refused packet: on the pair if it has one, else the sender. */
static void
count_refused(struct vs_relay *r, unsigned s, const struct vs_decision *d)
{
	if (d->dst >= 0 && (d->why == VS_POLICY || d->why == VS_DST_DOWN ||
	    d->why == VS_DST_STUCK || d->why == VS_NO_SEQPACKET))
		r->t->pair[s][d->dst].refused[d->why]++;
	else
		r->t->vms[s].c.drops[d->why]++;
}

void
vs_relay_tx(struct vs_relay *r, unsigned s, unsigned budget)
{
	const struct vs_ops *o = r->ops;
	struct vq_chain *c = &r->txc;
	uint64_t up = 0, seq = 0;
	struct vs_hdr h, rst;
	struct vs_vm *vm;
	struct vq *q;
	unsigned n = 0;
	bool sp;
	int rc;

	if (s >= r->t->nvms)
		return;
	vm = &r->t->vms[s];
	r->want_tx[s] = false;
	if (r->blocked_on[s] >= 0 || (q = o->queue(r->ctx, s, VS_TXQ)) == NULL)
		return;
	sp = o->seqpacket(r->ctx, s);
	for (unsigned i = 0; i < r->t->nvms; i++) {
		if (o->queue(r->ctx, i, VS_RXQ) != NULL)
			up |= BIT(i);
		if (o->seqpacket(r->ctx, i))
			seq |= BIT(i);
	}
	for (;;) {
		struct vs_decision dec;
		struct iov_cur cur;

		if (n == budget) {
			r->want_tx[s] = true;
			break;
		}
		rc = vq_pop(q, c);
		if (rc < 0) {
			vm->c.drops[VS_MALFORMED]++;
			o->broken(r->ctx, s, VS_TXQ, "malformed transmit ring");
			break;
		}
		if (rc == 0) {
			if (vq_rearm(q))
				continue;
			break;
		}
		n++;
		dec.why = vs_pkt_parse(c->iov, c->nout, c->nin, vm->cid, sp, &h);
		if (dec.why != VS_OK) {
			vm->c.drops[dec.why]++;
			vq_push(q, c->head, 0);
			r->notify_tx |= BIT(s);
			continue;
		}
		dec = vs_decide(r->t, s, &h, up, seq);
		/* A receive ring may have broken earlier in this batch. */
		if (dec.act == VS_DELIVER && (r->stuck[dec.dst] ||
		    o->queue(r->ctx, (unsigned)dec.dst, VS_RXQ) == NULL)) {
			dec.why = r->stuck[dec.dst] ? VS_DST_STUCK : VS_DST_DOWN;
			dec.act = h.op == VS_OP_RST ? VS_DROP : VS_RST;
			if (dec.why == VS_DST_DOWN)
				up &= ~BIT(dec.dst);
		}
		if (dec.act == VS_RST) {
			vs_hdr_rst(&h, &rst);
			if (!relay_pkt(r, s, s, &rst, NULL))
				goto full;
			vm->c.rst_sent++;
		} else if (dec.act == VS_DELIVER) {
			iov_cur_init(&cur, c->iov, c->nout);
			iov_cur_skip(&cur, VS_HDR_LEN);
			if (!relay_pkt(r, s, (unsigned)dec.dst, &h, &cur)) {
				block(r, s, (unsigned)dec.dst);
				vq_unpop(q, 1);
				break;
			}
		}
		vm->c.tx_packets++;
		vm->c.tx_bytes += h.len;
		if (dec.act != VS_DELIVER)
			count_refused(r, s, &dec);
		vq_push(q, c->head, 0);
		r->notify_tx |= BIT(s);
		continue;
full:
		/* Our answers for s fill its FIFO: s must read first. */
		block(r, s, s);
		vq_unpop(q, 1);
		break;
	}
}

/* Whether d's receive queue has a buffer posted (nothing is taken). */
static bool
rx_has_buffer(struct vs_relay *r, unsigned d, struct vq *q)
{
	int rc = vq_pop(q, &r->rxc);

	if (rc < 0) {
		r->ops->broken(r->ctx, d, VS_RXQ, "malformed receive ring");
		return false;
	}
	if (rc == 1)
		vq_unpop(q, 1);
	return rc == 1;
}

/*
 * Deliver the head of FIFO [s][d]; returns the result for that packet
 * (PUT_DONE: it is gone from the FIFO).
 */
static enum put_res
flush_one(struct vs_relay *r, unsigned s, unsigned d)
{
	struct vs_fifo *f = &r->fifo[s][d];
	struct vs_held *e = f->head;
	struct vs_hdr rest = e->h;
	struct iovec v = { e->data + e->off, e->h.len - e->off };
	struct iov_cur cur;
	uint32_t done = 0;
	enum put_res res;

	rest.len = e->h.len - e->off;
	iov_cur_init(&cur, &v, 1);
	res = put(r, s, d, &rest, &cur, &done);
	e->off += done;
	f->bytes -= done;
	if (res == PUT_DONE) {
		f->bytes -= VS_HDR_LEN;
		f->head = e->next;
		if (f->head == NULL)
			f->tail = NULL;
		free(e);
		if (s != d)
			r->t->pair[s][d].packets++;
	}
	if (s != d)
		gauge(r, s, d);
	return res;
}

void
vs_relay_rx(struct vs_relay *r, unsigned d)
{
	unsigned nvms = r->t->nvms;
	struct vq *q;
	bool progress = true;
	enum put_res res = PUT_DONE;

	if (d >= nvms || (q = r->ops->queue(r->ctx, d, VS_RXQ)) == NULL)
		return;
	if (r->stuck[d]) {
		/* Alive again only with a buffer to show for it. */
		if (!rx_has_buffer(r, d, q))
			return;
		r->stuck[d] = false;
	}
	while (progress && res != PUT_NOBUF && res != PUT_DEAD) {
		progress = false;
		for (unsigned k = 0; k < nvms; k++) {
			unsigned s = (r->rr[d] + k) % nvms;

			if (r->fifo[s][d].head == NULL)
				continue;
			res = flush_one(r, s, d);
			if (res != PUT_DONE)
				break;
			progress = true;
		}
	}
	r->rr[d] = (r->rr[d] + 1) % nvms;
	if (res == PUT_DEAD) {
		drop_for(r, d);
		return;
	}
	for (unsigned s = 0; s < nvms; s++)
		if (r->blocked_on[s] == (int)d &&
		    r->fifo[s][d].bytes <= r->hold_max / 2)
			unblock(r, s);
}

bool
vs_relay_holding(const struct vs_relay *r)
{
	for (unsigned s = 0; s < r->t->nvms; s++)
		for (unsigned d = 0; d < r->t->nvms; d++)
			if (r->fifo[s][d].head != NULL)
				return true;
	return false;
}

static bool
held_for(const struct vs_relay *r, unsigned d)
{
	for (unsigned s = 0; s < r->t->nvms; s++)
		if (r->fifo[s][d].head != NULL)
			return true;
	return false;
}

bool
vs_relay_blocked(const struct vs_relay *r)
{
	for (unsigned s = 0; s < r->t->nvms; s++)
		if (r->blocked_on[s] >= 0)
			return true;
	return false;
}

bool
vs_relay_tick(struct vs_relay *r)
{
	for (unsigned d = 0; d < r->t->nvms; d++) {
		if (blocked_count(r, d) == 0 || !held_for(r, d))
			continue;
		if (r->ops->queue(r->ctx, d, VS_RXQ) == NULL) {
			drop_for(r, d);
		} else if (r->stall_ms != 0 && r->waiting_since[d] != 0 &&
		    r->now_ms - r->waiting_since[d] >= r->stall_ms) {
			r->stuck[d] = true;
			drop_for(r, d);
		}
	}
	return vs_relay_blocked(r);
}

void
vs_relay_flush(struct vs_relay *r)
{
	uint64_t m;

	for (m = r->notify_rx; m != 0; m &= m - 1)
		r->ops->notify(r->ctx, (unsigned)__builtin_ctzll(m), VS_RXQ);
	for (m = r->notify_tx; m != 0; m &= m - 1)
		r->ops->notify(r->ctx, (unsigned)__builtin_ctzll(m), VS_TXQ);
	r->notify_rx = r->notify_tx = 0;
}
