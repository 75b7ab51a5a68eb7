/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webmsg: see webmsg.h.  Pure memory functions; every page message is
 * untrusted and checked here before isles-webd acts on it.
 */
#include "webmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
name_ok(const uint8_t *p, size_t len)
{
	if (len == 0 || len > WEBMSG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '_' || c == '-'))))
			return false;
	}
	return true;
}

int
webmsg_parse(const uint8_t *msg, size_t len, enum webmsg_conn conn,
    struct webmsg *m)
{
	const uint8_t *p = msg + 1;
	size_t n;

	if (msg == NULL || len == 0)
		goto bad;
	n = len - 1;
	memset(m, 0, sizeof(*m));
	m->type = (enum webmsg_type)msg[0];
	m->data = p;
	m->len = n;
	switch (msg[0]) {
	case WEBMSG_INPUT:
		if (n == 0 || n > WEBMSG_INPUT_MAX)
			goto bad;
		break;
	case WEBMSG_WINSIZE:
		if (n != 4)
			goto bad;
		m->rows = (uint16_t)(p[0] | p[1] << 8);
		m->cols = (uint16_t)(p[2] | p[3] << 8);
		if (m->rows == 0 || m->cols == 0 ||
		    m->rows > WEBMSG_WINSIZE_MAX || m->cols > WEBMSG_WINSIZE_MAX)
			goto bad;
		break;
	case WEBMSG_RESTART:
		if (!name_ok(p, n))
			goto bad;
		break;
	case WEBMSG_DOWN:
		if (n != 0)
			goto bad;
		break;
	default:
		goto bad;
	}
	if ((conn == WEBMSG_CONN_CONSOLE) !=
	    (msg[0] == WEBMSG_INPUT || msg[0] == WEBMSG_WINSIZE)) {
		errno = EPERM;
		return -1;
	}
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

long
webmsg_encode(uint8_t *out, size_t cap, enum webmsg_type type,
    const void *payload, size_t len)
{
	if (cap < 1 || len > cap - 1) {
		errno = EMSGSIZE;
		return -1;
	}
	out[0] = (uint8_t)type;
	if (len > 0)
		memcpy(out + 1, payload, len);
	return (long)(len + 1);
}

void
webmsg_winsize(uint8_t out[5], uint16_t rows, uint16_t cols)
{
	out[0] = WEBMSG_WINSIZE;
	out[1] = (uint8_t)rows;
	out[2] = (uint8_t)(rows >> 8);
	out[3] = (uint8_t)cols;
	out[4] = (uint8_t)(cols >> 8);
}

/* ---- the per-client queue ---- */

static bool
droppable(uint8_t type)
{
	return type == WEBMSG_OUTPUT || type == WEBMSG_REPLAY ||
	    type == WEBMSG_STATUS;
}

void
webq_init(struct webq *q, size_t limit, size_t pre)
{
	memset(q, 0, sizeof(*q));
	q->limit = limit;
	q->pre = pre;
}

static struct webq_msg *
msg_new(const struct webq *q, enum webmsg_type type, const void *payload,
    size_t len)
{
	struct webq_msg *m = malloc(sizeof(*m) + q->pre + 1 + len);

	if (m == NULL)
		return NULL;
	m->next = NULL;
	m->len = 1 + len;
	m->data = m->buf + q->pre;
	(void)webmsg_encode(m->data, 1 + len, type, payload, len);
	return m;
}

/* Unlink the message after prev (NULL: the head). */
static void
msg_unlink(struct webq *q, struct webq_msg *prev, struct webq_msg *m)
{
	if (prev == NULL)
		q->head = m->next;
	else
		prev->next = m->next;
	if (q->tail == m)
		q->tail = prev;
	q->bytes -= m->len;
	q->count--;
	if (m->data[0] == WEBMSG_OUTPUT || m->data[0] == WEBMSG_REPLAY) {
		q->dropped += m->len - 1;
		q->dropped_total += m->len - 1;
	}
	free(m);
}

/* Drop the oldest droppable messages until `need` more bytes fit. */
static void
make_room(struct webq *q, size_t need)
{
	struct webq_msg *prev = NULL, *m = q->head;

	while (m != NULL && q->bytes + need > q->limit) {
		struct webq_msg *next = m->next;

		if (droppable(m->data[0]))
			msg_unlink(q, prev, m);
		else
			prev = m;
		m = next;
	}
}

int
webq_push(struct webq *q, enum webmsg_type type, const void *payload,
    size_t len)
{
	const uint8_t *p = payload;
	struct webq_msg *m;

	if (type == WEBMSG_STATUS) {
		/* Only the newest status matters. */
		struct webq_msg *prev = NULL;

		for (m = q->head; m != NULL;) {
			struct webq_msg *next = m->next;

			if (m->data[0] == WEBMSG_STATUS)
				msg_unlink(q, prev, m);
			else
				prev = m;
			m = next;
		}
	}
	if ((type == WEBMSG_OUTPUT || type == WEBMSG_REPLAY) &&
	    1 + len > q->limit) {
		size_t cut = 1 + len - q->limit;

		if (cut > len)
			cut = len;
		q->dropped += cut;
		q->dropped_total += cut;
		p += cut;
		len -= cut;
	}
	if (q->bytes + 1 + len > q->limit)
		make_room(q, 1 + len);
	if (q->bytes + 1 + len > q->limit) {
		errno = ENOBUFS;
		return -1;
	}
	m = msg_new(q, type, p, len);
	if (m == NULL) {
		if (type == WEBMSG_OUTPUT || type == WEBMSG_REPLAY) {
			q->dropped += len;
			q->dropped_total += len;
		}
		errno = ENOMEM;
		return -1;
	}
	if (q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->bytes += m->len;
	q->count++;
	return 0;
}

struct webq_msg *
webq_peek(struct webq *q)
{
	if (q->dropped > 0) {
		char txt[64];
		int n = snprintf(txt, sizeof(txt),
		    "{\"kind\":\"dropped\",\"count\":%llu}",
		    (unsigned long long)q->dropped);
		struct webq_msg *m = msg_new(q, WEBMSG_NOTICE, txt, (size_t)n);

		if (m != NULL) {
			/* At the head: the gap is before everything held. */
			m->next = q->head;
			q->head = m;
			if (q->tail == NULL)
				q->tail = m;
			q->bytes += m->len;
			q->count++;
			q->dropped = 0;
		}
	}
	return q->head;
}

void
webq_pop(struct webq *q)
{
	struct webq_msg *m = q->head;

	if (m == NULL)
		return;
	q->head = m->next;
	if (q->tail == m)
		q->tail = NULL;
	q->bytes -= m->len;
	q->count--;
	free(m);
}

void
webq_free(struct webq *q)
{
	while (q->head != NULL)
		webq_pop(q);
	q->dropped = 0;
}

/* ---- access ---- */

bool
webmsg_token_eq(const char *token, const char *candidate)
{
	unsigned char diff = 0;
	size_t n;

	if (token == NULL || candidate == NULL)
		return false;
	n = strlen(candidate);
	if (n != WEBMSG_TOKEN_LEN || strlen(token) != WEBMSG_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < WEBMSG_TOKEN_LEN; i++)
		diff |= (unsigned char)(token[i] ^ candidate[i]);
	return diff == 0;
}

bool
webmsg_origin_ok(const char *origin, const char *host)
{
	static const char scheme[] = "http://";

	if (origin == NULL || host == NULL || *host == '\0')
		return false;
	if (strncasecmp(origin, scheme, sizeof(scheme) - 1) != 0)
		return false;
	return strcasecmp(origin + sizeof(scheme) - 1, host) == 0;
}

int
webmsg_parse_listen(const char *s, char addr[16], unsigned *port,
    bool *loopback)
{
	const char *colon = strrchr(s, ':');
	struct in_addr in;
	char *end;
	unsigned long v;
	size_t al;

	if (colon == NULL)
		goto bad;
	al = (size_t)(colon - s);
	if (al == 0 || al > 15)
		goto bad;
	memcpy(addr, s, al);
	addr[al] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1)
		goto bad;
	if (colon[1] < '0' || colon[1] > '9')
		goto bad;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		goto bad;
	*port = (unsigned)v;
	*loopback = (ntohl(in.s_addr) >> 24) == 127;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
