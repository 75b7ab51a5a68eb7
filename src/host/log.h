/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log: the one logging vocabulary of every Isles process.
 *
 * Messages go to stderr as "COMPONENT[NAME]: message".  log_warn appends
 * strerror(errno); log_warnx does not.  fatal/fatalx are for broken
 * invariants of our own making only, never for anything a guest or a user
 * can cause: those are reported and handled.
 */
#ifndef ISLES_LOG_H
#define ISLES_LOG_H

#include <stdarg.h>

/* Set the prefix: component ("isles-diskd") and optional instance ("sata"). */
void log_init(const char *component, const char *instance);
/* 0 = warnings only, 1 = info (default), 2 = debug; -1 = nothing at all
 * (the fuzz targets, which feed hostile input at 100k messages a second). */
void log_setverbose(int level);
int log_getverbose(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void vlog(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
