/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox: no_new_privs and the seccomp allowlist of the host daemons,
 * the denylist of the supervisor (sandbox.h).  Called once per process,
 * after start-up, by every host daemon and the supervisor with their own
 * tables; trusts them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "host/log.h"
#include "host/sandbox.h"

/*
 * no_new_privs, then a filter of default action deflt with `action` for
 * each call of rules[0..n) (and what more adds); see sandbox.h.
 */
static int
load(uint32_t deflt, uint32_t action, const struct sandbox_allow *rules,
    size_t n, sandbox_more_fn *more, char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
#if defined(__SANITIZE_ADDRESS__)
	(void)deflt;
	(void)action;
	(void)rules;
	(void)n;
	(void)more;
	log_debug("sanitizer build: no seccomp filter");
	return 0;
#else
	scmp_filter_ctx ctx;
	int rc = 0;

	if ((ctx = seccomp_init(deflt)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;	/* errno: as libseccomp left it */
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = seccomp_rule_add(ctx, action, rules[i].nr, 0)) < 0)
			snprintf(err, errlen, "seccomp rule (%s): %s",
			    rules[i].why, strerror(-rc));
	if (rc == 0 && more != NULL)
		rc = more(ctx, err, errlen);
	if (rc == 0 && (rc = seccomp_load(ctx)) < 0)
		snprintf(err, errlen, "seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
#endif
}

int
sandbox_lockdown(uint32_t deflt, const struct sandbox_allow *allow,
    size_t nallow, sandbox_more_fn *more, char *err, size_t errlen)
{
	return load(deflt, SCMP_ACT_ALLOW, allow, nallow, more, err, errlen);
}

int
sandbox_denylist(uint32_t action, const struct sandbox_allow *deny,
    size_t ndeny, char *err, size_t errlen)
{
	return load(SCMP_ACT_ALLOW, action, deny, ndeny, NULL, err, errlen);
}
