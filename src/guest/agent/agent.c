/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agent: output queue and EXEC parser of the guest agent; see agent.h.
 * Used by isles-agent.c and by tests/unit/test_agent.c.
 */
#include "agent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "le.h"
#include "proto.h"

int
ag_outq_init(struct ag_outq *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	if (cap < PROTO_HDR_SIZE) {
		errno = EINVAL;
		return -1;
	}
	q->buf = malloc(cap);
	if (q->buf == NULL)
		return -1;
	q->cap = cap;
	return 0;
}

void
ag_outq_free(struct ag_outq *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

size_t
ag_outq_len(const struct ag_outq *q)
{
	return q->end - q->start;
}

size_t
ag_outq_room(const struct ag_outq *q)
{
	return q->cap - (q->end - q->start);
}

int
ag_outq_put(struct ag_outq *q, uint16_t type, uint32_t chan,
    const void *data, size_t len)
{
	if (len > PROTO_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (PROTO_HDR_SIZE + len > ag_outq_room(q)) {
		errno = ENOBUFS;
		return -1;
	}
	if (q->cap - q->end < PROTO_HDR_SIZE + len) {
		memmove(q->buf, q->buf + q->start, q->end - q->start);
		q->end -= q->start;
		q->start = 0;
	}
	proto_hdr_encode(q->buf + q->end, type, 0, chan, (uint32_t)len);
	if (len > 0)
		memcpy(q->buf + q->end + PROTO_HDR_SIZE, data, len);
	q->end += PROTO_HDR_SIZE + len;
	return 0;
}

/* Account for n bytes written from start, across frame boundaries. */
static void
outq_advance(struct ag_outq *q, size_t n)
{
	while (n > 0) {
		size_t take;

		/* Our own header, written by ag_outq_put: len is sane. */
		if (q->frame_left == 0)
			q->frame_left = PROTO_HDR_SIZE +
			    le_get32(q->buf + q->start + 12);
		take = n < q->frame_left ? n : q->frame_left;
		q->start += take;
		q->frame_left -= take;
		n -= take;
	}
}

int
ag_outq_flush(struct ag_outq *q, int fd)
{
	while (q->end > q->start) {
		ssize_t n = write(fd, q->buf + q->start, q->end - q->start);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		outq_advance(q, (size_t)n);
	}
	q->start = q->end = 0;
	return 0;
}

void
ag_outq_discard(struct ag_outq *q)
{
	q->end = q->start + q->frame_left;
	if (q->end == q->start)
		q->start = q->end = 0;
}

void
ag_outq_reset(struct ag_outq *q)
{
	q->start = q->end = q->frame_left = 0;
}

int
ag_parse_argv(const uint8_t *p, size_t len, char *buf, size_t buflen,
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
