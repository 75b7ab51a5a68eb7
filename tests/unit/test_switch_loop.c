/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/switchd/sw_loop.c, the switch's epoll loop: dispatch,
 * an fd unwatched (and its number reused) by an earlier callback of the
 * same batch is never dispatched to the old callback, deferred work makes
 * the wait non-blocking, bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "switchd/sw_loop.h"

static struct sw_loop loop;
static int calls_a, calls_b, calls_c;
static int fd_a, fd_b, fd_c;

static void
drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0)
		assert_int_equal(errno, EAGAIN);
}

static void
cb_b(void *arg, int fd, uint32_t ev)
{
	calls_b++;
	drain(fd);
}

static void
cb_c(void *arg, int fd, uint32_t ev)
{
	calls_c++;
	drain(fd);
}

/* Whoever runs first replaces the other's fd with a new, idle one. */
static void
cb_a(void *arg, int fd, uint32_t ev)
{
	int victim = fd == fd_a ? fd_b : fd_a;

	calls_a++;
	drain(fd);
	sw_loop_unwatch(&loop, victim);
	close(victim);
	fd_c = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(fd_c, victim);		/* the number is reused */
	assert_int_equal(sw_loop_watch(&loop, fd_c, cb_c, NULL), 0);
}

static void
test_stale_event_not_dispatched(void **state)
{
	uint64_t one = 1;

	assert_int_equal(sw_loop_init(&loop), 0);
	fd_a = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fd_b = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* Both callbacks swap the other out, whichever epoll reports first. */
	assert_int_equal(sw_loop_watch(&loop, fd_a, cb_a, NULL), 0);
	assert_int_equal(sw_loop_watch(&loop, fd_b, cb_a, NULL), 0);
	assert_int_equal(write(fd_a, &one, 8), 8);
	assert_int_equal(write(fd_b, &one, 8), 8);
	assert_int_equal(sw_loop_once(&loop), 0);
	/* One callback ran; the other fd's pending event was stale. */
	assert_int_equal(calls_a, 1);
	assert_int_equal(calls_c, 0);
	assert_int_equal(calls_b, 0);

	/* The new watch works. */
	assert_int_equal(write(fd_c, &one, 8), 8);
	assert_int_equal(sw_loop_once(&loop), 0);
	assert_int_equal(calls_c, 1);
	assert_int_equal(calls_a, 1);
	close(fd_c);
	close(fd_a == fd_c ? fd_b : fd_a);
	sw_loop_close(&loop);
}

static void
test_watch_replace_and_bounds(void **state)
{
	uint64_t one = 1;
	int fd;

	calls_b = calls_c = 0;
	assert_int_equal(sw_loop_init(&loop), 0);
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(sw_loop_watch(&loop, fd, cb_b, NULL), 0);
	/* Watching again replaces the callback. */
	assert_int_equal(sw_loop_watch(&loop, fd, cb_c, NULL), 0);
	assert_int_equal(write(fd, &one, 8), 8);
	assert_int_equal(sw_loop_once(&loop), 0);
	assert_int_equal(calls_b, 0);
	assert_int_equal(calls_c, 1);
	/* Unwatched: nothing dispatched, and with deferred work set the
	 * wait returns at once instead of blocking. */
	sw_loop_unwatch(&loop, fd);
	sw_loop_unwatch(&loop, fd);	/* twice is harmless */
	assert_int_equal(write(fd, &one, 8), 8);
	loop.deferred = true;
	assert_int_equal(sw_loop_once(&loop), 0);
	assert_int_equal(calls_c, 1);
	errno = 0;
	assert_int_equal(sw_loop_watch(&loop, SW_LOOP_MAX_FD, cb_b, NULL), -1);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(sw_loop_watch(&loop, -1, cb_b, NULL), -1);
	assert_int_equal(errno, EBADF);
	close(fd);
	sw_loop_close(&loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_event_not_dispatched),
		cmocka_unit_test(test_watch_replace_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
