/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the host layer (src/host): the event loop (dispatch, an
 * fd unwatched and its number reused by an earlier callback of the same
 * batch is never dispatched to the old callback, silenced fds, deferred
 * work, timers, signals), Unix-socket listening (the one stale-socket
 * policy, the mode), and number parsing.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/evloop.h"
#include "host/fds.h"
#include "host/listen.h"
#include "host/parse.h"

static struct ev_loop loop;
static int calls_a, calls_b, calls_c;
static int fd_a, fd_b, fd_c;

static void
cb_count(void *arg, int fd, uint32_t ev)
{
	(*(int *)arg)++;
	ev_drain(fd);
}

/* Whoever runs first replaces the other's fd with a new, idle one. */
static void
cb_swap(void *arg, int fd, uint32_t ev)
{
	int victim = fd == fd_a ? fd_b : fd_a;

	calls_a++;
	ev_drain(fd);
	ev_unwatch(&loop, victim);
	close(victim);
	fd_c = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(fd_c, victim);		/* the number is reused */
	assert_int_equal(ev_watch(&loop, fd_c, EPOLLIN, cb_count, &calls_c),
	    0);
}

static void
test_stale_event_not_dispatched(void **state)
{
	uint64_t one = 1;

	calls_a = calls_c = 0;
	assert_int_equal(ev_loop_init(&loop), 0);
	fd_a = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fd_b = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(ev_watch(&loop, fd_a, EPOLLIN, cb_swap, NULL), 0);
	assert_int_equal(ev_watch(&loop, fd_b, EPOLLIN, cb_swap, NULL), 0);
	assert_int_equal(write(fd_a, &one, 8), 8);
	assert_int_equal(write(fd_b, &one, 8), 8);
	assert_int_equal(ev_loop_once(&loop, -1), 0);
	/* One callback ran; the other fd's pending event was stale. */
	assert_int_equal(calls_a, 1);
	assert_int_equal(calls_c, 0);
	/* The new watch works. */
	assert_int_equal(write(fd_c, &one, 8), 8);
	assert_int_equal(ev_loop_once(&loop, -1), 0);
	assert_int_equal(calls_c, 1);
	assert_int_equal(calls_a, 1);
	close(fd_c);
	close(fd_a == fd_c ? fd_b : fd_a);
	ev_loop_close(&loop);
}

