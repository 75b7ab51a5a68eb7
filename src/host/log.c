/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log: see log.h.  Writes one whole line per message with a single
 * write(2) so that lines of concurrent processes sharing a stderr do not
 * interleave.
 */
#include "host/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LOG_WARN, LOG_INFO, LOG_DEBUG };

static char log_prefix[96] = "isles";
static int log_verbose = 1;

void
log_init(const char *component, const char *instance)
{
	if (instance != NULL && *instance != '\0')
		snprintf(log_prefix, sizeof(log_prefix), "%s[%s]", component,
		    instance);
	else
		snprintf(log_prefix, sizeof(log_prefix), "%s", component);
}

void
log_setverbose(int level)
{
	log_verbose = level;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void log_emit(const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 1, 0)));

static void
log_emit(const char *fmt, va_list ap, const char *suffix)
{
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line), "%s: ", log_prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m > 0)
		n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (suffix != NULL) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s", suffix);
		if (m > 0)
			n += m;
		if ((size_t)n >= sizeof(line) - 1)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	if (pri <= log_verbose)
		log_emit(fmt, ap, NULL);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_verbose < 0)
		return;
	va_start(ap, fmt);
	log_emit(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 0)
		return;
	va_start(ap, fmt);
	log_emit(fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
