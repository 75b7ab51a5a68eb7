/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon under test of the cmocka end-to-end tests (test_links_daemon,
 * test_vsock_daemon, test_switch_ports): the binary next to the test's
 * own directory (build/PROG, or build/asan/PROG for the sanitizer build),
 * a private directory for its sockets, its pid, and the test that SIGTERM
 * ends it with status 0.  Header-only: each test binary is one file
 * (tests/unit/test_*.c), and libvtest (tests/lib) has no cmocka in it.
 * Include after <cmocka.h>; every function here is used by each of them.
 */
#ifndef ISLES_TESTS_DAEMON_FIXTURE_H
#define ISLES_TESTS_DAEMON_FIXTURE_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], bin[PATH_MAX + 32];
static pid_t daemon_pid;

/* out = dir/name */
static void
path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* bin = the daemon PROG beside this test binary's directory. */
static void
find_daemon(const char *prog)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';	/* build/tests */
	snprintf(bin, sizeof(bin), "%s/../%s", exe, prog);
}

/* Make dir from tmpl ("/tmp/islXX.XXXXXX").  Returns 0 or -1. */
static int
daemon_dir(const char *tmpl)
{
	snprintf(dir, sizeof(dir), "%s", tmpl);
	return mkdtemp(dir) != NULL ? 0 : -1;
}

/*
 * Start bin with argv (argv[0] is set to bin) and wait up to 5 s for
 * dir/ready to appear.  Returns 0, or -1 (a group set-up failure).
 */
static int
daemon_start(const char **argv, const char *ready)
{
	char p[96];

	path_of(p, sizeof(p), ready);
	argv[0] = bin;
	daemon_pid = fork();
	if (daemon_pid < 0)
		return -1;
	if (daemon_pid == 0) {
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct stat st;

		if (stat(p, &st) == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* Kill what is left of the daemon, remove the names given and dir. */
static void
daemon_stop(const char *const *names)
{
	char p[96];

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = 0;
	}
	for (; *names != NULL; names++) {
		path_of(p, sizeof(p), *names);
		unlink(p);
	}
	rmdir(dir);
}

/* SIGTERM the daemon and reap it: 0 if it exited with status 0. */
static int
daemon_term(void)
{
	pid_t pid = daemon_pid;
	int status;

	daemon_pid = 0;
	if (pid <= 0 || kill(pid, SIGTERM) < 0 ||
	    waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * SIGTERM ends the daemon with status 0.  Its sockets stay: under the
 * supervisor they are the supervisor's, and by hand the next start
 * replaces them (host_listen).  (A group teardown's failure does not
 * fail a cmocka binary, so this is a test of its own.)
 */
static void
test_sigterm_exits_0(void **state)
{
	(void)state;
	assert_true(daemon_pid > 0);
	assert_int_equal(daemon_term(), 0);
}

#endif
