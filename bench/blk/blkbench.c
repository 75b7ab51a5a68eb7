/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-blkbench: a vhost-user-blk load generator.  It is its own
 * minimal VMM (tests/lib/front.h): memfd guest memory, one split
 * virtqueue, QD requests kept in flight, completions waited for on the
 * call eventfd (blocking poll, like a guest interrupt).  Works against any
 * vhost-user-blk back-end; bench/blk/run.sh compares isles-diskd with
 * qemu-storage-daemon.
 *
 * It drives the ring the way Linux's virtio-blk driver in a QEMU guest
 * does: it negotiates VIRTIO_RING_F_EVENT_IDX and INDIRECT_DESC (both
 * required of the back-end), puts each request (header, data, status) in
 * an indirect table of three descriptors, kicks only when avail_event
 * asks for it, and before sleeping sets used_event to the next
 * completion it has not seen (one interrupt per batch of completions).
 *
 *   isles-blkbench SOCKET randread|seqread|seqwrite BS QD SECONDS
 *                  [FIRST_SECTOR SECTORS]
 *   isles-blkbench --memcpy BS SECONDS
 *   isles-blkbench --wakeup CPU SECONDS
 *
 * Prints one line: mode bs qd ops iops MB/s p50_us p99_us
 * (--memcpy: GB/s of one core copying BS-byte buffers; --wakeup: the
 * round trip of an eventfd to a process on CPU that sleeps in poll() and
 * answers at once, waited for with poll() here: the two cross-CPU
 * wake-ups every back-end pays per request at QD1, with no work).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include "tests/lib/front.h"

#define QSIZE	256
#define T_IN	0
#define T_OUT	1
#define F_INDIRECT_DESC	28
#define F_EVENT_IDX	29

struct slot {
	uint64_t hdr, data, st, table;
	uint64_t t0;
};

/* avail->ring[num] is used_event; used->ring[num] is avail_event. */
static uint16_t *
used_event(struct vf_ring *r)
{
	return &r->avail->ring[r->num];
}

static uint16_t
avail_event(struct vf_ring *r)
{
	return __atomic_load_n((uint16_t *)(void *)&r->used->ring[r->num],
	    __ATOMIC_ACQUIRE);
}

static uint64_t kicks, waits;

