/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * monotime: milliseconds on CLOCK_MONOTONIC, the one clock Isles uses for
 * deadlines, timeouts and uptimes (never the wall clock, which can jump).
 * Header-only; used by the CLI, the supervisor and isles-consoled.
 */
#ifndef ISLES_MONOTIME_H
#define ISLES_MONOTIME_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since an arbitrary fixed point (boot); never decreases. */
static inline uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
