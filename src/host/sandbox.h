/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox: the lock-down each host daemon (isles-diskd, isles-switchd,
 * isles-consoled, isles-dataportd, isles-linkd, isles-vsockd) applies
 * once everything it serves is open:
 * PR_SET_NO_NEW_PRIVS, then a seccomp allowlist built from the daemon's
 * own table (one reason per allowed call) over the default action the
 * daemon chooses: SCMP_ACT_ERRNO(EPERM) where a refused call must stay an
 * ordinary error, SCMP_ACT_KILL_PROCESS where it must not happen at all.
 * Sanitizer builds set no_new_privs but install no filter: the ASan/UBSan
 * runtime makes system calls of its own (shadow memory, reports).
 *
 * Trusts its caller's table.  Its own object file in libhost, so that
 * programs linking libhost without calling it (the CLI, the static guest
 * agent) do not pull in libseccomp; callers link with -lseccomp.
 *
 * Conventions: 0 / -1 with errno, and a one-line reason in err.
 */
#ifndef ISLES_SANDBOX_H
#define ISLES_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

/* One allowed system call, with any arguments. */
struct sandbox_allow {
	int nr;			/* SCMP_SYS(name) */
	const char *why;	/* who needs it; names the rule in errors */
};

/*
 * Rules a table cannot say (argument filters): add them to ctx, return 0,
 * or a negative errno with the reason written to err.
 */
typedef int sandbox_more_fn(scmp_filter_ctx ctx, char *err, size_t errlen);

/*
 * Set no_new_privs, then load a filter that allows allow[0..nallow) (and
 * what more adds, if not NULL) and applies deflt to every other call.
 * Returns 0, or -1 with err (never NULL, errlen > 0) set to
 * "no_new_privs: <strerror>", "seccomp_init failed" (errno as libseccomp
 * left it), "seccomp rule (<why>): <strerror>" or "seccomp_load:
 * <strerror>", and errno to the error shown.
 * On success in a sanitizer build no filter is loaded (logged at debug).
 */
int sandbox_lockdown(uint32_t deflt, const struct sandbox_allow *allow,
    size_t nallow, sandbox_more_fn *more, char *err, size_t errlen);

/*
 * The converse, for a process whose children inherit its filter across
 * exec (the supervisor: QEMU and the daemons are its children, and a
 * filter cannot be taken off): set no_new_privs, then load a filter that
 * applies `action` to deny[0..ndeny) (the table's `why` says why nothing
 * in the system needs the call) and allows every other call.  Same
 * returns, errors and sanitizer rule as sandbox_lockdown.
 */
int sandbox_denylist(uint32_t action, const struct sandbox_allow *deny,
    size_t ndeny, char *err, size_t errlen);

#endif
