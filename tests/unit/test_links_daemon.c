/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * End-to-end tests of isles-linkd through its sockets, with plain Unix
 * socket clients standing in for the two VMs' QEMUs: the daemon next to
 * this test binary (build/isles-linkd, or build/asan/isles-linkd) runs
 * two links with 4 KiB buffers, locked down as in production.  Checked:
 * bytes cross both ways in order; what a side writes before the other
 * side has connected is delivered when it connects; a reader that does
 * not read stops the writer (its socket fills and stays full: nothing is
 * dropped) and everything arrives once it reads, byte for byte; a side
 * that reconnects gets what was held for it; bytes a dying connection
 * had sent but the daemon had not read yet are still delivered, before
 * the new connection's; a second live connection for a side is refused
 * without disturbing the first; the other link is not affected; bad
 * command lines exit 2 before anything is opened; SIGTERM exits 0 and
 * removes the sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon_fixture.h"

#define BUF	4096

static int
start_daemon(void **state)
{
	char a[96], b[96], c[96], d[96], stats[96], l0[256], l1[256];
	const char *argv[] = { NULL, "--link", l0, "--link", l1, "--buffer",
	    "4K", "--stats", stats, "-q", NULL };

	(void)state;
	find_daemon("isles-linkd");
	if (daemon_dir("/tmp/isllk.XXXXXX") < 0)
		return -1;
	path_of(a, sizeof(a), "a.sock");
	path_of(b, sizeof(b), "b.sock");
	path_of(c, sizeof(c), "c.sock");
	path_of(d, sizeof(d), "d.sock");
	path_of(stats, sizeof(stats), "stats.sock");
	snprintf(l0, sizeof(l0), "l0:vma=%s,vmb=%s", a, b);
	snprintf(l1, sizeof(l1), "l1:vmc=%s,vmd=%s", c, d);
	return daemon_start(argv, "stats.sock");
}

static int
stop_daemon(void **state)
{
	static const char *const names[] = { "a.sock", "b.sock", "c.sock",
	    "d.sock", "stats.sock", NULL };

	(void)state;
	daemon_stop(names);
	return 0;
}

static int
side_connect(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	path_of(sa.sun_path, sizeof(sa.sun_path), name);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read exactly n bytes (10 s at most per wait). */
static void
read_n(int fd, uint8_t *buf, size_t n)
{
	size_t have = 0;

	while (have < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		assert_int_equal(poll(&p, 1, 10000), 1);
		k = recv(fd, buf + have, n - have, 0);
		assert_true(k > 0);
		have += (size_t)k;
	}
}

/* Nothing arrives on fd within ms. */
static void
quiet(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, ms), 0);
}

static void
write_all(int fd, const uint8_t *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = send(fd, buf + done, n - done, MSG_NOSIGNAL);

		assert_true(k > 0);
		done += (size_t)k;
	}
}

/* Write without blocking until the socket takes no more; total written. */
static size_t
fill(int fd, uint8_t *pat, size_t max)
{
	size_t done = 0;

	/* The daemon needs a moment to read what it can: wait for a write
	 * that would block three times in a row, 200 ms apart. */
	for (int still = 0; still < 3 && done < max;) {
		ssize_t k = send(fd, pat + done, max - done,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k > 0) {
			done += (size_t)k;
			still = 0;
			continue;
		}
		assert_true(k < 0 && errno == EAGAIN);
		still++;
		usleep(200000);
	}
	return done;
}

static void
pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 10));
}

