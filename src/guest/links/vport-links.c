/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vport-links: name the guest's virtio-serial ports, inside a guest
 * (docs/links.md).
 *
 *   vport-links [-q]
 *
 * A console link reaches a VM as a virtio-serial port with a name
 * (QEMU's `-device virtserialport,name=NAME`); the kernel makes it
 * /dev/vportNpM and tells its name in /sys/class/virtio-ports/vportNpM/
 * name.  udev would link /dev/virtio-ports/NAME to it; the Isles image
 * has no udev, so this does the same: every port with a name gets
 * /dev/virtio-ports/NAME -> ../vportNpM, links of ports that are gone are
 * removed.  Run at boot (after the virtio_console module is loaded) and
 * again whenever ports change.  -q: no message for what was done.
 *
 * The seed's console-link demo uses /dev/hvc0: the host lists the VM's
 * console links in order on the kernel command line (isles.consoles=A,B),
 * and link K also gets /dev/hvcK -> virtio-ports/NAME.  (Not a real hvc
 * tty: QEMU's virtconsole drops bytes, docs/links.md.)  A /dev/hvcK that
 * is not such a link is left alone.
 *
 * A port name comes from the host (QEMU's command line); it is used only
 * if it is 1 to 64 of [A-Za-z0-9._-] and does not start with a dot, so it
 * cannot leave the directory.  Exit status: 0 done, 1 a link could not be
 * made (the message names it), 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYS_DIR		"/sys/class/virtio-ports"
#define LINK_DIR	"/dev/virtio-ports"
#define NAME_MAX_LEN	64

static int quiet;

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

/* The port's name from sysfs into out; 0, or -1 (none, or unusable). */
static int
port_name(const char *port, char *out, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYS_DIR "/%s/name", port);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	if (out[n - 1] == '\n')
		out[n - 1] = '\0';
	return name_ok(out) ? 0 : -1;
}

/* Point LINK_DIR/name at ../port (replacing a link that points elsewhere). */
static int
link_port(const char *name, const char *port)
{
	char path[PATH_MAX], target[PATH_MAX], cur[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), LINK_DIR "/%s", name);
	snprintf(target, sizeof(target), "../%s", port);
	n = readlink(path, cur, sizeof(cur) - 1);
	if (n >= 0) {
		cur[n] = '\0';
		if (strcmp(cur, target) == 0)
			return 0;
		if (unlink(path) < 0)
			return -1;
	}
	if (symlink(target, path) < 0)
		return -1;
	if (!quiet)
		printf("%s -> /dev/%s\n", path, port);
	return 0;
}

/* Remove links whose device is gone. */
static void
prune(void)
{
	DIR *d = opendir(LINK_DIR);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), LINK_DIR "/%s", e->d_name);
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
		    stat(path, &st) < 0 && errno == ENOENT)
			unlink(path);
	}
	closedir(d);
}

#define CMDLINE_MAX	4096
#define MAX_HVC		64

/* /dev/hvcK -> virtio-ports/NAME for the K-th name of isles.consoles=. */
static int
link_hvcs(void)
{
	char buf[CMDLINE_MAX], *p, *save = NULL, *tok;
	unsigned k = 0;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "isles.consoles=")) != NULL; p++)
		if (p == buf || p[-1] == ' ')
			break;
	if (p == NULL)
		return 0;
	p += strlen("isles.consoles=");
	p[strcspn(p, " \n")] = '\0';
	for (tok = strtok_r(p, ",", &save); tok != NULL && k < MAX_HVC;
	    tok = strtok_r(NULL, ",", &save), k++) {
		char path[PATH_MAX], target[PATH_MAX], cur[PATH_MAX];
		struct stat st;
		ssize_t m;

		if (!name_ok(tok))
			continue;
		snprintf(path, sizeof(path), "/dev/hvc%u", k);
		snprintf(target, sizeof(target), "virtio-ports/%s", tok);
		if (lstat(path, &st) == 0) {
			if (!S_ISLNK(st.st_mode))
				continue;	/* a real console: not ours */
			m = readlink(path, cur, sizeof(cur) - 1);
			if (m >= 0) {
				cur[m] = '\0';
				if (strcmp(cur, target) == 0)
					continue;
			}
			if (unlink(path) < 0) {
				rc = 1;
				continue;
			}
		}
		if (symlink(target, path) < 0) {
			fprintf(stderr, "vport-links: %s: %s\n", path,
			    strerror(errno));
			rc = 1;
		} else if (!quiet) {
			printf("%s -> /dev/%s\n", path, target);
		}
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct dirent *e;
	int rc = 0;
	DIR *d;

	if (argc == 2 && strcmp(argv[1], "-q") == 0)
		quiet = 1;
	else if (argc != 1) {
		fprintf(stderr, "usage: vport-links [-q]\n");
		return 2;
	}
	if (mkdir(LINK_DIR, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "vport-links: %s: %s\n", LINK_DIR,
		    strerror(errno));
		return 1;
	}
	prune();
	if ((d = opendir(SYS_DIR)) == NULL)
		return link_hvcs();	/* no virtio-serial device */
	while ((e = readdir(d)) != NULL) {
		char name[NAME_MAX_LEN + 2];

		if (strncmp(e->d_name, "vport", 5) != 0 ||
		    port_name(e->d_name, name, sizeof(name)) < 0)
			continue;
		if (link_port(name, e->d_name) < 0) {
			fprintf(stderr, "vport-links: %s/%s: %s\n", LINK_DIR,
			    name, strerror(errno));
			rc = 1;
		}
	}
	closedir(d);
	return link_hvcs() != 0 ? 1 : rc;
}
