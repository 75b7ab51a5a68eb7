/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qmp: see qmp.h.  Called by vm.c only.
 */
#include "qmp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unixsock.h"

void
qmp_init(struct qmp *q, struct ev_loop *loop, const char *path,
    void (*event)(void *arg, enum qmp_event ev), void *arg)
{
	memset(q, 0, sizeof(*q));
	q->loop = loop;
	snprintf(q->path, sizeof(q->path), "%s", path);
	q->fd = -1;
	q->event = event;
	q->arg = arg;
}

void
qmp_close(struct qmp *q)
{
	if (q->fd < 0)
		return;
	ev_unwatch(q->loop, q->fd);
	close(q->fd);
	q->fd = -1;
	q->have = 0;
}

static void
qmp_send(struct qmp *q, const char *cmd)
{
	/* A few dozen bytes into an idle socket: never blocks. */
	if (q->fd >= 0)
		(void)!send(q->fd, cmd, strlen(cmd), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
qmp_powerdown(struct qmp *q)
{
	qmp_send(q, "{\"execute\":\"system_powerdown\"}\n");
}

static void
qmp_line(struct qmp *q, const char *line)
{
	if (strstr(line, "\"event\"") == NULL)
		return;
	if (strstr(line, "\"RESET\"") != NULL)
		q->event(q->arg, QMP_RESET);
	else if (strstr(line, "\"SHUTDOWN\"") != NULL)
		q->event(q->arg, QMP_SHUTDOWN);
}

static void
qmp_cb(void *arg, int fd, uint32_t events)
{
	struct qmp *q = arg;
	ssize_t n;

	n = read(q->fd, q->buf + q->have, sizeof(q->buf) - 1 - q->have);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		qmp_close(q);
		return;
	}
	if (n < 0)
		return;
	q->have += (size_t)n;
	q->buf[q->have] = '\0';
	while (q->fd >= 0) {
		char *nl = memchr(q->buf, '\n', q->have);
		size_t take;

		if (nl == NULL) {
			if (q->have == sizeof(q->buf) - 1) {
				/* An over-long line: skip it. */
				q->overflow = true;
				q->have = 0;
			}
			break;
		}
		*nl = '\0';
		if (!q->overflow)
			qmp_line(q, q->buf);
		q->overflow = false;
		take = (size_t)(nl - q->buf) + 1;
		memmove(q->buf, q->buf + take, q->have - take);
		q->have -= take;
		q->buf[q->have] = '\0';
	}
}

void
qmp_connect(struct qmp *q)
{
	int fd;

	if (q->fd >= 0)
		return;
	fd = unixsock_connect(q->path, SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (ev_watch(q->loop, fd, EPOLLIN, qmp_cb, q) < 0) {
		close(fd);
		return;
	}
	q->fd = fd;
	q->have = 0;
	q->overflow = false;
	qmp_send(q, "{\"execute\":\"qmp_capabilities\"}\n");
}
