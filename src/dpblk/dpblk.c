/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpblk: see dpblk.h.  Pure: layout arithmetic and checks on copies the
 * callers made of what the other side wrote.
 */
#include "dpblk/dpblk.h"

#include <stddef.h>

_Static_assert(sizeof(struct dpb_shared) == 256, "dpb_shared layout");
_Static_assert(offsetof(struct dpb_shared, req_prod) == 64, "req_prod");
_Static_assert(offsetof(struct dpb_shared, capacity) == 128, "capacity");
_Static_assert(offsetof(struct dpb_shared, rsp_prod) == 192, "rsp_prod");
_Static_assert(sizeof(struct dpb_req) == 32, "dpb_req layout");
_Static_assert(sizeof(struct dpb_rsp) == 16, "dpb_rsp layout");

#define ALIGN4K(x)	(((x) + 4095u) & ~(uint64_t)4095u)

static int
fail(const char **why, const char *s)
{
	if (why != NULL)
		*why = s;
	return -1;
}

/* Lay out ring entries and slots; 0 if it fits in size. */
static int
fit(uint64_t size, uint32_t ring, uint32_t slot, struct dpb_layout *l)
{
	uint64_t req = DPB_HDR_SIZE, rsp, data;

	rsp = req + (uint64_t)ring * sizeof(struct dpb_req);
	data = ALIGN4K(rsp + (uint64_t)ring * sizeof(struct dpb_rsp));
	if (data + (uint64_t)ring * slot > size)
		return -1;
	l->ring_size = ring;
	l->slot_size = slot;
	l->req_off = req;
	l->rsp_off = rsp;
	l->data_off = data;
	l->size = size;
	return 0;
}

static bool
pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int
dpb_layout(uint64_t size, uint32_t slot_size, struct dpb_layout *l,
    const char **why)
{
	uint32_t ring;

	if (slot_size == 0)
		slot_size = 64u << 10;
	if (slot_size < DPB_MIN_SLOT || slot_size > DPB_MAX_SLOT ||
	    slot_size % 4096 != 0)
		return fail(why, "slot size is not 4 KiB to 1 MiB in 4 KiB");
	for (ring = DPB_MAX_RING; ring >= 2; ring /= 2)
		if (fit(size, ring, slot_size, l) == 0)
			return 0;
	return fail(why, "dataport too small for two slots and the rings");
}

int
dpb_check_layout(const struct dpb_shared *c, uint64_t size,
    struct dpb_layout *l, const char **why)
{
	if (c->magic != DPB_MAGIC)
		return fail(why, "no block protocol header (magic)");
	if (c->version != DPB_VERSION)
		return fail(why, "unknown block protocol version");
	if (!pow2(c->ring_size) || c->ring_size < 2 ||
	    c->ring_size > DPB_MAX_RING)
		return fail(why, "ring size not a power of two from 2 to 256");
	if (c->slot_size < DPB_MIN_SLOT || c->slot_size > DPB_MAX_SLOT ||
	    c->slot_size % 4096 != 0)
		return fail(why, "slot size not 4 KiB to 1 MiB in 4 KiB");
	if (fit(size, c->ring_size, c->slot_size, l) < 0)
		return fail(why, "rings and slots larger than the dataport");
	return 0;
}

int
dpb_pending(uint32_t prod, uint32_t cons, uint32_t ring_size, uint32_t *n,
    const char **why)
{
	uint32_t d = prod - cons;

	if (d > ring_size)
		return fail(why, "ring index ahead by more than the ring");
	*n = d;
	return 0;
}

enum dpb_status
dpb_check_req(const struct dpb_req *r, uint64_t capacity, uint32_t slot_size,
    bool readonly, const char **why)
{
	uint64_t n;

	switch (r->op) {
	case DPB_OP_FLUSH:
		if (r->len != 0) {
			fail(why, "flush with a length");
			return DPB_S_BADREQ;
		}
		return DPB_S_OK;
	case DPB_OP_READ:
	case DPB_OP_WRITE:
		break;
	default:
		fail(why, "unknown op");
		return DPB_S_BADREQ;
	}
	if (r->len == 0 || r->len % DPB_SECTOR != 0 || r->len > slot_size) {
		fail(why, "length not whole sectors within a slot");
		return DPB_S_BADREQ;
	}
	n = r->len / DPB_SECTOR;
	if (r->sector > capacity || n > capacity - r->sector) {
		fail(why, "sectors past the end of the storage");
		return DPB_S_RANGE;
	}
	if (r->op == DPB_OP_WRITE && readonly) {
		fail(why, "write to read-only storage");
		return DPB_S_RO;
	}
	return DPB_S_OK;
}

int
dpb_check_rsp(const struct dpb_rsp *rsp, const struct dpb_req *sent,
    const char **why)
{
	if (rsp->id != sent->id)
		return fail(why, "response to another request");
	if (rsp->status > DPB_S_RO)
		return fail(why, "unknown status");
	if (rsp->status == DPB_S_OK && rsp->len != sent->len)
		return fail(why, "done, but not the whole length");
	return 0;
}

struct dpb_req *
dpb_req_at(void *base, const struct dpb_layout *l, uint32_t k)
{
	return (struct dpb_req *)((uint8_t *)base + l->req_off) +
	    (k & (l->ring_size - 1));
}

struct dpb_rsp *
dpb_rsp_at(void *base, const struct dpb_layout *l, uint32_t k)
{
	return (struct dpb_rsp *)((uint8_t *)base + l->rsp_off) +
	    (k & (l->ring_size - 1));
}

uint8_t *
dpb_slot_at(void *base, const struct dpb_layout *l, uint32_t k)
{
	return (uint8_t *)base + l->data_off +
	    (uint64_t)(k & (l->ring_size - 1)) * l->slot_size;
}
