/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles status [--json] [--system NAME] [SYSTEM]: the VMs and daemons of a
 * running system, rendered by its supervisor (text or JSON), followed by
 * each switch's per-port counters.  The counters are asked for here, by
 * the CLI, at the moment status is asked: one connection to each
 * R/switch/<switch>/stats.sock, where isles-switchd writes one line of
 * JSON and closes (docs/switch.md).  Nobody polls, and a switch that does
 * not answer within STATS_WAIT_MS delays only this command, never the
 * supervisor.  What a switch sends is checked (one printable line, one
 * JSON object, bounded) before it is copied into --json output.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "isles.h"
#include "monotime.h"
#include "supervisor/rundir.h"
#include "unixsock.h"

#define STATS_WAIT_MS	2000
#define STATS_MAX	(1024u * 1024u)


/*
 * One line from the stats socket at path: a malloc'd NUL-terminated JSON
 * object without its newline, or NULL with errno (EPROTO: not one
 * printable line holding an object; ETIMEDOUT: no answer in time).
 */
static char *
stats_query(const char *path)
{
	long deadline = (long)mono_ms() + STATS_WAIT_MS;
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	int fd, e;

	fd = unixsock_connect(path, SOCK_NONBLOCK);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (buf == NULL)
		goto fail;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - (long)mono_ms();
		ssize_t n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= STATS_MAX) {
				errno = EPROTO;
				goto fail;
			}
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			len = 0;
	if (len < 2 || buf[0] != '{' || buf[len - 1] != '}') {
		free(buf);
		errno = EPROTO;
		return NULL;
	}
	return buf;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

/* The value of "key": in [o, end) as a number (0 if absent). */
static unsigned long long
jnum(const char *o, const char *end, const char *key)
{
	char pat[48];
	size_t pl = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", key);

	for (const char *q = o; q + pl <= end; q++)
		if (memcmp(q, pat, pl) == 0)
			return strtoull(q + pl, NULL, 10);
	return 0;
}

/* The string value of "key": in [o, end) into out ("?" if absent). */
static void
jstr(const char *o, const char *end, const char *key, char *out, size_t len)
{
	char pat[48];
	size_t pl = (size_t)snprintf(pat, sizeof(pat), "\"%s\":\"", key);

	snprintf(out, len, "?");
	for (const char *q = o; q + pl <= end; q++)
		if (memcmp(q, pat, pl) == 0) {
			const char *v = q + pl, *e = v;

			while (e < end && *e != '"' && *e != '\\')
				e++;
			snprintf(out, len, "%.*s", (int)(e - v), v);
			return;
		}
}

static const char *const drop_reasons[] = {
	"malformed", "bad_gso", "spoofed_source", "unknown_unicast", "to_self",
	"link_local", "offload", "too_big", "no_buffers", "port_down",
};

