/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vsock-client: send to a vsock stream port of another VM, inside a
 * guest (docs/links.md).
 *
 *   vsock-client [-r] [-s] [-t SECONDS] [-b BYTES] CID PORT [MESSAGE...]
 *   vsock-client -l
 *
 * Connects to PORT of the VM with CID CID and sends MESSAGE (the
 * arguments joined by spaces, plus a newline) or, without one, stdin
 * until its end; then shuts its sending side down and waits for the peer
 * to close, so that its exit means the peer has read everything.
 *   -r  copy what the peer sends back to stdout (else it is discarded)
 *   -s  a summary on stderr (bytes sent, time to the peer's close, MB/s)
 *   -t  connect timeout, default 10 s
 *   -b  the socket's receive buffer (the credit the peer may send ahead)
 *   -l  print this VM's own CID (what its vsock device says) and exit
 * Sending and receiving run together (poll), so an echoing peer never
 * deadlocks against a client still sending.  Exit status: 0 done, 1 the
 * connection failed (refused or reset: "Connection reset by peer" is
 * what a VM that may not connect there sees), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "guest/links/vsockio.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: vsock-client [-r] [-s] [-t SECONDS] "
	    "[-b BYTES] CID PORT [MESSAGE...]\n"
	    "       vsock-client -l\n");
	exit(2);
}

/* This VM's CID, from the vsock core (/dev/vsock). */
static int
local_cid(void)
{
	unsigned int cid;
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0) {
		vio_warn(errno, "/dev/vsock (is the vsock transport loaded?)");
		return 1;
	}
	close(fd);
	printf("%u\n", cid);
	return 0;
}

/* The arguments joined by spaces, plus a newline (malloc'd). */
static char *
join(int n, char **args, size_t *len)
{
	size_t total = 1;
	char *s, *p;

	for (int i = 0; i < n; i++)
		total += strlen(args[i]) + 1;
	if ((s = malloc(total)) == NULL)
		return NULL;
	p = s;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(args[i]);

		memcpy(p, args[i], l);
		p += l;
		*p++ = i + 1 < n ? ' ' : '\n';
	}
	*len = (size_t)(p - s);
	return s;
}

int
main(int argc, char **argv)
{
	static char in[VIO_CHUNK], back[VIO_CHUNK];
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK };
	int reply = 0, summary = 0, opt, fd;
	uint32_t cid, port, timeout = 10, buffer = 0;
	char *msg = NULL, *out = in;
	size_t msglen = 0, have = 0, off = 0;
	int src_eof = 0, shut = 0;
	uint64_t sent = 0, t0;
	struct timeval tv;

	vio_prog = "vsock-client";
	while ((opt = getopt(argc, argv, "rst:b:l")) != -1) {
		switch (opt) {
		case 'l':
			if (argc != 2)
				usage();
			return local_cid();
		case 'r':
			reply = 1;
			break;
		case 's':
			summary = 1;
			break;
		case 't':
			if (vio_parse_u32(optarg, 1, 86400, &timeout) < 0)
				usage();
			break;
		case 'b':
			if (vio_parse_u32(optarg, 4096, 1u << 30, &buffer) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 2 ||
	    vio_parse_u32(argv[optind], 0, UINT32_MAX - 1, &cid) < 0 ||
	    vio_parse_u32(argv[optind + 1], 0, UINT32_MAX - 1, &port) < 0)
		usage();
	if (argc - optind > 2) {
		if ((msg = join(argc - optind - 2, argv + optind + 2,
		    &msglen)) == NULL) {
			vio_warn(errno, "message");
			return 1;
		}
		out = msg;
		have = msglen;
		src_eof = 1;
	}
	if ((fd = vio_socket(buffer)) < 0) {
		vio_warn(errno, "socket (is the vsock transport loaded?)");
		return 1;
	}
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = 0;
	(void)setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
	    sizeof(tv));
	sa.svm_cid = cid;
	sa.svm_port = port;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		vio_warn(errno, "connect to %u:%u", cid, port);
		return 1;
	}
	t0 = vio_ms();
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		vio_warn(errno, "fcntl");
		return 1;
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = 0 },
		};
		ssize_t n;

		if (off < have)
			p[0].events |= POLLOUT;
		else if (!src_eof)
			p[1].events = POLLIN;
		else if (!shut) {
			/* Everything is sent: the peer sees our end. */
			if (shutdown(fd, SHUT_WR) < 0) {
				vio_warn(errno, "shutdown");
				return 1;
			}
			shut = 1;
		}
		if (poll(p, p[1].events ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			vio_warn(errno, "poll");
			return 1;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, back, sizeof(back));
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				vio_warn(errno, "%u:%u", cid, port);
				return 1;
			}
			if (n == 0) {
				if (!shut) {
					vio_warn(0, "%u:%u closed before "
					    "everything was sent", cid, port);
					return 1;
				}
				break;
			}
			if (n > 0 && reply &&
			    vio_write_all(STDOUT_FILENO, back, (size_t)n) < 0) {
				vio_warn(errno, "stdout");
				return 1;
			}
		}
		if (p[0].revents & POLLOUT) {
			n = write(fd, out + off, have - off);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				vio_warn(errno, "%u:%u: send", cid, port);
				return 1;
			}
			if (n > 0) {
				off += (size_t)n;
				sent += (uint64_t)n;
			}
			if (off == have && msg == NULL)
				off = have = 0;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, in, sizeof(in));
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				vio_warn(errno, "stdin");
				return 1;
			}
			if (n == 0)
				src_eof = 1;
			if (n > 0) {
				have = (size_t)n;
				off = 0;
			}
		}
	}
	if (summary)
		vio_summary("sent", cid, port, sent, vio_ms() - t0);
	free(msg);
	close(fd);
	return 0;
}
