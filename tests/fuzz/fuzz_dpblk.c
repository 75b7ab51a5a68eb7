/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the dataport block protocol (src/dpblk), both sides of it
 * against a hostile peer.  The input is the dataport's size, what the
 * peer wrote into its header and rings, and the capacity the driver
 * reports.  As the driver (dataport_sata_backend) we check the host's
 * header and serve the requests it published; as the host (isles-diskd's
 * dataport store) we lay the memory out and check the driver's
 * responses.  Whatever the checks let through must stay inside the
 * dataport and the storage: ring entries and data slots inside the
 * mapped size, sector ranges inside the capacity, response lengths equal
 * to what was asked.
 */
#include <string.h>

#include "dpblk/dpblk.h"
#include "tests/fuzz/fuzz.h"

#define MAX_IMG	(DPB_HDR_SIZE + DPB_MAX_RING * (sizeof(struct dpb_req) + \
	sizeof(struct dpb_rsp)))

static uint8_t mem[MAX_IMG] __attribute__((aligned(4096)));

static void
check_in(const void *p, size_t len, const struct dpb_layout *l)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)mem;

	FUZZ_CHECK((uintptr_t)p >= (uintptr_t)mem);
	FUZZ_CHECK(len <= l->size && off <= l->size - len);
}

/* The driver: the host's header, then every request it published. */
static void
driver_side(uint64_t size, uint64_t capacity, bool ro, uint32_t cons)
{
	struct dpb_shared copy;
	struct dpb_layout l;
	const char *why = NULL;
	uint32_t n;

	memcpy(&copy, mem, sizeof(copy));
	if (dpb_check_layout(&copy, size, &l, &why) < 0) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(l.ring_size >= 2 && l.ring_size <= DPB_MAX_RING);
	FUZZ_CHECK(l.req_off >= DPB_HDR_SIZE && l.rsp_off >= l.req_off +
	    (uint64_t)l.ring_size * sizeof(struct dpb_req));
	FUZZ_CHECK(l.data_off % 4096 == 0 && l.data_off >= l.rsp_off +
	    (uint64_t)l.ring_size * sizeof(struct dpb_rsp));
	FUZZ_CHECK(l.data_off + (uint64_t)l.ring_size * l.slot_size <= size);
	if (dpb_pending(copy.req_prod, cons, l.ring_size, &n, &why) < 0)
		return;
	FUZZ_CHECK(n <= l.ring_size);
	for (uint32_t k = cons; k != cons + n; k++) {
		const struct dpb_req *rq = dpb_req_at(mem, &l, k);
		struct dpb_req r;
		enum dpb_status s;

		check_in(rq, sizeof(*rq), &l);
		check_in(dpb_rsp_at(mem, &l, k), sizeof(struct dpb_rsp), &l);
		/* Entries beyond what the input gave read as zeros. */
		if ((uintptr_t)rq + sizeof(r) <= (uintptr_t)mem + sizeof(mem))
			memcpy(&r, rq, sizeof(r));
		else
			memset(&r, 0, sizeof(r));
		s = dpb_check_req(&r, capacity, l.slot_size, ro, &why);
		if (s != DPB_S_OK) {
			FUZZ_CHECK(s == DPB_S_BADREQ || s == DPB_S_RANGE ||
			    s == DPB_S_RO);
			continue;
		}
		if (r.op == DPB_OP_FLUSH) {
			FUZZ_CHECK(r.len == 0);
			continue;
		}
		FUZZ_CHECK(r.op == DPB_OP_READ ||
		    (r.op == DPB_OP_WRITE && !ro));
		FUZZ_CHECK(r.len > 0 && r.len % DPB_SECTOR == 0 &&
		    r.len <= l.slot_size);
		FUZZ_CHECK(r.sector <= capacity &&
		    r.len / DPB_SECTOR <= capacity - r.sector);
		/* The slot (its address only: beyond the image). */
		check_in(dpb_slot_at(mem, &l, k), r.len, &l);
	}
}

