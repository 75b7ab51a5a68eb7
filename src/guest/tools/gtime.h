/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gtime: the guest tools' clock and sample sorting (dataport_pingpong,
 * disk-bench): CLOCK_MONOTONIC in nanoseconds, and a qsort comparator
 * for uint64_t samples (percentiles).  Header-only: every guest program
 * is static and links only what it names.
 */
#ifndef ISLES_GUEST_GTIME_H
#define ISLES_GUEST_GTIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#endif
