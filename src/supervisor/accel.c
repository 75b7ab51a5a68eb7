/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * accel: see accel.h.  The host is read only by accel_resolve():
 * /proc/cpuinfo and an open of /dev/kvm.
 */
#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* The first CPU's block, where its flags line is, fits in this. */
#define CPUINFO_MAX	(64 * 1024)

int
accel_wanted(enum sc_accel from_file, const char *env)
{
	if (env == NULL || *env == '\0')
		return (int)from_file;
	if (strcmp(env, "kvm") == 0)
		return SC_ACCEL_KVM;
	if (strcmp(env, "tcg") == 0)
		return SC_ACCEL_TCG;
	if (strcmp(env, "auto") == 0)
		return SC_ACCEL_AUTO;
	errno = EINVAL;
	return -1;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

bool
accel_cpuinfo_hvm(const char *cpuinfo)
{
	const char *line, *eol = NULL, *p, *w;

	for (line = cpuinfo; line != NULL && *line != '\0';
	    line = *eol != '\0' ? eol + 1 : eol) {
		eol = line + strcspn(line, "\n");
		if (strncmp(line, "flags", 5) == 0 &&
		    (is_space(line[5]) || line[5] == ':'))
			break;
	}
	if (line == NULL || *line == '\0' ||
	    (p = memchr(line, ':', (size_t)(eol - line))) == NULL)
		return false;
	/* The words of the first flags line, up to its end. */
	for (p++; p < eol;) {
		while (p < eol && is_space(*p))
			p++;
		for (w = p; p < eol && !is_space(*p); p++)
			;
		if (p - w == 3 && (memcmp(w, "vmx", 3) == 0 ||
		    memcmp(w, "svm", 3) == 0))
			return true;
	}
	return false;
}

enum sc_accel
accel_detect(const char *cpuinfo, bool kvm_opens)
{
	return accel_cpuinfo_hvm(cpuinfo) && kvm_opens ? SC_ACCEL_KVM :
	    SC_ACCEL_TCG;
}

/* /proc/cpuinfo's first CPUINFO_MAX - 1 bytes, or NULL; free() it. */
static char *
read_cpuinfo(void)
{
	char *buf = malloc(CPUINFO_MAX);
	size_t have = 0;
	ssize_t n;
	int fd;

	if (buf == NULL)
		return NULL;
	if ((fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC)) < 0) {
		free(buf);
		return NULL;
	}
	while (have < CPUINFO_MAX - 1 &&
	    (n = read(fd, buf + have, CPUINFO_MAX - 1 - have)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return buf;
}

static bool
kvm_opens(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int
accel_resolve(enum sc_accel from_file)
{
	const char *env = getenv("ISLES_ACCEL");
	int a = accel_wanted(from_file, env);
	char *cpuinfo;

	if (a < 0) {
		log_warnx("ISLES_ACCEL=%s: expected kvm, tcg or auto", env);
		return -1;
	}
	if (a != SC_ACCEL_AUTO)
		return a;
	cpuinfo = read_cpuinfo();
	a = (int)accel_detect(cpuinfo, kvm_opens());
	free(cpuinfo);
	return a;
}

const char *
accel_name(enum sc_accel a)
{
	switch (a) {
	case SC_ACCEL_KVM:
		return "kvm";
	case SC_ACCEL_TCG:
		return "tcg";
	default:
		return "auto";
	}
}
