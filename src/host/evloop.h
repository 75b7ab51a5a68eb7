/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evloop: the one event loop of every Isles process (daemons and the
 * supervisor): epoll, level-triggered, one callback per watched fd.
 *
 * Stale events: every change to a watch (watch, new interest, unwatch)
 * gives the fd a new generation, carried in the epoll event; an event
 * that epoll_wait returned before the change is dropped, never delivered
 * to an old or replaced callback (an fd can be closed and its number
 * reused by the next callback of the same batch).  Level-triggered, so
 * nothing is lost by dropping: a condition still true is reported by the
 * next wait.
 *
 * No polling: the loop blocks in epoll_wait unless a callback asked for
 * another turn with ev_defer() (work it stopped early to bound its time).
 * Timers and signals are fds too (ev_timer_new, ev_signalfd).  The loop
 * table grows with the highest fd watched.
 *
 * Libraries do not own the loop: the vhost library is given ev_vu_watch
 * and ev_vu_unwatch (struct vu_loop's shape) with the loop as argument.
 *
 * Errors: 0 / -1 with errno.  Single-threaded.
 */
#ifndef ISLES_HOST_EVLOOP_H
#define ISLES_HOST_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*ev_cb)(void *arg, int fd, uint32_t events);

struct ev_watch {
	ev_cb cb;
	void *arg;
	uint32_t gen;
	uint32_t events;	/* interest; 0: watched but silenced */
	bool active;
};

struct ev_loop {
	int epfd;
	uint32_t gen;
	bool quit;
	bool deferred;		/* someone has work left: do not block */
	struct ev_watch *w;	/* indexed by fd */
	size_t nw;
};

int ev_loop_init(struct ev_loop *l);
void ev_loop_close(struct ev_loop *l);

/*
 * Call cb(arg, fd, events) while fd has any of `events` (EPOLLIN,
 * EPOLLOUT; EPOLLHUP and EPOLLERR always come with them).  Watching an fd
 * again replaces its callback and interest.  events 0 registers the
 * callback silenced (see ev_set_events).
 */
int ev_watch(struct ev_loop *l, int fd, uint32_t events, ev_cb cb,
    void *arg);

/*
 * Change the interest of a watched fd; 0 silences it completely (not even
 * hang-ups are reported: a peer we stopped reading from on purpose).
 * ENOENT if fd is not watched.
 */
int ev_set_events(struct ev_loop *l, int fd, uint32_t events);

/* Forget fd (before closing it; closing first is harmless too). */
void ev_unwatch(struct ev_loop *l, int fd);

/* A callback stopped early with work left: the next wait does not block. */
void ev_defer(struct ev_loop *l);

/*
 * Wait (at most timeout_ms, -1 for ever; 0 if deferred work is pending)
 * and dispatch what is ready once.  0, or -1 with errno if epoll failed
 * (EINTR is not a failure).
 */
int ev_loop_once(struct ev_loop *l, int timeout_ms);

/* ev_loop_once until ev_loop_quit() is called.  0 / -1. */
int ev_loop_run(struct ev_loop *l);
void ev_loop_quit(struct ev_loop *l);

/* struct vu_loop adapters (loop is the struct ev_loop; EPOLLIN). */
int ev_vu_watch(void *loop, int fd, void (*cb)(void *, int, uint32_t),
    void *arg);
void ev_vu_unwatch(void *loop, int fd);

/* A non-blocking CLOCK_MONOTONIC timerfd, close-on-exec; fd or -1. */
int ev_timer_new(void);

/* Arm fd to fire once in ms milliseconds (0 disarms).  0 / -1. */
int ev_timer_arm(int fd, uint64_t ms);

/* Consume a timerfd's (or eventfd's) counter; returns it (0 if none). */
uint64_t ev_drain(int fd);

/*
 * Block the n signals of sigs and return a non-blocking, close-on-exec
 * signalfd for them (fd or -1).
 */
int ev_signalfd(const int *sigs, size_t n);

#endif
