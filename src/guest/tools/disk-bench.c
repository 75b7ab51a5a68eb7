/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * disk-bench: one block device's throughput and latency, inside a guest
 * (bench/driver-vm; busybox has no fio).
 *
 *   disk-bench [-w] [-R] [-b BYTES] [-t SECONDS] DEVICE
 *
 * One request at a time (QD1), O_DIRECT, for -t seconds (default 5):
 * sequential from the start of the device (wrapping at its end), or with
 * -R at random block-aligned offsets; reads, or with -w writes (of a
 * fixed pattern: the device's contents are destroyed).  -b is the request
 * size (default 4096, a multiple of 512).  Prints one line:
 *
 *   DEVICE seq|rand read|write BS: N ops, X MB/s, Y IOPS, p50 Z us, p99 W us
 *
 * Exit status: 0, 1 an I/O error (named), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "guest/tools/gtime.h"

#define MAX_SAMPLES	(1u << 20)	/* latencies kept for percentiles */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: disk-bench [-w] [-R] [-b BYTES] [-t SECONDS] "
	    "DEVICE\n");
	exit(2);
}


int
main(int argc, char **argv)
{
	unsigned long bs = 4096, secs = 5;
	uint64_t size, nblocks, ops = 0, t0, end, seed = 0x9e3779b97f4a7c15u;
	uint64_t *lat;
	bool wr = false, rnd = false;
	void *buf;
	int ch, fd;

	while ((ch = getopt(argc, argv, "wRb:t:")) != -1) {
		char *e;

		switch (ch) {
		case 'w':
			wr = true;
			break;
		case 'R':
			rnd = true;
			break;
		case 'b':
			bs = strtoul(optarg, &e, 10);
			if (*e != '\0' || bs == 0 || bs % 512 != 0 ||
			    bs > 16u << 20)
				usage();
			break;
		case 't':
			secs = strtoul(optarg, &e, 10);
			if (*e != '\0' || secs == 0 || secs > 3600)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	fd = open(argv[optind], (wr ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd == -1 || ioctl(fd, BLKGETSIZE64, &size) == -1) {
		fprintf(stderr, "disk-bench: %s: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	nblocks = size / bs;
	if (nblocks == 0) {
		fprintf(stderr, "disk-bench: %s: smaller than one block\n",
		    argv[optind]);
		return 1;
	}
	lat = calloc(MAX_SAMPLES, sizeof(*lat));
	if (lat == NULL || posix_memalign(&buf, 4096, bs) != 0) {
		fprintf(stderr, "disk-bench: out of memory\n");
		return 1;
	}
	memset(buf, 0x5a, bs);
	t0 = now_ns();
	end = t0 + (uint64_t)secs * 1000000000u;
	for (;;) {
		uint64_t blk, s, t;
		ssize_t n;

		if (rnd) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			blk = seed % nblocks;
		} else {
			blk = ops % nblocks;
		}
		s = now_ns();
		if (s >= end)
			break;
		n = wr ? pwrite(fd, buf, bs, (off_t)(blk * bs)) :
		    pread(fd, buf, bs, (off_t)(blk * bs));
		t = now_ns();
		if (n != (ssize_t)bs) {
			fprintf(stderr, "disk-bench: %s: %s at byte %llu: %s\n",
			    argv[optind], wr ? "write" : "read",
			    (unsigned long long)(blk * bs),
			    n < 0 ? strerror(errno) : "short");
			return 1;
		}
		if (ops < MAX_SAMPLES)
			lat[ops] = (t - s) / 1000u;
		ops++;
	}
	if (wr && fdatasync(fd) == -1) {
		fprintf(stderr, "disk-bench: %s: fdatasync: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	{
		double el = (double)(now_ns() - t0) / 1e9;
		size_t k = ops < MAX_SAMPLES ? ops : MAX_SAMPLES;

		qsort(lat, k, sizeof(*lat), cmp_u64);
		printf("%s %s %s %lu: %llu ops, %.1f MB/s, %.0f IOPS, p50 %llu "
		    "us, p99 %llu us\n", argv[optind], rnd ? "rand" : "seq",
		    wr ? "write" : "read", bs, (unsigned long long)ops,
		    (double)ops * (double)bs / el / 1e6, (double)ops / el,
		    (unsigned long long)(k ? lat[k / 2] : 0),
		    (unsigned long long)(k ? lat[k * 99 / 100] : 0));
	}
	return 0;
}
