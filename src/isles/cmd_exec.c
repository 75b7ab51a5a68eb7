/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles exec [-t SECS] [-i] [--system NAME] VM -- CMD [ARGS...]: run a
 * command in a VM through its guest agent (via the supervisor), not the
 * serial console.  Its stdout and stderr become ours, its exit code ours
 * (128+N if killed by signal N).  -t: kill it after SECS and exit 124.
 * -i: forward our stdin (else it reads /dev/null).  Exit codes of our
 * own: 2 usage / unknown VM, 1 system not running / VM not ready.
 *
 * The socket is driven with poll(); stdin is read only while nothing is
 * waiting to be sent, so a command that fills its stdout while we are
 * sending its stdin cannot deadlock us.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "isles.h"
#include "monotime.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: isles exec [-t SECS] [-i] [--system NAME] VM -- "
	    "CMD [ARGS...]\n");
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}


int
cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "stdin", no_argument, NULL, 'i' },
		{ "system", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *vm;
	char rundir[PATH_MAX];
	static uint8_t req[PROTO_MAX_PAYLOAD];
	static uint8_t pend[PROTO_HDR_SIZE + 32768];
	size_t reqlen = 0, pendlen = 0, pendoff = 0;
	struct proto_rx *rx;
	bool with_stdin = false, stdin_open;
	double timeout = 0;
	long long deadline = 0;
	int ch, fd, rc = 1;

	while ((ch = getopt_long(argc, argv, "+t:is:h", opts, NULL)) != -1) {
		switch (ch) {
		case 't': {
			char *end;

			timeout = strtod(optarg, &end);
			if (*end != '\0' || timeout <= 0 || timeout > 1e6) {
				fprintf(stderr, "isles exec: -t %s: expected a "
				    "number of seconds\n", optarg);
				return 2;
			}
			break;
		}
		case 'i':
			with_stdin = true;
			break;
		case 's':
			name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	vm = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc) {
		fprintf(stderr, "isles exec: no command given\n");
		usage(stderr);
		return 2;
	}
	for (int i = -1; i < argc - optind; i++) {
		const char *a = i < 0 ? vm : argv[optind + i];
		size_t l = strlen(a) + 1;

		if (reqlen + l > sizeof(req)) {
			fprintf(stderr, "isles exec: command line too long "
			    "(more than %u bytes)\n", PROTO_MAX_PAYLOAD);
			return 2;
		}
		memcpy(req + reqlen, a, l);
		reqlen += l;
	}
	fd = ctl_open("exec", name, rundir, sizeof(rundir));
	if (fd < 0)
		return 1;
	if (proto_send(fd, CTL_EXEC, with_stdin ? CTL_F_STDIN : 0, 0, req,
	    reqlen) < 0) {
		fprintf(stderr, "isles exec: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	rx = malloc(sizeof(*rx));
	if (rx == NULL) {
		close(fd);
		return 1;
	}
	proto_rx_init(rx);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	stdin_open = with_stdin;
	if (timeout > 0)
		deadline = (long long)mono_ms() + (long long)(timeout * 1000);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN |
			    (pendlen > pendoff ? POLLOUT : 0) },
			{ .fd = stdin_open && pendlen == pendoff ? 0 : -1,
			    .events = POLLIN },
		};
		int wait = -1, r;
		struct proto_hdr h;
		const uint8_t *p;
		ssize_t n;

		if (deadline) {
			long long left = deadline - (long long)mono_ms();

			if (left <= 0) {
				uint32_t sig = 9;

				(void)proto_send(fd, CTL_KILL, 0, 0, &sig, 4);
				fprintf(stderr, "isles exec: %s: '%s' timed out "
				    "after %g s; killed\n", vm, argv[optind],
				    timeout);
				rc = 124;
				break;
			}
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		r = poll(pfd, 2, wait);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & POLLOUT) {
			n = send(fd, pend + pendoff, pendlen - pendoff,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				pendoff += (size_t)n;
			if (pendoff == pendlen)
				pendoff = pendlen = 0;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(0, pend + PROTO_HDR_SIZE,
			    sizeof(pend) - PROTO_HDR_SIZE);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				n = 0;
				stdin_open = false;
			}
			proto_hdr_encode(pend, CTL_STDIN, 0, 0, (uint32_t)n);
			pendlen = PROTO_HDR_SIZE + (size_t)n;
			pendoff = 0;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = proto_rx_read(rx, fd);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		rc = -1;
		while (rc == -1 && proto_rx_next(rx, &h, &p) == 1) {
			switch (h.type) {
			case CTL_STDOUT:
				(void)write_all(1, p, h.len);
				break;
			case CTL_STDERR:
				(void)write_all(2, p, h.len);
				break;
			case CTL_EXIT: {
				struct proto_exit e;

				if (h.len != sizeof(e))
					break;
				memcpy(&e, p, sizeof(e));
				rc = e.signal > 0 ? 128 + (e.signal & 127) :
				    (e.code & 255);
				break;
			}
			case CTL_ERR:
				fprintf(stderr, "isles exec: %.*s\n",
				    (int)h.len, (const char *)p);
				rc = h.flags ? h.flags : 1;
				break;
			default:
				break;
			}
		}
		if (rc != -1)
			break;
		if (n <= 0) {
			fprintf(stderr, "isles exec: %s: lost the connection "
			    "to the supervisor\n", vm);
			rc = 1;
			break;
		}
	}
	free(rx);
	close(fd);
	return rc;
}
