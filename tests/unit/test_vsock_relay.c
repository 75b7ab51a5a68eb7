/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/vsockd/vs_relay.c, the isles-vsockd data path, on
 * split virtqueues laid out in plain buffers standing for three guests'
 * memory (vm0 CID 3, vm1 CID 4, vm2 CID 5; rules vm0 -> vm1:1234 and
 * vm2 -> vm1:1234).  Checked: a packet crosses with its header intact
 * (the header split over descriptors, Linux 6.1's two-descriptor receive
 * buffers); payload split over small receive buffers (every piece its
 * own len, SEQPACKET end-of-message flags only on the last piece);
 * packets for a VM without receive buffers are held and delivered in
 * order when buffers come, the rest of a partly delivered packet too;
 * the per-pair bound stops the sender (its chain given back to its ring,
 * nothing dropped) and the sender resumes when the FIFO drained to half;
 * RSTs for refused requests (unknown CID, to self, policy), drops for
 * refused other packets, RSTs for packets to a VM that is down; every
 * header rule refused and counted on the sender; hostile rings (a
 * readable or too small receive buffer, a looping transmit chain) break
 * only their own VM's queue; a VM that never reads is declared stuck
 * after the stall time (held packets dropped, the sender told with one
 * RST per connection, later packets answered with RSTs until it posts a
 * buffer); a device that goes away; round-robin between senders; a VM
 * flooding refused requests without reading blocks only itself.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vsockd/vs_relay.h"

#define NVM		3
#define MEM_SIZE	(8u << 20)
#define QNUM		256u
#define QBASE(qi)	((uint64_t)(qi) * 0x4000u)
#define BUF_GPA		0x10000u
#define PORT		1234u

struct tguest {
	uint8_t *mem;
	struct vu_mem vm;
	struct vq q[2];			/* device side: VS_RXQ, VS_TXQ */
	uint16_t avail_idx[2], next_desc[2], used_seen[2];
	uint64_t brk;
	bool ready[2];
	bool seq;
	unsigned notified[2];
	unsigned broken[2];
	/* What each posted receive chain is, by head. */
	unsigned rx_ndesc[QNUM];
	uint64_t rx_gpa[QNUM][2];
	uint32_t rx_len[QNUM][2];
};

static struct tguest *g[NVM];
static struct vs_table tab;
static struct vs_relay relay;

/* ---- the relay's ops over the test guests ---- */

static struct vq *
t_queue(void *ctx, unsigned vm, unsigned qi)
{
	struct tguest *x = g[vm];

	if (qi > VS_TXQ || !x->ready[qi] || x->q[qi].broken)
		return NULL;
	return &x->q[qi];
}

static void
t_notify(void *ctx, unsigned vm, unsigned qi)
{
	g[vm]->notified[qi]++;
}

static void
t_broken(void *ctx, unsigned vm, unsigned qi, const char *why)
{
	g[vm]->q[qi].broken = true;
	g[vm]->broken[qi]++;
}

static bool
t_seqpacket(void *ctx, unsigned vm)
{
	return g[vm]->seq;
}

static const struct vs_ops t_ops = {
	t_queue, t_notify, t_broken, t_seqpacket,
};

/* ---- guest (driver) side ---- */

static struct vq_desc *
desc(struct tguest *x, unsigned qi, unsigned i)
{
	return (struct vq_desc *)(x->mem + QBASE(qi)) + i;
}

static struct vq_avail *
avail(struct tguest *x, unsigned qi)
{
	return (struct vq_avail *)(x->mem + QBASE(qi) + 0x1000);
}

static struct vq_used *
used(struct tguest *x, unsigned qi)
{
	return (struct vq_used *)(x->mem + QBASE(qi) + 0x2000);
}

static uint64_t
galloc(struct tguest *x, uint64_t len)
{
	uint64_t a = x->brk;

	x->brk += (len + 63) & ~63ull;
	assert_true(x->brk <= MEM_SIZE);
	return a;
}

static struct tguest *
guest_new(void)
{
	struct tguest *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->mem = calloc(1, MEM_SIZE);
	assert_non_null(x->mem);
	x->vm.n = 1;
	x->vm.r[0].gpa = 0;
	x->vm.r[0].size = MEM_SIZE;
	x->vm.r[0].host = x->mem;
	for (unsigned qi = 0; qi < 2; qi++) {
		x->q[qi].mem = &x->vm;
		assert_int_equal(vq_set_rings(&x->q[qi], &x->vm, QNUM,
		    QBASE(qi), QBASE(qi) + 0x1000, QBASE(qi) + 0x2000), 0);
		assert_int_equal(vq_start(&x->q[qi], NULL), 0);
		x->ready[qi] = true;
	}
	x->brk = BUF_GPA;
	return x;
}