/* The host: its own layout, then the driver's responses. */
static void
host_side(struct fuzz_in *in, uint64_t size, uint32_t slot)
{
	struct dpb_layout l;
	const char *why = NULL;
	uint32_t n, cons = fuzz_u32(in), prod = fuzz_u32(in);

	if (dpb_layout(size, slot, &l, &why) < 0) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(l.ring_size >= 2 && l.ring_size <= DPB_MAX_RING &&
	    (l.ring_size & (l.ring_size - 1)) == 0);
	FUZZ_CHECK(l.data_off + (uint64_t)l.ring_size * l.slot_size <= size);
	/* What the host writes, the driver must accept. */
	{
		struct dpb_shared h = { .magic = DPB_MAGIC,
		    .version = DPB_VERSION, .ring_size = l.ring_size,
		    .slot_size = l.slot_size };
		struct dpb_layout l2;

		FUZZ_CHECK(dpb_check_layout(&h, size, &l2, &why) == 0);
		FUZZ_CHECK(memcmp(&l, &l2, sizeof(l)) == 0);
	}
	if (dpb_pending(prod, cons, l.ring_size, &n, &why) < 0) {
		FUZZ_CHECK((uint32_t)(prod - cons) > l.ring_size);
		return;
	}
	for (uint32_t k = cons; k != cons + n && in->n > 0; k++) {
		struct dpb_req sent = { .id = fuzz_u64(in),
		    .op = fuzz_u8(in) % 4, .len = fuzz_u32(in) };
		struct dpb_rsp r = { .id = fuzz_u8(in) & 1 ? sent.id :
		    fuzz_u64(in), .status = fuzz_u32(in) % 8,
		    .len = fuzz_u8(in) & 1 ? sent.len : fuzz_u32(in) };

		check_in(dpb_rsp_at(mem, &l, k), sizeof(r), &l);
		if (dpb_check_rsp(&r, &sent, &why) == 0) {
			FUZZ_CHECK(r.id == sent.id && r.status <= DPB_S_RO);
			FUZZ_CHECK(r.status != DPB_S_OK || r.len == sent.len);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	/* Dataports are 4 KiB to 1 GiB (SC_MIN/MAX_DATAPORT); any size here. */
	uint64_t dsize = fuzz_u64(&in) % ((1ull << 30) + 8192);
	uint64_t capacity = fuzz_u64(&in);
	uint32_t slot = fuzz_u32(&in), cons = fuzz_u32(&in);
	size_t k;

	if (flags & 2)
		capacity %= 1u << 20;
	memset(mem, 0, sizeof(mem));
	/* The image's length first, so the host part after it is found. */
	k = fuzz_u16(&in);
	if (k > in.n)
		k = in.n;
	if (k > sizeof(mem))
		k = sizeof(mem);
	/* Header first, then the ring entries. */
	memcpy(mem, in.p, k < sizeof(struct dpb_shared) ? k :
	    sizeof(struct dpb_shared));
	if (k > sizeof(struct dpb_shared))
		memcpy(mem + DPB_HDR_SIZE, in.p + sizeof(struct dpb_shared),
		    k - sizeof(struct dpb_shared) < sizeof(mem) - DPB_HDR_SIZE ?
		    k - sizeof(struct dpb_shared) : sizeof(mem) - DPB_HDR_SIZE);
	if (flags & 4) {
		/* A header the driver would accept, so requests are reached. */
		struct dpb_shared *h = (struct dpb_shared *)(void *)mem;

		h->magic = DPB_MAGIC;
		h->version = DPB_VERSION;
	}
	driver_side(dsize, capacity, flags & 1, cons);
	in.p += k;
	in.n -= k;
	host_side(&in, dsize, (flags & 8) ? 0 : slot);
	return 0;
}