static void
test_replace_silence_defer(void **state)
{
	uint64_t one = 1;
	int fd, big;

	calls_b = calls_c = 0;
	assert_int_equal(ev_loop_init(&loop), 0);
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(ev_watch(&loop, fd, EPOLLIN, cb_count, &calls_b), 0);
	/* Watching again replaces the callback. */
	assert_int_equal(ev_watch(&loop, fd, EPOLLIN, cb_count, &calls_c), 0);
	assert_int_equal(write(fd, &one, 8), 8);
	assert_int_equal(ev_loop_once(&loop, -1), 0);
	assert_int_equal(calls_b, 0);
	assert_int_equal(calls_c, 1);
	/* Silenced: nothing dispatched; a timeout instead of blocking. */
	assert_int_equal(ev_set_events(&loop, fd, 0), 0);
	assert_int_equal(write(fd, &one, 8), 8);
	assert_int_equal(ev_loop_once(&loop, 50), 0);
	assert_int_equal(calls_c, 1);
	/* Back on: the event that waited is delivered. */
	assert_int_equal(ev_set_events(&loop, fd, EPOLLIN), 0);
	assert_int_equal(ev_loop_once(&loop, -1), 0);
	assert_int_equal(calls_c, 2);
	/* Unwatched (twice is harmless); deferred work: no blocking. */
	ev_unwatch(&loop, fd);
	ev_unwatch(&loop, fd);
	assert_int_equal(ev_set_events(&loop, fd, EPOLLIN), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(write(fd, &one, 8), 8);
	ev_defer(&loop);
	assert_int_equal(ev_loop_once(&loop, -1), 0);
	assert_int_equal(calls_c, 2);
	assert_false(loop.deferred);
	/* Any fd number: the table grows. */
	big = fcntl(fd, F_DUPFD_CLOEXEC, 900);
	assert_true(big >= 900);
	assert_int_equal(ev_watch(&loop, big, EPOLLIN, cb_count, &calls_b), 0);
	assert_int_equal(ev_loop_once(&loop, -1), 0);
	assert_int_equal(calls_b, 1);
	assert_int_equal(ev_watch(&loop, -1, EPOLLIN, cb_count, NULL), -1);
	assert_int_equal(errno, EBADF);
	close(big);
	close(fd);
	ev_loop_close(&loop);
}

static void
test_timer_and_signal(void **state)
{
	int sigs[] = { SIGUSR1 };
	int t, s, fired = 0, got = 0;

	assert_int_equal(ev_loop_init(&loop), 0);
	t = ev_timer_new();
	assert_true(t >= 0);
	assert_int_equal(ev_watch(&loop, t, EPOLLIN, cb_count, &fired), 0);
	assert_int_equal(ev_timer_arm(t, 10), 0);
	while (fired == 0)
		assert_int_equal(ev_loop_once(&loop, -1), 0);
	/* Disarmed: does not fire again. */
	assert_int_equal(ev_timer_arm(t, 0), 0);
	assert_int_equal(ev_loop_once(&loop, 30), 0);
	assert_int_equal(fired, 1);
	s = ev_signalfd(sigs, 1);
	assert_true(s >= 0);
	assert_int_equal(ev_watch(&loop, s, EPOLLIN, cb_count, &got), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	while (got == 0)
		assert_int_equal(ev_loop_once(&loop, -1), 0);
	close(t);
	close(s);
	ev_loop_close(&loop);
}

static char *
tmp_path(const char *name)
{
	static char dir[64];
	static char p[128];

	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/isl.host.XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
test_listen_policy(void **state)
{
	char *p = tmp_path("a.sock"), path[128], longp[200];
	struct stat st;
	int fd, fd2, f;

	strcpy(path, p);
	fd = host_listen(path, 0600);
	assert_true(fd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	/* Somebody listens there: never stolen. */
	assert_int_equal(host_listen(path, 0600), -1);
	assert_int_equal(errno, EADDRINUSE);
	/* Its owner died: the stale socket is replaced, mode as asked. */
	close(fd);
	fd2 = host_listen(path, 0660);
	assert_true(fd2 >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	close(fd2);
	unlink(path);
	/* Not a socket: never removed. */
	f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(f >= 0);
	close(f);
	assert_int_equal(host_listen(path, 0600), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	/* Too long for sun_path: refused, not truncated. */
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(host_listen(longp, 0600), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void
test_parse_numbers(void **state)
{
	uint64_t v;
	unsigned u;
	int fd;

	assert_int_equal(host_parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(host_parse_u64("18446744073709551615", 0, UINT64_MAX,
	    &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(host_parse_u64("18446744073709551616", 0, UINT64_MAX,
	    &v), -1);
	assert_int_equal(errno, ERANGE);
	/* strtoull takes all of these; we take none. */
	static const char *bad[] = { "-1", " 1", "+1", "1 ", "0x10", "",
	    "1e3", "12a", NULL };
	for (size_t i = 0; bad[i] != NULL; i++) {
		errno = 0;
		assert_int_equal(host_parse_u64(bad[i], 0, UINT64_MAX, &v), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(host_parse_u64(NULL, 0, 1, &v), -1);
	assert_int_equal(host_parse_uint("101", 0, 100, &u), -1);
	assert_int_equal(host_parse_uint("7", 8, 100, &u), -1);
	assert_int_equal(host_parse_uint("100", 0, 100, &u), 0);
	assert_int_equal(u, 100);
	/* fds: >= 3, open. */
	fd = eventfd(0, EFD_CLOEXEC);
	char s[16];
	snprintf(s, sizeof(s), "%d", fd);
	assert_int_equal(host_parse_fd(s), fd);
	close(fd);
	assert_int_equal(host_parse_fd(s), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(host_parse_fd("2"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(host_parse_fd("-5"), -1);
	/* "fd:N": the prefix, then the same rules. */
	fd = eventfd(0, EFD_CLOEXEC);
	snprintf(s, sizeof(s), "fd:%d", fd);
	assert_int_equal(host_parse_fd_arg(s), fd);
	assert_int_equal(host_parse_fd_arg(s + 3), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
	assert_int_equal(host_parse_fd_arg(s), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(host_parse_fd_arg("fd:"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(host_parse_fd_arg("fd:-3"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(host_parse_fd_arg(NULL), -1);
}

static void
test_parse_sizes(void **state)
{
	uint64_t v;

	assert_int_equal(host_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(host_parse_size("256M", &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(host_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(host_parse_size("16777215T", &v), 0);
	assert_int_equal(host_parse_size("16777216T", &v), -1);
	assert_int_equal(errno, ERANGE);
	static const char *bad[] = { "0", "0M", "1m", "1MB", "-1M", "1.5G",
	    " 1M", "M", "", NULL };
	for (size_t i = 0; bad[i] != NULL; i++) {
		errno = 0;
		assert_int_equal(host_parse_size(bad[i], &v), -1);
		assert_int_equal(errno, EINVAL);
	}
}

/* host_close_others: what is kept stays, everything else above 2 goes. */
static void
test_close_others(void **state)
{
	int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
	int c = open("/dev/null", O_RDONLY), d = open("/dev/null", O_RDONLY);
	int keep[2], dup2x[2];

	assert_true(a > 2 && b > a && c > b && d > c);
	/* Two names for one fd, or stdio: refused, nothing closed. */
	dup2x[0] = b;
	dup2x[1] = b;
	assert_int_equal(host_close_others(dup2x, 2), -1);
	assert_int_equal(errno, EINVAL);
	dup2x[0] = 1;
	assert_int_equal(host_close_others(dup2x, 1), -1);
	assert_true(fcntl(a, F_GETFD) >= 0 && fcntl(d, F_GETFD) >= 0);
	keep[0] = d;		/* unsorted on purpose */
	keep[1] = b;
	assert_int_equal(host_close_others(keep, 2), 0);
	assert_true(fcntl(b, F_GETFD) >= 0);
	assert_true(fcntl(d, F_GETFD) >= 0);
	assert_true(fcntl(a, F_GETFD) == -1 && errno == EBADF);
	assert_true(fcntl(c, F_GETFD) == -1 && errno == EBADF);
	assert_true(fcntl(1, F_GETFD) >= 0);
	close(b);
	close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_event_not_dispatched),
		cmocka_unit_test(test_replace_silence_defer),
		cmocka_unit_test(test_timer_and_signal),
		cmocka_unit_test(test_listen_policy),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_sizes),
		cmocka_unit_test(test_close_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
