/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * status: isles-webd's status feed (webd.h), the same object `isles
 * status --json` prints, fetched the same way: one STATUS request on the
 * supervisor's control socket, one read of each switch's stats socket.
 * Both peers are trusted for content (they are the system's own
 * processes, and the page parses the result as JSON); what they send is
 * bounded, checked to be printable ASCII, and waited for with a deadline.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "monotime.h"
#include "proto.h"
#include "unixsock.h"
#include "webd/webd.h"

#define STATUS_WAIT_MS	3000
#define STATS_MAX	(256u * 1024u)

struct sbuf {
	char *p;
	size_t len, cap;
	bool bad;
};

static void
sb_add(struct sbuf *b, const void *d, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->bad = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static bool
printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return false;
	return true;
}

/* Wait for fd to be readable until deadline; 0, or -1 ETIMEDOUT. */
static int
wait_in(int fd, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = mono_ms();
		int r;

		if (t >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)(deadline - t));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

int
web_ctl_connect(const char *rundir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%.256s/control.sock", rundir);
	return unixsock_connect(path, 0);
}

/* The supervisor's STATUS JSON into b (its trailing newline dropped). */
static int
sup_status(const char *rundir, struct sbuf *b)
{
	static struct proto_rx rx;	/* 64 KiB: not on the stack */
	uint64_t deadline = mono_ms() + STATUS_WAIT_MS;
	struct proto_hdr h;
	const uint8_t *p;
	int fd = web_ctl_connect(rundir), e;

	if (fd < 0)
		return -1;
	proto_rx_init(&rx);
	if (proto_send(fd, CTL_STATUS, CTL_F_JSON, 0, NULL, 0) < 0)
		goto fail;
	for (;;) {
		ssize_t n;

		if (proto_rx_next(&rx, &h, &p) == 1)
			break;
		if (wait_in(fd, deadline) < 0)
			goto fail;
		n = proto_rx_read(&rx, fd);
		if (n == 0)
			errno = ECONNRESET;
		if (n <= 0)
			goto fail;
	}
	close(fd);
	if (h.type != CTL_OK) {
		errno = EPROTO;
		return -1;
	}
	while (h.len > 0 && (p[h.len - 1] == '\n' || p[h.len - 1] == ' '))
		h.len--;
	if (h.len < 2 || p[0] != '{' || p[h.len - 1] != '}' ||
	    !printable((const char *)p, h.len)) {
		errno = EPROTO;
		return -1;
	}
	sb_add(b, p, h.len - 1);	/* reopened for "switches" */
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* One switch's stats line (a JSON object) into b, or an error object. */
static void
switch_stats(const char *dir, const char *sw, struct sbuf *b)
{
	uint64_t deadline = mono_ms() + STATUS_WAIT_MS;
	char path[PATH_MAX], err[192];
	struct sbuf line = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%.256s/%.64s/stats.sock", dir, sw);
	fd = unixsock_connect(path, SOCK_NONBLOCK);
	while (fd >= 0) {
		char buf[4096];
		ssize_t n;

		if (wait_in(fd, deadline) < 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			break;
		}
		if (line.len + (size_t)n > STATS_MAX) {
			errno = EMSGSIZE;
			break;
		}
		sb_add(&line, buf, (size_t)n);
	}
	if (fd >= 0)
		close(fd);
	while (line.len > 0 && line.p[line.len - 1] == '\n')
		line.len--;
	if (errno == 0 && !line.bad && line.len >= 2 && line.p[0] == '{' &&
	    line.p[line.len - 1] == '}' && printable(line.p, line.len)) {
		sb_add(b, line.p, line.len);
	} else {
		/* Switch names are [a-z0-9_-]: no escaping needed. */
		snprintf(err, sizeof(err), "{\"switch\":\"%.40s\",\"error\":"
		    "\"%.64s\"}", sw, errno ? strerror(errno) : "bad answer");
		sb_str(b, err);
	}
	free(line.p);
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_switch(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

char *
web_status_fetch(const char *rundir)
{
	struct sbuf b = { 0 };
	struct dirent **names = NULL;
	char dir[300];
	int n;

	if (sup_status(rundir, &b) < 0) {
		free(b.p);
		return NULL;
	}
	sb_str(&b, ",\"switches\":[");
	snprintf(dir, sizeof(dir), "%.256s/switch", rundir);
	n = scandir(dir, &names, is_switch, name_cmp);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			sb_str(&b, ",");
		switch_stats(dir, names[i]->d_name, &b);
		free(names[i]);
	}
	free(names);
	sb_str(&b, "]}");
	if (b.bad) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	return b.p;
}
