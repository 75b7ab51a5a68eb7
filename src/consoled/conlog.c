/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conlog: the capped console.log of one VM; see conlog.h.  Only pread,
 * pwrite and ftruncate once open (what isles-consoled's seccomp filter
 * allows for it); the bytes moved are guest output and never interpreted,
 * except for looking for a newline to start the cut file at.
 */
#include "consoled/conlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLOG_CHUNK	(32u * 1024u)	/* bytes moved per pread/pwrite */

/* pwrite all of buf at off; l->size follows what reached the file end. */
static int
write_at(struct clog *l, const uint8_t *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(l->fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
		if (off > l->size)
			l->size = off;
	}
	return 0;
}

/*
 * Keep only the newest `keep` bytes (fewer: from the first line that
 * starts in them, if one starts in the first CLOG_CHUNK), moved to the
 * start of the file.  Forward copy: every pwrite lands below what is
 * still to be read.
 */
static int
keep_newest(struct clog *l, uint64_t keep)
{
	uint8_t chunk[CLOG_CHUNK];
	uint64_t from, to = 0;
	bool first = true;

	if (keep >= l->size)
		return 0;
	/* Read from one byte earlier: a newline there means keep starts a line. */
	from = keep > 0 ? l->size - keep - 1 : l->size;
	while (from < l->size) {
		size_t want = l->size - from < CLOG_CHUNK ?
		    (size_t)(l->size - from) : CLOG_CHUNK;
		ssize_t n = pread(l->fd, chunk, want, (off_t)from);
		size_t skip = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;	/* shorter than we knew: keep what we moved */
		if (first) {
			const uint8_t *nl = memchr(chunk, '\n', (size_t)n);

			skip = nl != NULL ? (size_t)(nl - chunk) + 1 : 1;
			first = false;
		}
		if (write_at(l, chunk + skip, (size_t)n - skip, to) == -1)
			return -1;
		to += (uint64_t)n - skip;
		from += (uint64_t)n;
	}
	if (ftruncate(l->fd, (off_t)to) == -1)
		return -1;
	l->size = to;
	return 0;
}

int
clog_open(struct clog *l, int fd, uint64_t max)
{
	struct stat st;
	int fl;

	l->fd = -1;
	l->size = 0;
	l->max = max;
	if (max < CLOG_MIN_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((fl & O_ACCMODE) != O_RDWR) {
		errno = EBADF;
		return -1;
	}
	if ((fl & O_APPEND) && fcntl(fd, F_SETFL, fl & ~O_APPEND) == -1)
		return -1;
	l->fd = fd;
	l->size = (uint64_t)st.st_size;
	if (l->size > max && keep_newest(l, max / 2) == -1) {
		l->fd = -1;
		return -1;
	}
	return 0;
}

int
clog_write(struct clog *l, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (l->fd == -1 || len == 0)
		return 0;
	if (len >= l->max) {
		p += len - l->max;
		len = (size_t)l->max;
		if (keep_newest(l, 0) == -1)
			return -1;
	} else if (l->size + len > l->max) {
		/* About half the cap after this write: cut rarely. */
		uint64_t half = l->max / 2;

		if (keep_newest(l, half > len ? half - len : 0) == -1)
			return -1;
	}
	return write_at(l, p, len, l->size);
}
