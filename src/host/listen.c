/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen: see listen.h.  Trusts its caller's path; not what it finds
 * there.
 */
#include "host/listen.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Whether a process still accepts on the socket at sa. */
static int
alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0), r;

	if (fd < 0)
		return -1;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
	    errno == EAGAIN;
	close(fd);
	return r;
}

int
host_listen(const char *path, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, r, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		if ((r = alive(&sa)) != 0) {
			if (r > 0)
				errno = EADDRINUSE;
			return -1;
		}
		if (unlink(path) < 0 && errno != ENOENT)
			return -1;
	} else if (errno != ENOENT) {
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	old = umask((mode_t)(~mode & 0777));
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	umask(old);
	if (r < 0 || listen(fd, HOST_LISTEN_BACKLOG) < 0) {
		if (r == 0)
			e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
