/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conterm: the console's terminal in raw mode; see conterm.h.  The saved
 * mode is kept in statics because the atexit and fatal-signal paths need
 * it too.
 */
#include "conterm.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/*
 * The saved terminal mode, used by the atexit and fatal-signal paths too:
 * tcsetattr() is async-signal-safe, and these statics are written only
 * before the handlers are installed.
 */
static struct termios term_saved;
static volatile sig_atomic_t term_raw;
static int term_fd = -1;
static bool term_atexit_done;

#define N_FATAL 5
static const int fatal_sigs[N_FATAL] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	SIGABRT };
static struct sigaction fatal_old[N_FATAL];

static void
term_restore(void)
{
	if (term_raw) {
		(void)tcsetattr(term_fd, TCSADRAIN, &term_saved);
		term_raw = 0;
	}
}

static void
term_fatal(int sig)
{
	term_restore();
	/* Put back the previous disposition (default, or a sanitizer's) and
	 * let the fault happen again, or abort() continue. */
	for (int i = 0; i < N_FATAL; i++)
		if (fatal_sigs[i] == sig)
			(void)sigaction(sig, &fatal_old[i], NULL);
}

int
con_term_raw(int fd)
{
	struct termios t;
	struct sigaction sa;

	if (tcgetattr(fd, &term_saved) == -1)
		return -1;
	t = term_saved;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	term_fd = fd;
	if (!term_atexit_done) {
		if (atexit(term_restore) != 0)
			return -1;
		term_atexit_done = true;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = term_fatal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (int i = 0; i < N_FATAL; i++)
		(void)sigaction(fatal_sigs[i], &sa, &fatal_old[i]);
	if (tcsetattr(fd, TCSADRAIN, &t) == -1)
		return -1;
	term_raw = 1;
	return 0;
}

void
con_term_restore(void)
{
	term_restore();
	if (term_fd != -1) {
		for (int i = 0; i < N_FATAL; i++)
			(void)sigaction(fatal_sigs[i], &fatal_old[i], NULL);
		term_fd = -1;
	}
}

void
con_term_reraw(void)
{
	if (term_raw) {
		struct termios t = term_saved;

		cfmakeraw(&t);
		(void)tcsetattr(term_fd, TCSADRAIN, &t);
	}
}