/* Publish avail->idx; kick if the back-end's avail_event is in (old, new]. */
static int
publish(struct vf_ring *r, uint16_t old)
{
	uint16_t new = r->avail_idx, ev;
	uint64_t one = 1;

	__atomic_store_n(&r->avail->idx, new, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ev = avail_event(r);
	if ((uint16_t)(new - ev - 1) >= (uint16_t)(new - old))
		return 0;
	kicks++;
	return write(r->kick_fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
cmp32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
memcpy_bench(size_t bs, double secs)
{
	char *a = malloc(bs), *b = malloc(bs);
	uint64_t t0, n = 0, end;

	if (a == NULL || b == NULL)
		return 1;
	memset(a, 1, bs);
	memset(b, 2, bs);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (now_ns() < end) {
		for (int i = 0; i < 64; i++) {
			memcpy(i & 1 ? a : b, i & 1 ? b : a, bs);
			__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
		}
		n += 64;
	}
	printf("memcpy bs=%zu GB/s=%.2f\n", bs,
	    (double)n * (double)bs / ((double)(now_ns() - t0)));
	free(a);
	free(b);
	return 0;
}

static int
pollread(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint64_t v;

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return read(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static int
wakeup_bench(int cpu, double secs)
{
	int ping = eventfd(0, 0), pong = eventfd(0, 0);
	uint64_t one = 1, t0, end, n = 0;
	size_t cap = 1u << 22;
	uint32_t *lat = malloc(cap * sizeof(*lat));
	cpu_set_t set;
	pid_t pid;
	int st;

	if (ping < 0 || pong < 0 || lat == NULL)
		return 1;
	if ((pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			_exit(1);
		while (pollread(ping) == 0)
			if (write(pong, &one, sizeof(one)) != sizeof(one))
				break;
		_exit(0);
	}
	end = now_ns() + (uint64_t)(secs * 1e9);
	while ((t0 = now_ns()) < end && n < cap) {
		if (write(ping, &one, sizeof(one)) != sizeof(one) ||
		    pollread(pong) < 0)
			break;
		lat[n++] = (uint32_t)(now_ns() - t0);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (n == 0)
		return 1;
	qsort(lat, n, sizeof(*lat), cmp32);
	printf("wakeup cpu=%d ops=%llu p50_us=%.1f p99_us=%.1f\n", cpu,
	    (unsigned long long)n, lat[n / 2] / 1000.0,
	    lat[n * 99 / 100] / 1000.0);
	free(lat);
	return 0;
}

int
main(int argc, char **argv)
{
	struct vf_dev d;
	struct vf_ring *r;
	struct slot *sl;
	const char *mode;
	uint64_t cap, first = 64, nsect, seq = 0, ops = 0, t_start, t_end;
	uint32_t *lat;
	size_t nlat = 0, maxlat = 1u << 24;
	unsigned bs, qd, i;
	double secs;
	int write, random;

	if (argc == 4 && strcmp(argv[1], "--memcpy") == 0)
		return memcpy_bench((size_t)atol(argv[2]), atof(argv[3]));
	if (argc == 4 && strcmp(argv[1], "--wakeup") == 0)
		return wakeup_bench(atoi(argv[2]), atof(argv[3]));
	if (argc != 6 && argc != 8) {
		fprintf(stderr, "usage: isles-blkbench SOCKET randread|seqread|"
		    "seqwrite BS QD SECONDS [FIRST_SECTOR SECTORS]\n"
		    "       isles-blkbench --memcpy BS SECONDS\n"
		    "       isles-blkbench --wakeup CPU SECONDS\n");
		return 2;
	}
	mode = argv[2];
	bs = (unsigned)atoi(argv[3]);
	qd = (unsigned)atoi(argv[4]);
	secs = atof(argv[5]);
	write = strcmp(mode, "seqwrite") == 0;
	random = strcmp(mode, "randread") == 0;
	if (bs == 0 || bs % 512 || qd == 0 || qd * 3 > QSIZE) {
		fprintf(stderr, "blkbench: bad bs or qd\n");
		return 2;
	}
	if (vf_open(&d, argv[1], 64ull << 20) < 0 ||
	    vf_setup(&d, 1, QSIZE, 1ull << F_EVENT_IDX |
	    1ull << F_INDIRECT_DESC) < 0 ||
	    vf_get_config(&d, 0, &cap, sizeof(cap)) < 0) {
		perror("blkbench: vhost-user set-up");
		return 1;
	}
	if (!(d.acked & (1ull << F_EVENT_IDX)) ||
	    !(d.acked & (1ull << F_INDIRECT_DESC))) {
		fprintf(stderr, "blkbench: back-end lacks EVENT_IDX or "
		    "INDIRECT_DESC\n");
		return 1;
	}
	if (argc == 8) {
		first = strtoull(argv[6], NULL, 0);
		nsect = strtoull(argv[7], NULL, 0);
	} else {
		nsect = cap - first;
	}
	if (first + nsect > cap || nsect < bs / 512) {
		fprintf(stderr, "blkbench: range outside the disk\n");
		return 1;
	}
	nsect -= nsect % (bs / 512);
	r = &d.q[0];
	sl = calloc(qd, sizeof(*sl));
	lat = malloc(maxlat * sizeof(*lat));
	if (sl == NULL || lat == NULL)
		return 1;
	for (i = 0; i < qd; i++) {
		sl[i].hdr = vf_alloc(&d, 16, 64);
		sl[i].st = vf_alloc(&d, 1, 64);
		sl[i].data = vf_alloc(&d, bs, 4096);
		if (sl[i].data == 0) {
			fprintf(stderr, "blkbench: guest memory too small\n");
			return 1;
		}
		sl[i].table = vf_alloc(&d, 3 * sizeof(struct vq_desc), 16);
		if (sl[i].table == 0) {
			fprintf(stderr, "blkbench: guest memory too small\n");
			return 1;
		}
		memset(vf_ptr(&d, sl[i].data), 0x5a, bs);
		{
			struct vq_desc *t = vf_ptr(&d, sl[i].table);

			t[0] = (struct vq_desc){ sl[i].hdr, 16,
			    VQ_DESC_F_NEXT, 1 };
			t[1] = (struct vq_desc){ sl[i].data, bs,
			    (uint16_t)(VQ_DESC_F_NEXT |
			    (write ? 0 : VQ_DESC_F_WRITE)), 2 };
			t[2] = (struct vq_desc){ sl[i].st, 1,
			    VQ_DESC_F_WRITE, 0 };
		}
		/* Head i: one indirect descriptor per request. */
		r->desc[i] = (struct vq_desc){ sl[i].table,
		    3 * sizeof(struct vq_desc), VQ_DESC_F_INDIRECT, 0 };
	}
	*used_event(r) = 0;
	t_start = now_ns();
	t_end = t_start + (uint64_t)(secs * 1e9);
	for (;;) {
		uint32_t id, len;
		bool stop = now_ns() >= t_end;
		unsigned inflight = 0;
		uint16_t old = r->avail_idx;

		/* (Re)submit every free slot. */
		for (i = 0; i < qd && !stop; i++) {
			uint8_t *h = vf_ptr(&d, sl[i].hdr);
			uint32_t type = write ? T_OUT : T_IN;
			uint64_t sector;

			if (sl[i].t0 != 0)
				continue;
			if (random)
				sector = first + rnd() % (nsect / (bs / 512)) *
				    (bs / 512);
			else {
				sector = first + seq;
				seq = (seq + bs / 512) % nsect;
			}
			memcpy(h, &type, 4);
			memset(h + 4, 0, 4);
			memcpy(h + 8, &sector, 8);
			*(uint8_t *)vf_ptr(&d, sl[i].st) = 0xff;
			sl[i].t0 = now_ns();
			vf_avail(r, (uint16_t)i);
		}
		for (i = 0; i < qd; i++)
			inflight += sl[i].t0 != 0;
		if (inflight == 0)
			break;
		if (r->avail_idx != old && publish(r, old) < 0) {
			perror("blkbench: kick");
			return 1;
		}
		/*
		 * Interrupt at the next completion we have not seen; sleep
		 * only if it has not already come (the guest driver's
		 * enable-callbacks-and-recheck).
		 */
		__atomic_store_n(used_event(r), r->used_seen, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&r->used->idx, __ATOMIC_ACQUIRE) ==
		    r->used_seen) {
			waits++;
			if (vf_wait(r, 5000) <= 0) {
				fprintf(stderr, "blkbench: no completion for "
				    "5 s\n");
				return 1;
			}
		}
		while (vf_used(r, &id, &len) == 1) {
			unsigned s = id;
			uint64_t t = now_ns();

			if (s >= qd || sl[s].t0 == 0) {
				fprintf(stderr, "blkbench: bogus used id %u\n",
				    id);
				return 1;
			}
			if (*(uint8_t *)vf_ptr(&d, sl[s].st) != 0) {
				fprintf(stderr, "blkbench: I/O error\n");
				return 1;
			}
			if (nlat < maxlat)
				lat[nlat++] = (uint32_t)((t - sl[s].t0) / 100);
			sl[s].t0 = 0;
			ops++;
		}
	}
	{
		double el = (double)(now_ns() - t_start) / 1e9;

		qsort(lat, nlat, sizeof(*lat), cmp32);
		printf("%s bs=%u qd=%u ops=%llu iops=%.0f MB/s=%.1f "
		    "p50_us=%.1f p99_us=%.1f kicks_per_op=%.2f "
		    "waits_per_op=%.2f\n", mode, bs, qd,
		    (unsigned long long)ops, (double)ops / el,
		    (double)ops * bs / el / 1e6,
		    nlat ? lat[nlat / 2] / 10.0 : 0.0,
		    nlat ? lat[nlat * 99 / 100] / 10.0 : 0.0,
		    ops ? (double)kicks / (double)ops : 0.0,
		    ops ? (double)waits / (double)ops : 0.0);
	}
	vf_close(&d);
	return 0;
}
