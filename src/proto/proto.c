/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto: framing for Isles' control channels, and the agent protocol's
 * EXEC payload parser; see proto.h.  Hand-written because the format is
 * 16 bytes of header and no packaged library frames messages over a byte
 * stream more simply than this.
 */
#include "proto/proto.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host/le.h"

/*
 * Consumed input only advances rx->start; it is moved to the front once
 * per read or feed (rx_compact), so that taking many small frames or
 * resynchronising over garbage costs linear, not quadratic, time.
 */
static void
rx_drop(struct proto_rx *rx, size_t n)
{
	rx->start += n;
	if (rx->start == rx->have)
		rx->start = rx->have = 0;
}

static void
rx_compact(struct proto_rx *rx)
{
	if (rx->start > 0) {
		memmove(rx->buf, rx->buf + rx->start, rx->have - rx->start);
		rx->have -= rx->start;
		rx->start = 0;
	}
}

/* Forget the frame handed out by the previous proto_rx_next. */
static void
rx_release(struct proto_rx *rx)
{
	if (rx->pending > 0) {
		rx_drop(rx, rx->pending);
		rx->pending = 0;
	}
}

void
proto_rx_init(struct proto_rx *rx)
{
	rx->start = rx->have = 0;
	rx->pending = 0;
	rx->skipped = 0;
}

size_t
proto_rx_feed(struct proto_rx *rx, const void *data, size_t len)
{
	size_t room;

	rx_release(rx);
	rx_compact(rx);
	room = sizeof(rx->buf) - rx->have;
	if (len > room)
		len = room;
	memcpy(rx->buf + rx->have, data, len);
	rx->have += len;
	return len;
}

ssize_t
proto_rx_read(struct proto_rx *rx, int fd)
{
	size_t room;
	ssize_t n;

	rx_release(rx);
	rx_compact(rx);
	room = sizeof(rx->buf) - rx->have;
	if (room == 0) {
		errno = ENOBUFS;
		return -1;
	}
	do {
		n = read(fd, rx->buf + rx->have, room);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		rx->have += (size_t)n;
	return n;
}

int
proto_rx_next(struct proto_rx *rx, struct proto_hdr *hdr,
    const uint8_t **payload)
{
	rx_release(rx);
	for (;;) {
		const uint8_t *b = rx->buf + rx->start;
		struct proto_hdr h;

		if (rx->have - rx->start < PROTO_HDR_SIZE)
			return 0;
		h.magic = le_get32(b);
		h.type = le_get16(b + 4);
		h.flags = le_get16(b + 6);
		h.chan = le_get32(b + 8);
		h.len = le_get32(b + 12);
		if (h.magic != PROTO_MAGIC || h.len > PROTO_MAX_PAYLOAD ||
		    h.type == 0) {
			rx_drop(rx, 1);
			rx->skipped++;
			continue;
		}
		if (rx->have - rx->start < PROTO_HDR_SIZE + h.len)
			return 0;
		*hdr = h;
		*payload = b + PROTO_HDR_SIZE;
		rx->pending = PROTO_HDR_SIZE + h.len;
		return 1;
	}
}

void
proto_hdr_encode(uint8_t out[PROTO_HDR_SIZE], uint16_t type, uint16_t flags,
    uint32_t chan, uint32_t len)
{
	le_put32(out, PROTO_MAGIC);
	le_put16(out + 4, type);
	le_put16(out + 6, flags);
	le_put32(out + 8, chan);
	le_put32(out + 12, len);
}

int
proto_send(int fd, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len)
{
	uint8_t hdr[PROTO_HDR_SIZE];
	struct iovec iov[2];
	int iovcnt = len > 0 ? 2 : 1;
	size_t total = PROTO_HDR_SIZE + len;

	if (len > PROTO_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	proto_hdr_encode(hdr, type, flags, chan, (uint32_t)len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = PROTO_HDR_SIZE;
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = len;
	while (total > 0) {
		ssize_t n = writev(fd, iov, iovcnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		total -= (size_t)n;
		/* Advance the iovecs past what was written. */
		for (int i = 0; i < iovcnt && n > 0; i++) {
			size_t take = (size_t)n < iov[i].iov_len ?
			    (size_t)n : iov[i].iov_len;
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			n -= (ssize_t)take;
		}
	}
	return 0;
}

int
proto_exec_argv(const uint8_t *p, size_t len, char *buf, size_t buflen,
    char **argv, size_t maxargs)
{
	size_t argc = 0, off = 0;

	if (len == 0 || p[len - 1] != '\0' || p[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	if (len > buflen) {
		errno = ENOBUFS;
		return -1;
	}
	memcpy(buf, p, len);
	while (off < len) {
		if (argc == maxargs) {
			errno = E2BIG;
			return -1;
		}
		argv[argc++] = buf + off;
		off += strlen(buf + off) + 1;	/* stops at the last NUL */
	}
	argv[argc] = NULL;
	return (int)argc;
}