/* The ports of one switch's stats line as a table. */
static void
print_switch_text(const char *line)
{
	const char *p = strstr(line, "\"ports\":[");
	int depth = 0;

	printf("  %-14s %-6s %9s %11s %9s %11s  %s\n", "PORT", "STATE",
	    "RX PKTS", "RX BYTES", "TX PKTS", "TX BYTES", "DROPS");
	if (p == NULL)
		return;
	for (const char *o = NULL; *p != '\0'; p++) {
		if (*p == '"') {	/* skip strings: no braces inside */
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				break;
			continue;
		}
		if (*p == '{' && depth++ == 0)
			o = p;
		if (*p == '}' && depth > 0 && --depth == 0 && o != NULL) {
			const char *end = p + 1;
			char name[64], state[16], why[512] = "";
			size_t w = 0;

			jstr(o, end, "name", name, sizeof(name));
			jstr(o, end, "state", state, sizeof(state));
			for (size_t r = 0; r < sizeof(drop_reasons) /
			    sizeof(drop_reasons[0]); r++) {
				unsigned long long v = jnum(o, end,
				    drop_reasons[r]);

				if (v != 0 && w < sizeof(why))
					w += (size_t)snprintf(why + w,
					    sizeof(why) - w, "%s%s %llu",
					    w ? ", " : " (", drop_reasons[r], v);
			}
			if (w > 0 && w < sizeof(why) - 1)
				strcat(why, ")");
			printf("  %-14s %-6s %9llu %11llu %9llu %11llu  %llu%s\n",
			    name, state, jnum(o, end, "rx_packets"),
			    jnum(o, end, "rx_bytes"), jnum(o, end, "tx_packets"),
			    jnum(o, end, "tx_bytes"), jnum(o, end, "drops"), why);
			o = NULL;
		}
		if (*p == ']' && depth == 0)
			break;
	}
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_switch_dir(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/*
 * After the supervisor's answer (sup, len): every switch of the run dir
 * with its counters.  JSON: the supervisor's object gets a "switches"
 * array of the switches' own objects ({"switch":NAME,"error":WHY} for one
 * that did not answer).
 */
static void
print_switches(const char *rundir, const uint8_t *sup, size_t len, bool json)
{
	struct dirent **names = NULL;
	char dir[PATH_MAX], path[PATH_MAX];
	int n;

	if (json) {
		/* The supervisor's object ends with "}\n": reopen it. */
		while (len > 0 && (sup[len - 1] == '\n' || sup[len - 1] == ' '))
			len--;
		if (len == 0 || sup[len - 1] != '}') {
			fwrite(sup, 1, len, stdout);
			return;
		}
		fwrite(sup, 1, len - 1, stdout);
		printf(",\"switches\":[");
	} else {
		fwrite(sup, 1, len, stdout);
	}
	n = rd_path(dir, sizeof(dir), "%s/switch", rundir) < 0 ? -1 :
	    scandir(dir, &names, is_switch_dir, name_cmp);
	for (int i = 0; i < n; i++) {
		const char *sw = names[i]->d_name;
		char *line = NULL;
		int e = 0;

		if (rd_path(path, sizeof(path), "%s/%s/stats.sock", dir, sw) < 0)
			e = ENAMETOOLONG;
		else if ((line = stats_query(path)) == NULL)
			e = errno;
		if (json && line != NULL)
			printf("%s%s", i ? "," : "", line);
		else if (json)	/* names are [a-z0-9_-]: no escaping */
			printf("%s{\"switch\":\"%s\",\"error\":\"%s\"}",
			    i ? "," : "", sw, strerror(e));
		else if (line != NULL) {
			printf("\nswitch %s:\n", sw);
			print_switch_text(line);
		} else
			printf("\nswitch %s: no counters (%s: %s)\n", sw, path,
			    strerror(e));
		free(line);
		free(names[i]);
	}
	free(names);
	if (json)
		printf("]}\n");
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "system", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	char rundir[PATH_MAX];
	struct proto_rx *rx;
	struct proto_hdr h;
	const uint8_t *p;
	bool json = false;
	int ch, fd, rc = 1;

	while ((ch = getopt_long(argc, argv, "+js:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 's':
			name = optarg;
			break;
		case 'h':
			printf("usage: isles status [--json] [--system NAME]\n");
			return 0;
		default:
			fprintf(stderr, "usage: isles status [--json] "
			    "[--system NAME]\n");
			return 2;
		}
	}
	if (cli_system_operand(argc, argv, &name) < 0) {
		fprintf(stderr, "usage: isles status [--json] [--system NAME]\n");
		return 2;
	}
	fd = ctl_open("status", name, rundir, sizeof(rundir));
	if (fd < 0)
		return 1;
	rx = malloc(sizeof(*rx));
	if (rx == NULL) {
		close(fd);
		return 1;
	}
	proto_rx_init(rx);
	if (proto_send(fd, CTL_STATUS, json ? CTL_F_JSON : 0, 0, NULL, 0) < 0 ||
	    ctl_recv(fd, rx, &h, &p) != 1) {
		fprintf(stderr, "isles status: no answer from the supervisor "
		    "of %s\n", rundir);
	} else if (h.type == CTL_OK) {
		print_switches(rundir, p, h.len, json);
		rc = 0;
	} else if (h.type == CTL_ERR) {
		fprintf(stderr, "isles status: %.*s\n", (int)h.len,
		    (const char *)p);
	}
	free(rx);
	close(fd);
	return rc;
}
