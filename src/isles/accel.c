/* SPDX-License-Identifier: BSD-2-Clause */
/* accel: see accel.h.  Reads /proc/cpuinfo and opens /dev/kvm only. */
#include "accel.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Does a "flags" line of /proc/cpuinfo list vmx or svm? */
static bool
cpu_has_hvm(void)
{
	char line[8192];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (char *tok = strtok(strchr(line, ':') ? strchr(line, ':') + 1 :
		    line, " \t\n"); tok != NULL; tok = strtok(NULL, " \t\n"))
			if (strcmp(tok, "vmx") == 0 || strcmp(tok, "svm") == 0)
				found = true;
		break;
	}
	fclose(f);
	return found;
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
	enum sc_accel a = from_file;

	if (env != NULL && *env != '\0') {
		if (strcmp(env, "kvm") == 0)
			a = SC_ACCEL_KVM;
		else if (strcmp(env, "tcg") == 0)
			a = SC_ACCEL_TCG;
		else if (strcmp(env, "auto") == 0)
			a = SC_ACCEL_AUTO;
		else {
			log_warnx("ISLES_ACCEL=%s: expected kvm, tcg or auto",
			    env);
			return -1;
		}
	}
	if (a == SC_ACCEL_AUTO)
		a = cpu_has_hvm() && kvm_opens() ? SC_ACCEL_KVM : SC_ACCEL_TCG;
	return (int)a;
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
