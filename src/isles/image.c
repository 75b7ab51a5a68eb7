/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * image: find and run the guest image build (see image.h).  The build
 * itself is src/guest/image/mkimage.sh, a shell script because it is a
 * sequence of apt-get, dpkg-deb, depmod and cpio runs; this file decides
 * where the image, the agent and the script are, runs the script and
 * hands the resulting paths to `isles image` (cmd_image.c) and the
 * supervisor.  It trusts the environment (ISLES_SRC, ISLES_IMAGE_DIR) as
 * the user's own choice.
 */
#include "image.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define IMAGE_SCRIPT	"src/guest/image/mkimage.sh"

/* Directory of the running binary, without a trailing slash. */
static int
image_bindir(char *dir, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(dir, len, "%s", exe) >= len)
		return -1;
	return 0;
}

static bool
is_file(const char *path, bool exec)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (!exec || access(path, X_OK) == 0);
}

/*
 * The source tree: $ISLES_SRC, else the nearest ancestor of the binary's
 * directory (build/ or build/asan/) that holds the build script.
 */
static int
image_srcdir(const char *bindir, char *src, size_t len)
{
	const char *env = getenv("ISLES_SRC");
	char dir[PATH_MAX], path[PATH_MAX + 64];

	if (env != NULL && *env != '\0') {
		snprintf(path, sizeof(path), "%s/%s", env, IMAGE_SCRIPT);
		if (!is_file(path, false) || realpath(env, dir) == NULL) {
			log_warnx("image: ISLES_SRC=%s has no %s", env,
			    IMAGE_SCRIPT);
			return -1;
		}
		snprintf(src, len, "%s", dir);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", bindir);
	for (int depth = 0; depth < 5; depth++) {
		char *slash;

		snprintf(path, sizeof(path), "%s/%s", dir, IMAGE_SCRIPT);
		if (is_file(path, false)) {
			if ((size_t)snprintf(src, len, "%s", dir) >= len)
				return -1;
			return 0;
		}
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			break;
		*slash = '\0';
	}
	log_warnx("image: cannot find %s above %s (set ISLES_SRC to the "
	    "Isles source tree)", IMAGE_SCRIPT, bindir);
	return -1;
}

/*
 * The guest agent of the architecture (its directory of guest programs,
 * gdir: guest or guest32, see the Makefile's GUEST_ARCHES): built next to
 * the binary (build/guest/), or one level up for the sanitizer build
 * (build/asan/ builds no guest programs).
 */
static int
image_agent(const char *bindir, const char *gdir, char *agent, size_t len)
{
	static const char *const up[] = { "", "../" };

	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		char path[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/%s%s/isles-agent", bindir,
		    up[i], gdir);
		if (is_file(path, true) && realpath(path, agent) != NULL &&
		    strlen(agent) < len)
			return 0;
	}
	log_warnx("image: the guest agent is not built (no %s/%s/"
	    "isles-agent): run make", bindir, gdir);
	return -1;
}

static bool
env_is_zero(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && strcmp(v, "0") == 0;
}

const char *
image_arch_name(enum sc_arch arch)
{
	return arch == SC_ARCH_I386 ? "i386" : "x86_64";
}

int
image_arch_parse(const char *name, enum sc_arch *arch)
{
	if (strcmp(name, "x86_64") == 0)
		*arch = SC_ARCH_X86_64;
	else if (strcmp(name, "i386") == 0)
		*arch = SC_ARCH_I386;
	else
		return -1;
	return 0;
}

int
image_ensure(bool force, char *kernel, size_t klen, char *initrd,
    size_t ilen)
{
	return image_ensure_arch(SC_ARCH_X86_64, force, kernel, klen, initrd,
	    ilen);
}

int
image_ensure_arch(enum sc_arch arch, bool force, char *kernel, size_t klen,
    char *initrd, size_t ilen)
{
	char bindir[PATH_MAX], src[PATH_MAX], agent[PATH_MAX];
	char out[PATH_MAX], abs[PATH_MAX], script[PATH_MAX + 64];
	const char *env = getenv("ISLES_IMAGE_DIR");
	bool i386 = arch == SC_ARCH_I386;
	char *argv[10];
	int argc = 0, status;
	bool pvh;
	pid_t pid;

	if (image_bindir(bindir, sizeof(bindir)) < 0) {
		log_warn("image: cannot find the isles binary's directory");
		return -1;
	}
	if (image_srcdir(bindir, src, sizeof(src)) < 0 ||
	    image_agent(bindir, i386 ? "guest32" : "guest", agent,
	    sizeof(agent)) < 0)
		return -1;
	if ((size_t)snprintf(out, sizeof(out), "%s", env != NULL &&
	    *env != '\0' ? env : bindir) >= sizeof(out) - 16) {
		log_warnx("image: path too long");
		return -1;
	}
	if (env == NULL || *env == '\0')
		strcat(out, "/image");
	if (mkdir(out, 0755) < 0 && errno != EEXIST) {
		log_warn("image: mkdir %s", out);
		return -1;
	}
	/* The i386 image is a directory of its own inside the x86_64 one. */
	if (i386) {
		strcat(out, "/i386");
		if (mkdir(out, 0755) < 0 && errno != EEXIST) {
			log_warn("image: mkdir %s", out);
			return -1;
		}
	}
	/* ISLES_IMAGE_DIR may be relative; callers get absolute paths. */
	if (realpath(out, abs) == NULL) {
		log_warn("image: %s", out);
		return -1;
	}
	memcpy(out, abs, strlen(abs) + 1);
	snprintf(script, sizeof(script), "%s/%s", src, IMAGE_SCRIPT);

	argv[argc++] = (char *)"/bin/sh";
	argv[argc++] = script;
	if (force)
		argv[argc++] = (char *)"--force";
	argv[argc++] = (char *)"--arch";
	argv[argc++] = (char *)image_arch_name(arch);
	argv[argc++] = out;
	argv[argc++] = src;
	argv[argc++] = agent;
	argv[argc] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_warn("image: fork");
		return -1;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_warn("image: waitpid");
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_warnx("image: building the guest image failed (%s)", script);
		return -1;
	}
	/*
	 * The uncompressed kernel boots twice as fast under TCG (PVH entry,
	 * no decompression): the default; ISLES_PVH=0 picks the bzImage.
	 * See docs/guest-image.md.  (The i386 kernel has no PVH entry: the
	 * build writes no vmlinux for it.)
	 */
	snprintf(script, sizeof(script), "%s/vmlinux", out);
	pvh = !env_is_zero("ISLES_PVH") && is_file(script, false);
	if ((size_t)snprintf(kernel, klen, "%s/%s", out,
	    pvh ? "vmlinux" : "vmlinuz") >= klen ||
	    (size_t)snprintf(initrd, ilen, "%s/initrd.img", out) >= ilen) {
		log_warnx("image: path too long");
		return -1;
	}
	if (!is_file(kernel, false) || !is_file(initrd, false)) {
		log_warnx("image: %s or %s is missing after the build", kernel,
		    initrd);
		return -1;
	}
	return 0;
}