/* Post a chain of n descriptors and publish it; returns its head. */
static uint16_t
post(struct tguest *x, unsigned qi, unsigned n, const uint64_t *addr,
    const uint32_t *len, uint16_t flags)
{
	uint16_t head = x->next_desc[qi];

	for (unsigned i = 0; i < n; i++) {
		struct vq_desc *d = desc(x, qi, x->next_desc[qi]);

		d->addr = addr[i];
		d->len = len[i];
		d->flags = flags | (i + 1 < n ? VQ_DESC_F_NEXT : 0);
		d->next = (uint16_t)((x->next_desc[qi] + 1) % QNUM);
		x->next_desc[qi] = (uint16_t)((x->next_desc[qi] + 1) % QNUM);
	}
	avail(x, qi)->ring[x->avail_idx[qi] % QNUM] = head;
	x->avail_idx[qi]++;
	avail(x, qi)->idx = x->avail_idx[qi];
	return head;
}

/* count receive buffers of `size` payload bytes, Linux 6.1's layout
 * (a 44-byte header descriptor, then the payload descriptor). */
static void
rx_post(struct tguest *x, unsigned count, uint32_t size)
{
	for (unsigned i = 0; i < count; i++) {
		uint64_t a[2] = { galloc(x, VS_HDR_LEN), galloc(x, size) };
		uint32_t l[2] = { VS_HDR_LEN, size };
		uint16_t h = post(x, VS_RXQ, 2, a, l, VQ_DESC_F_WRITE);

		x->rx_ndesc[h] = 2;
		memcpy(x->rx_gpa[h], a, sizeof(a));
		memcpy(x->rx_len[h], l, sizeof(l));
	}
}

/* The next received packet: header, payload into buf; false if none. */
static bool
rx_take(struct tguest *x, struct vs_hdr *h, uint8_t *buf, uint32_t *plen)
{
	struct vq_used *u = used(x, VS_RXQ);
	uint8_t flat[VS_HDR_LEN + 65536];
	uint32_t id, len, have = 0;

	if (u->idx == x->used_seen[VS_RXQ])
		return false;
	id = u->ring[x->used_seen[VS_RXQ] % QNUM].id;
	len = u->ring[x->used_seen[VS_RXQ] % QNUM].len;
	x->used_seen[VS_RXQ]++;
	assert_true(id < QNUM && x->rx_ndesc[id] > 0);
	for (unsigned i = 0; i < x->rx_ndesc[id] && have < len; i++) {
		uint32_t k = x->rx_len[id][i] < len - have ?
		    x->rx_len[id][i] : len - have;

		memcpy(flat + have, x->mem + x->rx_gpa[id][i], k);
		have += k;
	}
	assert_true(len >= VS_HDR_LEN);
	vs_hdr_decode(flat, h);
	assert_int_equal(h->len, len - VS_HDR_LEN);
	if (buf != NULL)
		memcpy(buf, flat + VS_HDR_LEN, h->len);
	if (plen != NULL)
		*plen = h->len;
	return true;
}

/* Transmit a packet; the header split at `split` over two descriptors
 * (0: header and payload in one descriptor). */
static uint16_t
tx_send_split(struct tguest *x, const struct vs_hdr *h, const uint8_t *pay,
    uint32_t plen, unsigned split)
{
	uint8_t raw[VS_HDR_LEN];
	uint64_t a[3];
	uint32_t l[3];
	unsigned n = 0;

	vs_hdr_encode(h, raw);
	if (split == 0) {
		a[0] = galloc(x, VS_HDR_LEN + plen);
		memcpy(x->mem + a[0], raw, VS_HDR_LEN);
		if (plen)
			memcpy(x->mem + a[0] + VS_HDR_LEN, pay, plen);
		l[0] = VS_HDR_LEN + plen;
		n = 1;
	} else {
		a[0] = galloc(x, split);
		a[1] = galloc(x, VS_HDR_LEN - split);
		memcpy(x->mem + a[0], raw, split);
		memcpy(x->mem + a[1], raw + split, VS_HDR_LEN - split);
		l[0] = split;
		l[1] = VS_HDR_LEN - split;
		n = 2;
		if (plen) {
			a[2] = galloc(x, plen);
			memcpy(x->mem + a[2], pay, plen);
			l[2] = plen;
			n = 3;
		}
	}
	return post(x, VS_TXQ, n, a, l, 0);
}

static uint16_t
tx_send(struct tguest *x, const struct vs_hdr *h, const uint8_t *pay,
    uint32_t plen)
{
	return tx_send_split(x, h, pay, plen, 0);
}

/* Transmit chains consumed so far. */
static uint16_t
tx_done(struct tguest *x)
{
	return used(x, VS_TXQ)->idx;
}

