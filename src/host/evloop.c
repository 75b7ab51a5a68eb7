/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evloop: see evloop.h.  Trusts its callers; knows nothing of what the
 * fds carry.
 */
#include "host/evloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define EV_BATCH 64

int
ev_loop_init(struct ev_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

void
ev_loop_close(struct ev_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	free(l->w);
	l->w = NULL;
	l->nw = 0;
}

static struct ev_watch *
slot(struct ev_loop *l, int fd)
{
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if ((size_t)fd >= l->nw) {
		size_t n = (size_t)fd + 64;
		struct ev_watch *w = realloc(l->w, n * sizeof(*w));

		if (w == NULL)
			return NULL;
		memset(w + l->nw, 0, (n - l->nw) * sizeof(*w));
		l->w = w;
		l->nw = n;
	}
	return &l->w[fd];
}

/* Make epoll's registration of fd match w (after w changed). */
static int
sync_epoll(struct ev_loop *l, int fd, struct ev_watch *w, bool registered)
{
	struct epoll_event ev = { .events = w->events };

	ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
	if (w->events == 0)
		return registered ? epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd,
		    NULL) : 0;
	return epoll_ctl(l->epfd, registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    fd, &ev);
}

int
ev_watch(struct ev_loop *l, int fd, uint32_t events, ev_cb cb, void *arg)
{
	struct ev_watch *w = slot(l, fd), old;

	if (w == NULL)
		return -1;
	old = *w;
	w->cb = cb;
	w->arg = arg;
	w->events = events;
	w->gen = ++l->gen;
	if (sync_epoll(l, fd, w, old.active && old.events != 0) < 0) {
		int e = errno;

		*w = old;
		w->active = false;
		if (old.active && old.events != 0)
			(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		errno = e;
		return -1;
	}
	w->active = true;
	return 0;
}

int
ev_set_events(struct ev_loop *l, int fd, uint32_t events)
{
	struct ev_watch *w;
	bool registered;

	if (fd < 0 || (size_t)fd >= l->nw || !l->w[fd].active) {
		errno = ENOENT;
		return -1;
	}
	w = &l->w[fd];
	if (w->events == events)
		return 0;
	registered = w->events != 0;
	w->events = events;
	w->gen = ++l->gen;
	return sync_epoll(l, fd, w, registered);
}

void
ev_unwatch(struct ev_loop *l, int fd)
{
	struct ev_watch *w;

	if (fd < 0 || (size_t)fd >= l->nw || !l->w[fd].active)
		return;
	w = &l->w[fd];
	/* The fd may already be closed: then epoll forgot it by itself. */
	if (w->events != 0)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->active = false;
	w->cb = NULL;
	w->gen = ++l->gen;
}

void
ev_defer(struct ev_loop *l)
{
	l->deferred = true;
}

int
ev_loop_once(struct ev_loop *l, int timeout_ms)
{
	struct epoll_event ev[EV_BATCH];
	int n;

	n = epoll_wait(l->epfd, ev, EV_BATCH, l->deferred ? 0 : timeout_ms);
	l->deferred = false;
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ev[i].data.u64;
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
		struct ev_watch *w;

		if (fd < 0 || (size_t)fd >= l->nw)
			continue;
		w = &l->w[fd];
		/* Changed since epoll_wait returned: stale (see evloop.h). */
		if (!w->active || w->gen != gen || w->cb == NULL)
			continue;
		w->cb(w->arg, fd, ev[i].events);
	}
	return 0;
}

int
ev_loop_run(struct ev_loop *l)
{
	while (!l->quit) {
		if (ev_loop_once(l, -1) < 0)
			return -1;
	}
	return 0;
}

void
ev_loop_quit(struct ev_loop *l)
{
	l->quit = true;
}

int
ev_vu_watch(void *loop, int fd, void (*cb)(void *, int, uint32_t), void *arg)
{
	return ev_watch(loop, fd, EPOLLIN, cb, arg);
}

void
ev_vu_unwatch(void *loop, int fd)
{
	ev_unwatch(loop, fd);
}

int
ev_timer_new(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
}

int
ev_timer_arm(int fd, uint64_t ms)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)(ms / 1000);
	it.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	return timerfd_settime(fd, 0, &it, NULL);
}

uint64_t
ev_drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

int
ev_signalfd(const int *sigs, size_t n)
{
	sigset_t ss;

	sigemptyset(&ss);
	for (size_t i = 0; i < n; i++)
		sigaddset(&ss, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return -1;
	return signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
}
