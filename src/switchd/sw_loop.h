/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_loop: the one epoll loop of isles-switchd, with the watch/unwatch
 * interface the vhost library asks for (struct vu_loop).
 *
 * Watches are kept in a table indexed by fd, each with a generation
 * number carried in the epoll event, so an fd unwatched (and perhaps
 * reused) while its event is still pending in the current batch is never
 * dispatched to the old callback.  Level-triggered: a callback that stops
 * early is called again.  "Deferred work" (a port whose transmit budget ran
 * out) makes the next wait non-blocking; with none, the loop blocks in
 * epoll_wait and an idle switch uses no CPU.
 *
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_SW_LOOP_H
#define ISLES_SW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define SW_LOOP_MAX_FD	4096

typedef void (*sw_loop_cb)(void *arg, int fd, uint32_t events);

struct sw_watch {
	sw_loop_cb cb;
	void *arg;
	uint32_t gen;
	bool active;
};

struct sw_loop {
	int epfd;
	uint32_t gen;
	bool quit;
	bool deferred;		/* someone has work left: do not block */
	struct sw_watch w[SW_LOOP_MAX_FD];
};

int sw_loop_init(struct sw_loop *l);
void sw_loop_close(struct sw_loop *l);

/*
 * Call cb(arg, fd, events) whenever fd is readable (EPOLLIN; hang-up and
 * errors are passed through).  Watching an fd twice replaces the first
 * watch.  EMFILE if fd >= SW_LOOP_MAX_FD.
 */
int sw_loop_watch(struct sw_loop *l, int fd, sw_loop_cb cb, void *arg);
void sw_loop_unwatch(struct sw_loop *l, int fd);

/*
 * Wait for events and dispatch them once.  Blocks unless l->deferred is
 * set (the caller clears and re-sets it around its deferred work).
 * Returns 0, or -1 with errno on an epoll failure (EINTR is not one).
 */
int sw_loop_once(struct sw_loop *l);

/* Adapters for struct vu_loop (loop = the struct sw_loop). */
int sw_loop_vu_watch(void *loop, int fd, void (*cb)(void *, int, uint32_t),
    void *arg);
void sw_loop_vu_unwatch(void *loop, int fd);

#endif
