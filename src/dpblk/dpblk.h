/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpblk: the block protocol over a dataport, between a "host" (the disk
 * daemon, serving a client VM's /dev/vda) and a "driver" (the program
 * dataport_sata_backend in the driver VM, which owns the storage).  It
 * replaces the seed's one-request-at-a-time 8 KiB dataport with a ring of
 * requests, real capacity, flush, errors and restarts on either side.
 * docs/driver-vm.md describes it for humans; this header is the contract.
 *
 * Layout of the dataport's memory (all fields little-endian; both sides
 * are x86):
 *
 *   0      struct dpb_shared: the header, one 4 KiB page; its host part,
 *          its driver part and each side's indices on separate cache lines
 *   4096   the request ring: ring_size x struct dpb_req (written by the host)
 *   ...    the response ring: ring_size x struct dpb_rsp (by the driver)
 *   data   ring_size data slots of slot_size bytes, 4 KiB aligned: request
 *          k (k = its ring index, counting from 0 since the host's current
 *          generation began) carries its data in slot k % ring_size, in
 *          both directions (write data from the host, read data from the
 *          driver).
 *
 * The host lays the memory out (dpb_layout) and starts a generation:
 * host_state 0, then magic, version, sizes, gen + 1, req_prod 0, then
 * host_state 1, then it rings the driver.  The driver answers a new
 * generation by setting its rsp_prod to 0, writing the capacity (512-byte
 * sectors) and its flags, then drv_gen = gen and drv_state 1, and rings
 * the host.  Requests flow only while drv_gen == host_gen.
 *
 * Requests: the host fills dpb_req k (and slot k for a write), then
 * req_prod = k + 1 (release), then rings.  The driver serves requests in
 * order, writes dpb_rsp k (same id; status; bytes done), then rsp_prod =
 * k + 1 (release), and rings after a batch.  A driver that restarts finds
 * its position in rsp_prod and serves on from there: a request it was in
 * the middle of is done again (reads, writes and flushes are idempotent).
 * A host that restarts starts a new generation; the driver abandons the
 * old one between two requests, so no write of the old generation can
 * land after one of the new.
 *
 * Trust: neither side trusts the other.  Every index, size and field read
 * from the shared memory is read once into a local and checked (the
 * dpb_check_* functions): ring distances bounded by ring_size, ops known,
 * lengths within a slot and whole sectors, sector ranges within the
 * capacity, response ids matching the request.  A violation puts that one
 * connection into an error state; it never makes either side touch memory
 * outside the dataport or outside its own storage.
 *
 * Pure: no I/O.  Errors: 0 / -1 with a static reason in *why.
 */
#ifndef ISLES_DPBLK_H
#define ISLES_DPBLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPB_MAGIC	0x31424450534c5349ull	/* "ISLSPDB1" */
#define DPB_VERSION	1
#define DPB_SECTOR	512u
#define DPB_HDR_SIZE	4096u
#define DPB_MIN_SLOT	4096u
#define DPB_MAX_SLOT	(1u << 20)
#define DPB_MAX_RING	256u

enum dpb_op { DPB_OP_READ = 1, DPB_OP_WRITE = 2, DPB_OP_FLUSH = 3 };
enum dpb_status { DPB_S_OK = 0, DPB_S_IOERR = 1, DPB_S_RANGE = 2,
	DPB_S_BADREQ = 3, DPB_S_RO = 4 };

#define DPB_DRV_RO	0x1u	/* the driver refuses writes */

struct dpb_shared {
	/* host part (cache line 0) */
	uint64_t magic;
	uint32_t version;
	uint32_t ring_size;	/* entries, a power of two */
	uint32_t slot_size;	/* bytes, a multiple of 4 KiB */
	uint32_t host_gen;	/* +1 at each (re)start of the host */
	uint32_t host_state;	/* 0 starting, 1 ready */
	uint32_t pad0[9];
	/* host index (cache line 1) */
	uint32_t req_prod;
	uint32_t pad1[15];
	/* driver part (cache line 2) */
	uint64_t capacity;	/* sectors of the driver's storage */
	uint32_t drv_flags;	/* DPB_DRV_* */
	uint32_t drv_gen;	/* = host_gen once the driver follows it */
	uint32_t drv_state;	/* 0 none, 1 ready */
	uint32_t drv_starts;	/* +1 at each start of a driver */
	uint32_t pad2[10];
	/* driver index (cache line 3) */
	uint32_t rsp_prod;
	uint32_t pad3[15];
};

struct dpb_req {
	uint64_t id;		/* the host's; echoed in the response */
	uint32_t op;		/* enum dpb_op */
	uint32_t len;		/* bytes (READ, WRITE), <= slot_size */
	uint64_t sector;
	uint64_t pad;
};

struct dpb_rsp {
	uint64_t id;
	uint32_t status;	/* enum dpb_status */
	uint32_t len;		/* bytes done */
};

/* Where things are in a dataport of `size` bytes (both sides compute it). */
struct dpb_layout {
	uint32_t ring_size, slot_size;
	uint64_t req_off, rsp_off, data_off, size;
};

/*
 * The layout the host uses for a dataport of size bytes: slots of
 * slot_size (0: 64 KiB), as many as fit, a power of two up to
 * DPB_MAX_RING (at least 2).  Returns 0, or -1 (the dataport is too small
 * for two slots and the rings).
 */
int dpb_layout(uint64_t size, uint32_t slot_size, struct dpb_layout *l,
    const char **why);

/*
 * The driver's check of the header the host wrote: magic, version, a
 * ring_size and slot_size that are legal and whose layout fits size.
 * Fills l.  Returns 0 or -1.
 */
int dpb_check_layout(const struct dpb_shared *copy, uint64_t size,
    struct dpb_layout *l, const char **why);

/*
 * Requests the other side published and we have not consumed: prod -
 * cons, which must be at most ring_size (else -1: a hostile or broken
 * peer).
 */
int dpb_pending(uint32_t prod, uint32_t cons, uint32_t ring_size,
    uint32_t *n, const char **why);

/*
 * The driver's check of a request (a copy): known op, length a whole
 * number of sectors within slot_size (0 only for FLUSH), sector range
 * within capacity without overflow, no write to read-only storage.
 * Returns DPB_S_OK or the status to answer it with.
 */
enum dpb_status dpb_check_req(const struct dpb_req *r, uint64_t capacity,
    uint32_t slot_size, bool readonly, const char **why);

/*
 * The host's check of a response (a copy) against the request it sent:
 * same id, a known status, len equal to the request's for OK.  Returns 0
 * or -1.
 */
int dpb_check_rsp(const struct dpb_rsp *rsp, const struct dpb_req *sent,
    const char **why);

/* Pointers into a mapped dataport at base laid out as l. */
struct dpb_req *dpb_req_at(void *base, const struct dpb_layout *l,
    uint32_t k);
struct dpb_rsp *dpb_rsp_at(void *base, const struct dpb_layout *l,
    uint32_t k);
uint8_t *dpb_slot_at(void *base, const struct dpb_layout *l, uint32_t k);

#endif