static struct vs_hdr
mkhdr(unsigned from, unsigned to, uint32_t sport, uint32_t dport,
    uint16_t op, uint32_t len)
{
	struct vs_hdr h = {
		.src_cid = 3 + from, .dst_cid = 3 + to, .src_port = sport,
		.dst_port = dport, .len = len, .type = VS_TYPE_STREAM,
		.op = op, .buf_alloc = 262144, .fwd_cnt = 77,
	};

	return h;
}

static void
pattern(uint8_t *p, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static int
setup(void **state)
{
	vs_table_init(&tab);
	assert_int_equal(vs_table_add_vm(&tab, "vm0", 3), 0);
	assert_int_equal(vs_table_add_vm(&tab, "vm1", 4), 1);
	assert_int_equal(vs_table_add_vm(&tab, "vm2", 5), 2);
	assert_int_equal(vs_table_add_rule(&tab, 0, 1, PORT), 0);
	assert_int_equal(vs_table_add_rule(&tab, 2, 1, PORT), 0);
	vs_table_seal(&tab);
	for (unsigned i = 0; i < NVM; i++)
		g[i] = guest_new();
	vs_relay_init(&relay, &tab, &t_ops, NULL, VS_HOLD_MIN, 5000);
	relay.now_ms = 1000;
	return 0;
}

static int
teardown(void **state)
{
	vs_relay_close(&relay);
	for (unsigned i = 0; i < NVM; i++) {
		free(g[i]->mem);
		free(g[i]);
	}
	return 0;
}

static void
run_tx(unsigned vm)
{
	do {
		vs_relay_tx(&relay, vm, VS_TX_BUDGET);
	} while (relay.want_tx[vm]);
	vs_relay_flush(&relay);
}

static void
assert_hdr(const struct vs_hdr *a, const struct vs_hdr *b)
{
	assert_int_equal(a->src_cid, b->src_cid);
	assert_int_equal(a->dst_cid, b->dst_cid);
	assert_int_equal(a->src_port, b->src_port);
	assert_int_equal(a->dst_port, b->dst_port);
	assert_int_equal(a->len, b->len);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->buf_alloc, b->buf_alloc);
	assert_int_equal(a->fwd_cnt, b->fwd_cnt);
}

static void
test_deliver(void **state)
{
	static uint8_t pay[4096], got[65536];
	struct vs_hdr h, r;
	uint32_t n;

	rx_post(g[1], 8, 4096);
	rx_post(g[0], 8, 4096);
	h = mkhdr(0, 1, 50000, PORT, VS_OP_REQUEST, 0);
	tx_send_split(g[0], &h, NULL, 0, 20);
	run_tx(0);
	assert_int_equal(tx_done(g[0]), 1);
	assert_true(rx_take(g[1], &r, NULL, NULL));
	assert_hdr(&r, &h);
	assert_true(g[1]->notified[VS_RXQ] >= 1);
	assert_true(g[0]->notified[VS_TXQ] >= 1);

	/* The server answers from its port: allowed the other way. */
	h = mkhdr(1, 0, PORT, 50000, VS_OP_RESPONSE, 0);
	tx_send(g[1], &h, NULL, 0);
	run_tx(1);
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_hdr(&r, &h);

	/* Data, header in two pieces, payload in a third descriptor. */
	pattern(pay, sizeof(pay), 1);
	h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
	tx_send_split(g[0], &h, pay, sizeof(pay), 7);
	run_tx(0);
	assert_true(rx_take(g[1], &r, got, &n));
	assert_hdr(&r, &h);
	assert_int_equal(n, sizeof(pay));
	assert_memory_equal(got, pay, sizeof(pay));
	assert_false(rx_take(g[1], &r, NULL, NULL));
	assert_false(rx_take(g[2], &r, NULL, NULL));

	assert_int_equal(tab.pair[0][1].packets, 2);
	assert_int_equal(tab.pair[0][1].bytes, sizeof(pay));
	assert_int_equal(tab.pair[1][0].packets, 1);
	assert_int_equal(tab.vms[0].c.tx_packets, 2);
	assert_int_equal(tab.vms[1].c.rx_packets, 2);
	assert_false(vs_relay_holding(&relay));
}

