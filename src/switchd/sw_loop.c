/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_loop: epoll loop with generation-checked watches; see sw_loop.h.
 */
#include "switchd/sw_loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int
sw_loop_init(struct sw_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

void
sw_loop_close(struct sw_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int
sw_loop_watch(struct sw_loop *l, int fd, sw_loop_cb cb, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sw_watch *w;
	int op;

	if (fd < 0 || fd >= SW_LOOP_MAX_FD) {
		errno = fd < 0 ? EBADF : EMFILE;
		return -1;
	}
	w = &l->w[fd];
	op = w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	w->gen = ++l->gen;
	ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return -1;
	w->cb = cb;
	w->arg = arg;
	w->active = true;
	return 0;
}

void
sw_loop_unwatch(struct sw_loop *l, int fd)
{
	if (fd < 0 || fd >= SW_LOOP_MAX_FD || !l->w[fd].active)
		return;
	/* The fd may already be closed: then epoll forgot it by itself. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->w[fd].active = false;
	l->w[fd].gen = ++l->gen;
}

int
sw_loop_once(struct sw_loop *l)
{
	struct epoll_event ev[64];
	int n;

	n = epoll_wait(l->epfd, ev, 64, l->deferred ? 0 : -1);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ev[i].data.u64;
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
		struct sw_watch *w = &l->w[fd];

		if (!w->active || w->gen != gen)
			continue;
		w->cb(w->arg, fd, ev[i].events);
	}
	return 0;
}

int
sw_loop_vu_watch(void *loop, int fd, void (*cb)(void *, int, uint32_t),
    void *arg)
{
	return sw_loop_watch(loop, fd, cb, arg);
}

void
sw_loop_vu_unwatch(void *loop, int fd)
{
	sw_loop_unwatch(loop, fd);
}