/* A field of side VM from the stats JSON. */
static long long
stat_of(const char *vm, const char *field)
{
	static char buf[8192];
	char key[64], *p;
	size_t have = 0;
	ssize_t n;
	int fd = side_connect("stats.sock");

	while ((n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	close(fd);
	snprintf(key, sizeof(key), "{\"vm\":\"%s\"", vm);
	p = strstr(buf, key);
	assert_non_null(p);
	snprintf(key, sizeof(key), "\"%s\":", field);
	p = strstr(p, key);
	assert_non_null(p);
	p += strlen(key);
	if (strncmp(p, "true", 4) == 0)
		return 1;
	if (strncmp(p, "false", 5) == 0)
		return 0;
	return strtoll(p, NULL, 10);
}

static void
test_both_ways(void **state)
{
	uint8_t buf[64];
	int a = side_connect("a.sock"), b = side_connect("b.sock");

	write_all(a, (const uint8_t *)"hello from a\n", 13);
	read_n(b, buf, 13);
	assert_memory_equal(buf, "hello from a\n", 13);
	write_all(b, (const uint8_t *)"and from b\n", 11);
	read_n(a, buf, 11);
	assert_memory_equal(buf, "and from b\n", 11);
	/* The other link carries none of it. */
	{
		int c = side_connect("c.sock");

		quiet(c, 200);
		close(c);
	}
	close(a);
	close(b);
}

static void
test_before_connect(void **state)
{
	uint8_t out[1000], in[1000];
	int a = side_connect("a.sock"), b;

	/* b is down: a's bytes wait in the daemon. */
	pattern(out, sizeof(out), 1);
	write_all(a, out, sizeof(out));
	usleep(100000);
	assert_int_equal(stat_of("vmb", "held_for"), 1000);
	assert_int_equal(stat_of("vmb", "connected"), 0);
	b = side_connect("b.sock");
	read_n(b, in, sizeof(in));
	assert_memory_equal(in, out, sizeof(out));
	close(a);
	close(b);
}

static void
test_backpressure(void **state)
{
	enum { MAX = 8 << 20 };
	uint8_t *out = malloc(MAX), *in = malloc(MAX);
	int a = side_connect("a.sock"), b = side_connect("b.sock");
	long long stalls = stat_of("vma", "stalls");
	size_t n;

	assert_non_null(out);
	assert_non_null(in);
	pattern(out, MAX, 2);
	/* b does not read: a's writes stop, bounded, nothing dropped. */
	n = fill(a, out, MAX);
	assert_true(n < MAX);
	assert_true(n >= BUF);
	assert_int_equal(stat_of("vmb", "held_for"), BUF);
	assert_true(stat_of("vma", "stalls") > stalls);
	/* Still stopped a moment later: the daemon does not read a. */
	assert_int_equal(send(a, out + n, 1, MSG_DONTWAIT | MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EAGAIN);
	/* b reads it all, in order; then a may write again. */
	read_n(b, in, n);
	assert_memory_equal(in, out, n);
	write_all(a, out + n, 100);
	read_n(b, in, 100);
	assert_memory_equal(in, out + n, 100);
	close(a);
	close(b);
	free(out);
	free(in);
}

static void
test_reconnect(void **state)
{
	enum { MAX = 8 << 20 };
	uint8_t *out = malloc(MAX), *in = malloc(MAX), more[500];
	int a = side_connect("a.sock"), b = side_connect("b.sock");
	long long connects = stat_of("vmb", "connects");
	size_t n;

	assert_non_null(out);
	assert_non_null(in);

	/* b goes away; what a writes meanwhile is kept for the next b. */
	close(b);
	usleep(100000);
	pattern(out, 1000, 3);
	write_all(a, out, 1000);
	b = side_connect("b.sock");
	read_n(b, in, 1000);
	assert_memory_equal(in, out, 1000);
	assert_int_equal(stat_of("vmb", "connects"), connects + 1);

	/* b writes until it is stopped (a does not read), then dies with
	 * bytes the daemon has not read yet: they reach a, then the new
	 * b's. */
	pattern(out, MAX, 4);
	n = fill(b, out, MAX);
	assert_true(n < MAX);
	close(b);
	b = side_connect("b.sock");
	pattern(more, sizeof(more), 5);
	write_all(b, more, sizeof(more));
	read_n(a, in, n);
	assert_memory_equal(in, out, n);
	read_n(a, in, sizeof(more));
	assert_memory_equal(in, more, sizeof(more));
	quiet(a, 200);
	close(a);
	close(b);
	free(out);
	free(in);
}

static void
test_second_refused(void **state)
{
	uint8_t buf[16];
	int a = side_connect("a.sock"), b = side_connect("b.sock"), b2;
	long long refused = stat_of("vmb", "refused");

	usleep(100000);
	b2 = side_connect("b.sock");
	/* Closed by the daemon: EOF. */
	{
		struct pollfd p = { .fd = b2, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_int_equal(recv(b2, buf, sizeof(buf), 0), 0);
	}
	assert_int_equal(stat_of("vmb", "refused"), refused + 1);
	write_all(a, (const uint8_t *)"still", 5);
	read_n(b, buf, 5);
	assert_memory_equal(buf, "still", 5);
	close(b2);
	close(a);
	close(b);
}

static void
test_bad_args(void **state)
{
	static const char *bad[][4] = {
		{ "--link", "l0:a=/tmp/x", NULL },
		{ "--link", "L0:a=/tmp/x,b=/tmp/y", NULL },
		{ "--link", "l0:a=fd:99,b=/tmp/y", NULL },
		{ "--link", "l0:a=/tmp/x,b=", NULL },
		{ "--buffer", "1", "--link", "l0:a=/tmp/x,b=/tmp/y" },
		{ NULL },
	};

	find_daemon("isles-linkd");
	for (int i = 0; bad[i][0] != NULL; i++) {
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 2);
			execl(bin, bin, bad[i][0], bad[i][1], bad[i][2],
			    bad[i][3], (char *)NULL);
			_exit(127);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
	}
	/* Nothing was created for any of them. */
	assert_int_equal(access("/tmp/x", F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_before_connect),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_second_refused),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_sigterm_exits_0),
	};

	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