static void
test_split(void **state)
{
	static uint8_t pay[2500], got[65536], all[2500];
	struct vs_hdr h, r;
	uint32_t n, have = 0;

	rx_post(g[1], 8, 1000);
	pattern(pay, sizeof(pay), 2);
	h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
	tx_send(g[0], &h, pay, sizeof(pay));
	run_tx(0);
	for (unsigned i = 0; i < 3; i++) {
		assert_true(rx_take(g[1], &r, got, &n));
		assert_int_equal(n, i < 2 ? 1000 : 500);
		assert_int_equal(r.src_port, 50000);
		assert_int_equal(r.dst_port, PORT);
		assert_int_equal(r.op, VS_OP_RW);
		memcpy(all + have, got, n);
		have += n;
	}
	assert_memory_equal(all, pay, sizeof(pay));
	assert_false(rx_take(g[1], &r, NULL, NULL));
	/* One packet for the pair, three in the receive queue. */
	assert_int_equal(tab.pair[0][1].packets, 1);
	assert_int_equal(tab.vms[1].c.rx_packets, 3);

	/* SEQPACKET: the end-of-message flags only on the last piece. */
	g[0]->seq = g[1]->seq = true;
	h.type = VS_TYPE_SEQPACKET;
	h.flags = VS_SEQ_EOM | VS_SEQ_EOR;
	tx_send(g[0], &h, pay, sizeof(pay));
	run_tx(0);
	for (unsigned i = 0; i < 3; i++) {
		assert_true(rx_take(g[1], &r, NULL, &n));
		assert_int_equal(r.type, VS_TYPE_SEQPACKET);
		assert_int_equal(r.flags, i < 2 ? 0 : VS_SEQ_EOM | VS_SEQ_EOR);
	}
	/* SEQPACKET to a VM that did not negotiate it: a RST back. */
	g[1]->seq = false;
	rx_post(g[0], 2, 4096);
	tx_send(g[0], &h, pay, 100);
	h.len = 100;
	tx_send(g[0], &h, pay, 100);
	run_tx(0);
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.type, VS_TYPE_SEQPACKET);
	/* The first was malformed (len 2500 with 100 bytes): no answer. */
	assert_false(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(tab.vms[0].c.drops[VS_MALFORMED], 1);
	assert_int_equal(tab.pair[0][1].refused[VS_NO_SEQPACKET], 1);
}

static void
test_hold_in_order(void **state)
{
	static uint8_t pay[1024], got[65536];
	struct vs_hdr h, r;
	uint32_t n;

	/* vm1 has no receive buffers: everything is held, nothing lost. */
	for (uint32_t i = 0; i < 3; i++) {
		pattern(pay, sizeof(pay), i);
		h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
		tx_send(g[0], &h, pay, sizeof(pay));
	}
	run_tx(0);
	assert_int_equal(tx_done(g[0]), 3);
	assert_true(vs_relay_holding(&relay));
	assert_int_equal(tab.pair[0][1].held_bytes, 3 * (VS_HDR_LEN + 1024));
	assert_false(vs_relay_blocked(&relay));

	/* One buffer of 500: the first 500 bytes of packet 0 go. */
	rx_post(g[1], 1, 500);
	vs_relay_rx(&relay, 1);
	vs_relay_flush(&relay);
	assert_true(rx_take(g[1], &r, got, &n));
	assert_int_equal(n, 500);
	pattern(pay, sizeof(pay), 0);
	assert_memory_equal(got, pay, 500);
	assert_int_equal(tab.pair[0][1].held_bytes,
	    3 * (VS_HDR_LEN + 1024) - 500);

	/* A packet sent now queues behind what is held (order). */
	pattern(pay, sizeof(pay), 3);
	h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
	rx_post(g[1], 8, 4096);
	tx_send(g[0], &h, pay, sizeof(pay));
	run_tx(0);
	assert_int_equal(tx_done(g[0]), 4);
	assert_false(rx_take(g[1], &r, NULL, NULL));
	/* The receive kick: the rest of packet 0 first, then 1, 2, 3. */
	vs_relay_rx(&relay, 1);
	assert_true(rx_take(g[1], &r, got, &n));
	assert_int_equal(n, 524);
	pattern(pay, sizeof(pay), 0);
	assert_memory_equal(got, pay + 500, 524);
	for (uint32_t i = 1; i < 4; i++) {
		assert_true(rx_take(g[1], &r, got, &n));
		assert_int_equal(n, 1024);
		pattern(pay, sizeof(pay), i);
		assert_memory_equal(got, pay, 1024);
	}
	assert_false(rx_take(g[1], &r, NULL, NULL));
	assert_false(vs_relay_holding(&relay));
	assert_int_equal(tab.pair[0][1].held_bytes, 0);
	assert_int_equal(tab.pair[0][1].packets, 4);
	assert_int_equal(tab.pair[0][1].lost, 0);
	/* The fourth joined the FIFO with 500 bytes of the first gone. */
	assert_int_equal(tab.pair[0][1].held_max, 4 * (VS_HDR_LEN + 1024) - 500);
}

#define BIG	4096u
#define FIT	(VS_HOLD_MIN / (VS_HDR_LEN + BIG))	/* 31 */

