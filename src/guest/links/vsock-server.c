/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vsock-server: accept vsock stream connections on a port, inside a
 * guest (docs/links.md).
 *
 *   vsock-server [-k] [-e] [-d] [-s] [-t SECONDS] [-b BYTES] PORT
 *
 * Listens on PORT of the VM's own CID, accepts a connection and copies
 * what it receives to stdout until the peer closes, then exits 0.
 *   -k  keep serving: accept the next connection after each one
 *   -e  echo: send every byte received back to the peer
 *   -d  discard: do not copy to stdout (with -s: count only)
 *   -s  a summary per connection on stderr (peer, bytes, time, MB/s)
 *   -t  give up, exit status 3, if no connection comes within SECONDS
 *   -b  the socket's receive buffer (the credit the peer may send ahead)
 * Prints "vsock-server: listening on port PORT" on stderr once it
 * listens, so that a script knows when to start the client.  Exit status:
 * 0 done, 1 a connection or output error, 2 usage, 3 timeout.
 *
 * The seed's demo: `vsock-server 1234` on the VM with CID 3, then
 * `vsock-client 3 1234 Hello, world!` on CID 4.  Trusts nothing it
 * receives (bytes are copied, never interpreted).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "guest/links/vsockio.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: vsock-server [-k] [-e] [-d] [-s] [-t SECONDS] "
	    "[-b BYTES] PORT\n");
	exit(2);
}

/* One connection, until the peer closes.  0 / -1 (reported). */
static int
serve(int c, const struct sockaddr_vm *peer, int echo, int discard,
    int summary)
{
	static char buf[VIO_CHUNK];
	uint64_t bytes = 0, t0 = vio_ms();
	ssize_t n;

	for (;;) {
		n = read(c, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vio_warn(errno, "%u:%u: receive", peer->svm_cid,
			    peer->svm_port);
			return -1;
		}
		if (n == 0)
			break;
		bytes += (uint64_t)n;
		if (!discard && vio_write_all(STDOUT_FILENO, buf,
		    (size_t)n) < 0) {
			vio_warn(errno, "stdout");
			return -1;
		}
		if (echo && vio_write_all(c, buf, (size_t)n) < 0) {
			vio_warn(errno, "%u:%u: echo", peer->svm_cid,
			    peer->svm_port);
			return -1;
		}
	}
	if (summary)
		vio_summary(echo ? "received and echoed" : "received",
		    peer->svm_cid, peer->svm_port, bytes, vio_ms() - t0);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK };
	int keep = 0, echo = 0, discard = 0, summary = 0, opt, lfd, rc = 0;
	uint32_t port, timeout = 0, buffer = 0;

	vio_prog = "vsock-server";
	while ((opt = getopt(argc, argv, "kedst:b:")) != -1) {
		switch (opt) {
		case 'k':
			keep = 1;
			break;
		case 'e':
			echo = 1;
			break;
		case 'd':
			discard = 1;
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
	if (optind + 1 != argc ||
	    vio_parse_u32(argv[optind], 0, UINT32_MAX - 1, &port) < 0)
		usage();
	if ((lfd = vio_socket(buffer)) < 0) {
		vio_warn(errno, "socket (is the vsock transport loaded?)");
		return 1;
	}
	sa.svm_cid = VMADDR_CID_ANY;
	sa.svm_port = port;
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0) {
		vio_warn(errno, "port %u", port);
		return 1;
	}
	fprintf(stderr, "vsock-server: listening on port %u\n", port);
	fflush(stderr);
	do {
		struct sockaddr_vm peer;
		socklen_t pl = sizeof(peer);
		int c;

		if (timeout != 0) {
			struct pollfd p = { .fd = lfd, .events = POLLIN };
			int r = poll(&p, 1, (int)timeout * 1000);

			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0) {
				vio_warn(0, "no connection in %u s", timeout);
				return 3;
			}
		}
		c = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			vio_warn(errno, "accept");
			return 1;
		}
		/* -b: connections inherit nothing; set theirs too. */
		if (buffer != 0) {
			uint64_t b = buffer;

			(void)setsockopt(c, AF_VSOCK,
			    SO_VM_SOCKETS_BUFFER_MAX_SIZE, &b, sizeof(b));
			(void)setsockopt(c, AF_VSOCK,
			    SO_VM_SOCKETS_BUFFER_SIZE, &b, sizeof(b));
		}
		if (serve(c, &peer, echo, discard, summary) < 0)
			rc = 1;
		close(c);
	} while (keep);
	return rc;
}
