/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vsockio: helpers of the guest vsock tools; see vsockio.h.
 */
#include "guest/links/vsockio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

const char *vio_prog = "vsock";

void
vio_warn(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", vio_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err != 0)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

int
vio_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		goto bad;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			goto bad;
	}
	if (v < min)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
vio_socket(uint64_t buffer)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	if (buffer != 0) {
		/* The maximum first: the size must not exceed it. */
		if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE,
		    &buffer, sizeof(buffer)) < 0 ||
		    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE,
		    &buffer, sizeof(buffer)) < 0) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

int
vio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

uint64_t
vio_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
vio_summary(const char *what, uint32_t cid, uint32_t port, uint64_t bytes,
    uint64_t ms)
{
	double s = (double)ms / 1000.0;

	fprintf(stderr, "%s: %u:%u: %llu bytes %s in %.3f s (%.2f MB/s)\n",
	    vio_prog, cid, port, (unsigned long long)bytes, what, s,
	    s > 0 ? (double)bytes / s / 1e6 : 0.0);
}