static void
test_backpressure(void **state)
{
	static uint8_t pay[BIG], got[65536];
	struct vs_hdr h, r;
	uint32_t n;

	for (uint32_t i = 0; i < FIT + 9; i++) {
		pattern(pay, sizeof(pay), i);
		h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
		tx_send(g[0], &h, pay, sizeof(pay));
	}
	run_tx(0);
	/* FIT packets taken, the next one given back to the ring. */
	assert_int_equal(tx_done(g[0]), FIT);
	assert_int_equal(g[0]->q[VS_TXQ].last_avail, FIT);
	assert_true(vs_relay_blocked(&relay));
	assert_int_equal(relay.blocked_on[0], 1);
	assert_int_equal(tab.pair[0][1].stalls, 1);
	/* Blocked: kicks do nothing until vm1 reads. */
	run_tx(0);
	assert_int_equal(tx_done(g[0]), FIT);

	/* vm1 takes 20: 11 left, below half: vm0 resumes, the rest queue. */
	rx_post(g[1], 20, BIG);
	vs_relay_rx(&relay, 1);
	assert_false(vs_relay_blocked(&relay));
	assert_true(relay.want_tx[0]);
	run_tx(0);
	assert_int_equal(tx_done(g[0]), FIT + 9);
	rx_post(g[1], 40, BIG);
	vs_relay_rx(&relay, 1);
	for (uint32_t i = 0; i < FIT + 9; i++) {
		assert_true(rx_take(g[1], &r, got, &n));
		assert_int_equal(n, BIG);
		pattern(pay, sizeof(pay), i);
		assert_memory_equal(got, pay, BIG);
	}
	assert_false(rx_take(g[1], &r, NULL, NULL));
	assert_int_equal(tab.pair[0][1].packets, FIT + 9);
	assert_int_equal(tab.pair[0][1].lost, 0);
	assert_true(tab.pair[0][1].held_max <= VS_HOLD_MIN);
	assert_false(vs_relay_holding(&relay));
}

static void
test_refusals(void **state)
{
	struct vs_hdr h, r;

	rx_post(g[0], 16, 4096);
	rx_post(g[1], 16, 4096);
	/* Unknown CID: a RST from that CID, ports swapped. */
	h = mkhdr(0, 1, 50001, PORT, VS_OP_REQUEST, 0);
	h.dst_cid = 99;
	tx_send(g[0], &h, NULL, 0);
	/* To itself. */
	h = mkhdr(0, 0, 50002, PORT, VS_OP_REQUEST, 0);
	tx_send(g[0], &h, NULL, 0);
	/* A port no rule names. */
	h = mkhdr(0, 1, 50003, 22, VS_OP_REQUEST, 0);
	tx_send(g[0], &h, NULL, 0);
	/* vm1 may not connect to vm0, not even from the server port. */
	run_tx(0);
	h = mkhdr(1, 0, PORT, 7, VS_OP_REQUEST, 0);
	tx_send(g[1], &h, NULL, 0);
	run_tx(1);

	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.src_cid, 99);
	assert_int_equal(r.dst_cid, 3);
	assert_int_equal(r.src_port, PORT);
	assert_int_equal(r.dst_port, 50001);
	assert_int_equal(r.len, 0);
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.dst_port, 50002);
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.src_cid, 4);
	assert_int_equal(r.dst_port, 50003);
	assert_false(rx_take(g[0], &r, NULL, NULL));
	assert_true(rx_take(g[1], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.src_cid, 3);
	assert_int_equal(r.dst_cid, 4);
	assert_false(rx_take(g[1], &r, NULL, NULL));

	/* Not a REQUEST, refused by the policy: dropped, not answered. */
	h = mkhdr(0, 1, 50004, 22, VS_OP_RW, 0);
	tx_send(g[0], &h, NULL, 0);
	run_tx(0);
	assert_false(rx_take(g[0], &r, NULL, NULL));
	assert_false(rx_take(g[1], &r, NULL, NULL));

	/* vm1's device down: data for it is answered with a RST, a RST is
	 * not answered. */
	g[1]->ready[VS_RXQ] = false;
	h = mkhdr(0, 1, 50005, PORT, VS_OP_RW, 0);
	tx_send(g[0], &h, NULL, 0);
	h.op = VS_OP_RST;
	tx_send(g[0], &h, NULL, 0);
	run_tx(0);
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.src_cid, 4);
	assert_int_equal(r.dst_port, 50005);
	assert_false(rx_take(g[0], &r, NULL, NULL));

	assert_int_equal(tab.vms[0].c.drops[VS_UNKNOWN_CID], 1);
	assert_int_equal(tab.vms[0].c.drops[VS_TO_SELF], 1);
	assert_int_equal(tab.pair[0][1].refused[VS_POLICY], 2);
	assert_int_equal(tab.pair[1][0].refused[VS_POLICY], 1);
	assert_int_equal(tab.pair[0][1].refused[VS_DST_DOWN], 2);
	assert_int_equal(tab.vms[0].c.rst_sent, 4);
	assert_int_equal(tab.vms[1].c.rst_sent, 1);
	assert_int_equal(tab.pair[0][1].packets, 0);
	assert_int_equal(tx_done(g[0]), 6);
}

