/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * parse: see parse.h.  Written by hand because strtoull's rules (leading
 * space and sign accepted, negative values wrapped, errno only on
 * overflow) are the wrong ones for input from users.
 */
#include "host/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>

/* Leading decimal digits of s into *v; returns the first other char. */
static const char *
digits(const char *s, uint64_t *v, int *err)
{
	uint64_t n = 0;
	const char *p = s;

	*err = 0;
	if (*p < '0' || *p > '9') {
		*err = EINVAL;
		return p;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			*err = ERANGE;
		else
			n = n * 10 + d;
	}
	*v = n;
	return p;
}

int
host_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	const char *end;
	int err;

	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	end = digits(s, &v, &err);
	if (err == 0 && (*end != '\0' || v < min || v > max))
		err = EINVAL;
	if (err != 0) {
		errno = err;
		return -1;
	}
	*out = v;
	return 0;
}

int
host_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (host_parse_u64(s, min, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
host_parse_fd(const char *s)
{
	unsigned fd;

	if (host_parse_uint(s, 3, INT_MAX, &fd) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (fcntl((int)fd, F_GETFD) < 0) {
		errno = EBADF;
		return -1;
	}
	return (int)fd;
}

int
host_parse_fd_arg(const char *s)
{
	if (s == NULL || strncmp(s, "fd:", 3) != 0) {
		errno = EINVAL;
		return -1;
	}
	return host_parse_fd(s + 3);
}

int
host_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = {
		{ "", 0 }, { "K", 10 }, { "M", 20 }, { "G", 30 }, { "T", 40 },
		{ "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
	};
	const char *end;
	uint64_t v;
	int err;

	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	end = digits(s, &v, &err);
	if (err != 0) {
		errno = err;
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v == 0) {
			errno = EINVAL;
			return -1;
		}
		if (units[i].shift > 0 && v > (UINT64_MAX >> units[i].shift)) {
			errno = ERANGE;
			return -1;
		}
		*out = v << units[i].shift;
		return 0;
	}
	errno = EINVAL;
	return -1;
}
