/* SPDX-License-Identifier: BSD-2-Clause */
/* outq: see outq.h.  Used only from the supervisor's event loop. */
#include "outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

static int
reserve(struct outq *q, size_t more)
{
	size_t need;

	if (q->head > 0 && q->head + q->len + more > q->cap) {
		memmove(q->data, q->data + q->head, q->len);
		q->head = 0;
	}
	need = q->head + q->len + more;
	if (need > q->cap) {
		size_t cap = q->cap ? q->cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		p = realloc(q->data, cap);
		if (p == NULL)
			return -1;
		q->data = p;
		q->cap = cap;
	}
	return 0;
}

int
outq_bytes(struct outq *q, const void *data, size_t len)
{
	if (reserve(q, len) < 0)
		return -1;
	if (len > 0)
		memcpy(q->data + q->head + q->len, data, len);
	q->len += len;
	return 0;
}

int
outq_frame(struct outq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len)
{
	uint8_t hdr[PROTO_HDR_SIZE];

	if (len > PROTO_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (reserve(q, PROTO_HDR_SIZE + len) < 0)
		return -1;
	proto_hdr_encode(hdr, type, flags, chan, (uint32_t)len);
	(void)outq_bytes(q, hdr, sizeof(hdr));
	return outq_bytes(q, payload, len);
}

int
outq_flush(struct outq *q, int fd)
{
	while (q->len > 0) {
		ssize_t n = send(fd, q->data + q->head, q->len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		q->head += (size_t)n;
		q->len -= (size_t)n;
	}
	q->head = 0;
	return 1;
}

void
outq_free(struct outq *q)
{
	free(q->data);
	memset(q, 0, sizeof(*q));
}