static void
test_bad_headers(void **state)
{
	static uint8_t pay[70000];
	struct vs_hdr h, r;
	uint8_t raw[VS_HDR_LEN];
	uint64_t a[2];
	uint32_t l[2];

	rx_post(g[0], 16, 4096);
	rx_post(g[1], 16, 4096);
	h = mkhdr(0, 1, 1, PORT, VS_OP_REQUEST, 0);
	h.src_cid = 5;				/* vm2's: spoofed */
	tx_send(g[0], &h, NULL, 0);
	h = mkhdr(0, 1, 1, PORT, VS_OP_REQUEST, 0);
	h.type = VS_TYPE_SEQPACKET;		/* not negotiated */
	tx_send(g[0], &h, NULL, 0);
	h.type = 3;
	tx_send(g[0], &h, NULL, 0);
	h = mkhdr(0, 1, 1, PORT, VS_OP_INVALID, 0);
	tx_send(g[0], &h, NULL, 0);
	h.op = VS_OP_CREDIT_REQUEST + 1;
	tx_send(g[0], &h, NULL, 0);
	h = mkhdr(0, 1, 1, PORT, VS_OP_RW, 10);	/* len 10, 20 bytes */
	tx_send(g[0], &h, pay, 20);
	h = mkhdr(0, 1, 1, PORT, VS_OP_REQUEST, 8);	/* payload on REQUEST */
	tx_send(g[0], &h, pay, 8);
	h = mkhdr(0, 1, 1, PORT, VS_OP_REQUEST, 0);
	h.flags = 1;
	tx_send(g[0], &h, NULL, 0);
	h = mkhdr(0, 1, 1, PORT, VS_OP_SHUTDOWN, 0);
	h.flags = 4;
	tx_send(g[0], &h, NULL, 0);
	h = mkhdr(0, 1, 1, PORT, VS_OP_RW, sizeof(pay));	/* > 64 KiB */
	tx_send(g[0], &h, pay, sizeof(pay));
	/* Shorter than a header. */
	a[0] = galloc(g[0], 40);
	l[0] = 40;
	post(g[0], VS_TXQ, 1, a, l, 0);
	/* A writable descriptor in a transmit chain. */
	h = mkhdr(0, 1, 1, PORT, VS_OP_REQUEST, 0);
	vs_hdr_encode(&h, raw);
	a[0] = galloc(g[0], VS_HDR_LEN);
	memcpy(g[0]->mem + a[0], raw, VS_HDR_LEN);
	a[1] = galloc(g[0], 64);
	l[0] = VS_HDR_LEN;
	l[1] = 64;
	{
		uint16_t head = g[0]->next_desc[VS_TXQ];

		post(g[0], VS_TXQ, 2, a, l, 0);
		desc(g[0], VS_TXQ, (head + 1) % QNUM)->flags = VQ_DESC_F_WRITE;
	}
	/* And a good one after all that. */
	h = mkhdr(0, 1, 1, PORT, VS_OP_REQUEST, 0);
	tx_send(g[0], &h, NULL, 0);
	run_tx(0);

	assert_int_equal(tx_done(g[0]), 13);
	assert_true(rx_take(g[1], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_REQUEST);
	assert_false(rx_take(g[1], &r, NULL, NULL));
	assert_false(rx_take(g[0], &r, NULL, NULL));	/* never answered */
	assert_int_equal(tab.vms[0].c.drops[VS_SPOOFED], 1);
	assert_int_equal(tab.vms[0].c.drops[VS_BAD_TYPE], 2);
	assert_int_equal(tab.vms[0].c.drops[VS_BAD_OP], 2);
	assert_int_equal(tab.vms[0].c.drops[VS_MALFORMED], 4);
	assert_int_equal(tab.vms[0].c.drops[VS_BAD_LEN], 1);
	assert_int_equal(tab.vms[0].c.drops[VS_BAD_FLAGS], 2);
	assert_int_equal(tab.vms[0].c.tx_packets, 1);
	assert_int_equal(g[0]->broken[VS_TXQ], 0);
}

static void
test_hostile_rings(void **state)
{
	struct vs_hdr h, r;
	uint64_t a;
	uint32_t l;

	/* vm1 posts a readable "receive" buffer: its queue breaks. */
	a = galloc(g[1], 4096);
	l = 4096;
	post(g[1], VS_RXQ, 1, &a, &l, 0);
	rx_post(g[2], 4, 4096);
	rx_post(g[0], 4, 4096);
	h = mkhdr(0, 1, 50000, PORT, VS_OP_REQUEST, 0);
	tx_send(g[0], &h, NULL, 0);
	run_tx(0);
	assert_int_equal(g[1]->broken[VS_RXQ], 1);
	assert_int_equal(tab.pair[0][1].lost, 1);
	/* From now on vm1 is down for the others: a RST answers. */
	tx_send(g[0], &h, NULL, 0);
	run_tx(0);
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	/* Only vm1's receive queue stopped. */
	assert_int_equal(g[1]->broken[VS_TXQ], 0);

	/* A receive buffer with room for a header only, for data: broken. */
	h = mkhdr(2, 1, 50000, PORT, VS_OP_REQUEST, 0);
	g[1]->q[VS_RXQ].broken = false;	/* the guest reset its queue */
	a = galloc(g[1], VS_HDR_LEN);
	l = VS_HDR_LEN;
	post(g[1], VS_RXQ, 1, &a, &l, VQ_DESC_F_WRITE);
	/* A header-only packet fits it... */
	tx_send(g[2], &h, NULL, 0);
	run_tx(2);
	assert_int_equal(g[1]->broken[VS_RXQ], 1);
	{
		static uint8_t pay[100];

		h.op = VS_OP_RW;
		h.len = sizeof(pay);
		a = galloc(g[1], VS_HDR_LEN);
		post(g[1], VS_RXQ, 1, &a, &l, VQ_DESC_F_WRITE);
		/* ...data does not. */
		tx_send(g[2], &h, pay, sizeof(pay));
		run_tx(2);
	}
	assert_int_equal(g[1]->broken[VS_RXQ], 2);
	assert_int_equal(tab.pair[2][1].packets, 1);
	assert_int_equal(tab.pair[2][1].lost, 1);

	/* vm2's transmit ring loops: vm2's queue stops, nobody else's. */
	{
		uint16_t head = g[2]->next_desc[VS_TXQ];
		uint64_t aa[2] = { galloc(g[2], 64), galloc(g[2], 64) };
		uint32_t ll[2] = { 64, 64 };

		post(g[2], VS_TXQ, 2, aa, ll, 0);
		desc(g[2], VS_TXQ, (head + 1) % QNUM)->flags = VQ_DESC_F_NEXT;
		desc(g[2], VS_TXQ, (head + 1) % QNUM)->next = head;
	}
	run_tx(2);
	assert_int_equal(g[2]->broken[VS_TXQ], 1);
	assert_int_equal(tab.vms[2].c.drops[VS_MALFORMED], 1);
	assert_int_equal(g[0]->broken[VS_TXQ] + g[0]->broken[VS_RXQ], 0);
}

static void
test_stuck(void **state)
{
	static uint8_t pay[BIG];
	struct vs_hdr h, r;

	rx_post(g[0], 4, 4096);
	for (uint32_t i = 0; i < FIT + 2; i++) {
		h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
		tx_send(g[0], &h, pay, sizeof(pay));
	}
	run_tx(0);
	assert_true(vs_relay_blocked(&relay));
	relay.now_ms += 4999;
	assert_true(vs_relay_tick(&relay));
	assert_int_equal(tab.pair[0][1].lost, 0);
	relay.now_ms += 1;
	/* vm1 blocked vm0 for 5 s: stuck; what was held is dropped. */
	assert_false(vs_relay_tick(&relay));
	vs_relay_flush(&relay);
	assert_int_equal(tab.pair[0][1].lost, FIT);
	assert_true(relay.want_tx[0]);
	/* vm0 is told once for its connection. */
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.src_cid, 4);
	assert_int_equal(r.dst_port, 50000);
	assert_false(rx_take(g[0], &r, NULL, NULL));
	/* The rest: answered with RSTs while vm1 stays stuck. */
	run_tx(0);
	assert_int_equal(tx_done(g[0]), FIT + 2);
	assert_int_equal(tab.pair[0][1].refused[VS_DST_STUCK], 2);
	assert_true(rx_take(g[0], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_RST);
	/* A kick without a buffer does not clear it; a buffer does. */
	vs_relay_rx(&relay, 1);
	assert_true(relay.stuck[1]);
	rx_post(g[1], 4, 4096);
	vs_relay_rx(&relay, 1);
	assert_false(relay.stuck[1]);
	h = mkhdr(0, 1, 50001, PORT, VS_OP_REQUEST, 0);
	tx_send(g[0], &h, NULL, 0);
	run_tx(0);
	assert_true(rx_take(g[1], &r, NULL, NULL));
	assert_int_equal(r.op, VS_OP_REQUEST);
}

static void
test_down(void **state)
{
	static uint8_t pay[BIG];
	struct vs_hdr h, r;

	rx_post(g[0], 4, 4096);
	for (uint32_t i = 0; i < FIT + 1; i++) {
		h = mkhdr(0, 1, 50000 + (i == 3), PORT, VS_OP_RW, sizeof(pay));
		tx_send(g[0], &h, pay, sizeof(pay));
	}
	run_tx(0);
	assert_true(vs_relay_blocked(&relay));
	/* vm1's front-end goes away. */
	g[1]->ready[VS_RXQ] = g[1]->ready[VS_TXQ] = false;
	vs_relay_down(&relay, 1);
	vs_relay_flush(&relay);
	assert_false(vs_relay_blocked(&relay));
	assert_false(vs_relay_holding(&relay));
	assert_int_equal(tab.pair[0][1].lost, FIT);
	/* One RST per run of one connection: 50000, 50001, 50000. */
	for (unsigned i = 0; i < 3; i++) {
		assert_true(rx_take(g[0], &r, NULL, NULL));
		assert_int_equal(r.op, VS_OP_RST);
		assert_int_equal(r.dst_port, i == 1 ? 50001 : 50000);
	}
	assert_false(rx_take(g[0], &r, NULL, NULL));
	run_tx(0);
	assert_int_equal(tx_done(g[0]), FIT + 1);
	assert_int_equal(tab.pair[0][1].refused[VS_DST_DOWN], 1);
}

static void
test_stopped_destination(void **state)
{
	static uint8_t pay[BIG];
	struct vs_hdr h;

	for (uint32_t i = 0; i < FIT + 1; i++) {
		h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
		tx_send(g[0], &h, pay, sizeof(pay));
	}
	run_tx(0);
	assert_true(vs_relay_blocked(&relay));
	/* vm1's driver stops its queue without a reset: at the next tick,
	 * without waiting for the stall time, the sender is freed. */
	g[1]->ready[VS_RXQ] = false;
	relay.now_ms += 1000;
	assert_false(vs_relay_tick(&relay));
	assert_false(relay.stuck[1]);
	assert_int_equal(tab.pair[0][1].lost, FIT);
	assert_true(relay.want_tx[0]);
}

static void
test_round_robin(void **state)
{
	static uint8_t pay[100];
	struct vs_hdr h, r;

	for (unsigned i = 0; i < 3; i++) {
		h = mkhdr(0, 1, 50000, PORT, VS_OP_RW, sizeof(pay));
		tx_send(g[0], &h, pay, sizeof(pay));
		h = mkhdr(2, 1, 60000, PORT, VS_OP_RW, sizeof(pay));
		tx_send(g[2], &h, pay, sizeof(pay));
	}
	run_tx(0);
	run_tx(2);
	rx_post(g[1], 2, 4096);
	vs_relay_rx(&relay, 1);
	assert_true(rx_take(g[1], &r, NULL, NULL));
	assert_true(rx_take(g[1], &h, NULL, NULL));
	/* One from each sender, not two from the first. */
	assert_true(r.src_cid != h.src_cid);
	rx_post(g[1], 8, 4096);
	vs_relay_rx(&relay, 1);
	for (unsigned i = 0; i < 4; i++)
		assert_true(rx_take(g[1], &r, NULL, NULL));
	assert_false(vs_relay_holding(&relay));
}

static void
test_rst_flood(void **state)
{
	struct vs_hdr h, r;
	unsigned sent = 0, limit = VS_HOLD_MIN / VS_HDR_LEN;

	/* vm0 posts no receive buffers and floods refused requests: its
	 * own answers fill its FIFO and stop it; vm2 is not affected. */
	while (!vs_relay_blocked(&relay) && sent < limit + 200) {
		for (unsigned i = 0; i < 200; i++) {
			h = mkhdr(0, 1, 40000 + sent++, 22, VS_OP_REQUEST, 0);
			tx_send(g[0], &h, NULL, 0);
		}
		run_tx(0);
	}
	assert_true(vs_relay_blocked(&relay));
	assert_int_equal(relay.blocked_on[0], 0);
	assert_int_equal(tx_done(g[0]), limit);
	assert_int_equal(tab.vms[0].c.rst_sent, limit);

	rx_post(g[1], 2, 4096);
	h = mkhdr(2, 1, 60000, PORT, VS_OP_REQUEST, 0);
	tx_send(g[2], &h, NULL, 0);
	run_tx(2);
	assert_true(rx_take(g[1], &r, NULL, NULL));
	assert_int_equal(r.src_cid, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deliver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_rings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_destination, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_round_robin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rst_flood, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
