/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conterm: the terminal the console runs on, in raw mode (every key goes
 * to the console as typed) and always given back: on con_term_restore(),
 * at exit(), and on fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT: the mode is restored, then the signal's previous disposition,
 * the default or a sanitizer's, takes over).  One terminal per process.
 * Called by the socket loop (conclient.c).  0 / -1 with errno.
 */
#ifndef ISLES_CONTERM_H
#define ISLES_CONTERM_H

/* Save fd's mode and put it in raw mode; the handlers above are set. */
int con_term_raw(int fd);

/* Give the saved mode back and drop the handlers; harmless when not raw. */
void con_term_restore(void);

/*
 * Raw mode again, if we had it: after SIGCONT (the shell may have reset
 * the terminal while we were stopped).
 */
void con_term_reraw(void);

#endif
