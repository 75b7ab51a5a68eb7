/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conclient: the terminal side of the serial console, the socket loop;
 * see conclient.h and docs/console.md.  con_run joins the terminal to
 * isles-consoled with one poll loop: typed bytes go through the escape
 * parser (conesc.c), frames from the daemon through the screen formatter
 * (conscreen.c), and the terminal is raw while it runs (conterm.c).
 *
 * Called by cmd_up (foreground multiplexer) and cmd_console (viewer).
 * Trusts isles-consoled for framing only: every frame is checked (type,
 * VM number, size) before use; OUTPUT bytes are guest data.
 */
#include "conclient.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conesc.h"
#include "conscreen.h"
#include "conterm.h"
#include "log.h"
#include "monotime.h"
#include "proto.h"
#include "unixsock.h"

static int con_last_sig;

int
con_exit_signal(void)
{
	return con_last_sig;
}


static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				(void)poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Wait (bounded) for one frame of type `want`; other frames are errors. */
static int
wait_frame(int fd, struct proto_rx *rx, uint16_t want, struct proto_hdr *h,
    const uint8_t **p)
{
	uint64_t deadline = mono_ms() + 5000;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = mono_ms();
		ssize_t n;
		int r;

		r = proto_rx_next(rx, h, p);
		if (r == 1) {
			if (h->type == want)
				return 0;
			if (h->type == CON_ERROR)
				log_warnx("console: %.*s", (int)h->len, *p);
			errno = EPROTO;
			return -1;
		}
		if (t >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)(deadline - t));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		n = proto_rx_read(rx, fd);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Parse a VMS payload into names; returns the count or -1 (EPROTO). */
static int
parse_vms(const uint8_t *p, size_t len, char names[][CON_MAX_NAME + 1],
    unsigned max)
{
	unsigned n = 0;
	size_t i = 0;

	while (i < len) {
		const uint8_t *z = memchr(p + i, '\0', len - i);
		size_t l;

		if (z == NULL || n == CON_MAX_VMS)
			goto bad;
		l = (size_t)(z - (p + i));
		if (l == 0 || l > CON_MAX_NAME)
			goto bad;
		for (size_t k = 0; k < l; k++)
			if (!con_name_char(p[i + k]))
				goto bad;
		if (n < max) {
			memcpy(names[n], p + i, l);
			names[n][l] = '\0';
		}
		n++;
		i += l + 1;
	}
	if (n == 0)
		goto bad;
	return (int)(n < max ? n : max);
bad:
	errno = EPROTO;
	return -1;
}

static struct proto_rx con_rx;	/* 64 KiB: not on the stack */

int
con_list(const char *console_sock, char names[][CON_MAX_NAME + 1],
    unsigned max)
{
	struct proto_hdr h;
	const uint8_t *p;
	int fd, n = -1, e;

	fd = unixsock_connect(console_sock, 0);
	if (fd == -1)
		return -1;
	proto_rx_init(&con_rx);
	if (proto_send(fd, CON_LIST, 0, 0, NULL, 0) == 0 &&
	    wait_frame(fd, &con_rx, CON_VMS, &h, &p) == 0)
		n = parse_vms(p, h.len, names, max);
	e = errno;
	close(fd);
	errno = e;
	return n;
}

struct con_loop {
	int sock;
	int sigfd;
	bool tty_in;
	bool stdin_open;
	bool line;		/* CON_LINE: a host serial line */
	uint64_t line_dropped;	/* bytes the line could not take */
	unsigned nvms;
	char names[CON_MAX_VMS][CON_MAX_NAME + 1];
	char logdir[256];	/* R/vm, for notices */
	bool readonly;		/* escapes work, typed bytes are not sent */
	bool ro_told;
	struct con_esc esc;
	struct con_screen scr;
	struct con_sink out;
};

/*
 * A host serial line is written like a UART without flow control: what
 * it cannot take now is dropped (every byte stays in console.log), so a
 * line nobody reads never stops the console or its input.
 */
static void
line_out(struct con_loop *l)
{
	const uint8_t *b = (const uint8_t *)l->out.p;
	size_t n = l->out.len;

	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			l->line_dropped += n;
			return;
		}
		b += w;
		n -= (size_t)w;
	}
}

static void
flush_out(struct con_loop *l)
{
	if (l->out.len > 0) {
		if (l->line)
			line_out(l);
		else
			(void)write_all(STDOUT_FILENO, l->out.p, l->out.len);
		l->out.len = 0;
	}
}

static void
send_winsize(struct con_loop *l)
{
	struct winsize ws;
	uint8_t pl[CON_WINSIZE_SIZE];

	if (!l->tty_in || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == -1)
		return;
	con_winsize_encode(pl, ws.ws_row, ws.ws_col);
	for (unsigned i = 0; i < l->nvms; i++)
		if (l->esc.target & con_vm_bit(i))
			(void)proto_send(l->sock, CON_WINSIZE, 0, i, pl,
			    sizeof(pl));
}

static void
show_help(struct con_loop *l)
{
	char buf[2048];
	size_t n = 0;
	int k;

	if (l->esc.viewer >= 0) {
		k = snprintf(buf, sizeof(buf),
		    "console of %s; escapes at the start of a line:\n"
		    "  @@       send a literal @\n"
		    "  @?       this help\n"
		    "  @d, @q   detach (the system keeps running)",
		    l->names[l->esc.viewer]);
		con_screen_message(&l->scr, buf, &l->out);
		return;
	}
	k = snprintf(buf, sizeof(buf),
	    "console escapes, typed at the start of a line:\n"
	    "  @N          send input to VM number N\n"
	    "  @NAME<Ret>  send input to the VM called NAME\n"
	    "  @m N N m    send input to several VMs (ended by m or Return)\n"
	    "  @@          send a literal @\n"
	    "  @?          this help\n"
	    "  @d          detach: leave the console, the system keeps running\n"
	    "%s"
	    "VMs:", l->esc.noquit ? "" :
	    "  @q          quit: leave the console and shut the system down\n");
	if (k > 0)
		n = (size_t)k;
	for (unsigned i = 0; i < l->nvms && n < sizeof(buf); i++) {
		k = snprintf(buf + n, sizeof(buf) - n, " %u=%s%s", i,
		    l->names[i], (l->esc.target & con_vm_bit(i)) ? "*" : "");
		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, "  (* = gets input)");
	con_screen_message(&l->scr, buf, &l->out);
}

/* Echo of what you type should not wait for a newline: the partial lines
 * of the one VM that has input are shown at once (not with @m: several
 * VMs echoing the same keys would split each other's lines). */
static uint32_t
eager_set(uint32_t target)
{
	return (target & (target - 1)) == 0 ? target : 0;
}

/* Send pending typed bytes for one VM set. */
static int
send_input(struct con_loop *l, uint32_t vms, const uint8_t *p, size_t n)
{
	for (unsigned i = 0; i < l->nvms && n > 0; i++)
		if ((vms & con_vm_bit(i)) &&
		    proto_send(l->sock, CON_INPUT, 0, i, p, n) == -1)
			return -1;
	return 0;
}

/* Typed bytes: returns -1 to keep going, else an exit code. */
static int
on_keys(struct con_loop *l, const uint8_t *k, size_t n)
{
	uint8_t pend[4096];
	size_t np = 0;
	uint32_t pvms = 0;
	int rc = -1;

	for (size_t i = 0; i < n && rc == -1; i++) {
		struct con_act a;

		con_esc_feed(&l->esc, k[i], &a);
		if (a.kind == CON_ACT_SEND && l->readonly) {
			if (!l->ro_told)
				con_screen_message(&l->scr, "read-only console: "
				    "typing is not sent (@d detaches)", &l->out);
			l->ro_told = true;
			continue;
		}
		if (a.kind == CON_ACT_SEND) {
			if (np > 0 && (pvms != a.vms || np == sizeof(pend))) {
				if (send_input(l, pvms, pend, np) == -1)
					return CON_EXIT_CLOSED;
				np = 0;
			}
			pvms = a.vms;
			pend[np++] = a.byte;
			continue;
		}
		if (np > 0) {
			if (send_input(l, pvms, pend, np) == -1)
				return CON_EXIT_CLOSED;
			np = 0;
		}
		switch (a.kind) {
		case CON_ACT_SWITCH:
			con_screen_eager(&l->scr, eager_set(a.vms));
			con_screen_message(&l->scr, a.msg, &l->out);
			send_winsize(l);
			break;
		case CON_ACT_ERROR:
			con_screen_message(&l->scr, a.msg, &l->out);
			break;
		case CON_ACT_HELP:
			show_help(l);
			break;
		case CON_ACT_QUIT:
			rc = CON_EXIT_QUIT;
			break;
		case CON_ACT_DETACH:
			rc = CON_EXIT_DETACH;
			break;
		default:
			break;
		}
	}
	if (np > 0 && send_input(l, pvms, pend, np) == -1)
		return CON_EXIT_CLOSED;
	return rc;
}

static void
on_frame(struct con_loop *l, const struct proto_hdr *h, const uint8_t *p)
{
	struct con_notice nt;
	char msg[512];

	switch (h->type) {
	case CON_OUTPUT:
		if (h->chan < l->nvms)
			con_screen_output(&l->scr, h->chan, p, h->len, mono_ms(),
			    &l->out);
		break;
	case CON_NOTICE:
		if (h->chan >= l->nvms || con_notice_decode(p, h->len, &nt))
			break;
		if (nt.kind == CON_NOTICE_DROPPED)
			snprintf(msg, sizeof(msg), "%s: %llu bytes of output "
			    "dropped: this terminal did not keep up (the newest "
			    "output is in %s/%s/console.log)", l->names[h->chan],
			    (unsigned long long)nt.count, l->logdir,
			    l->names[h->chan]);
		else if (nt.kind == CON_NOTICE_DOWN)
			snprintf(msg, sizeof(msg), "%s: serial port closed "
			    "(VM stopped or restarting)", l->names[h->chan]);
		else if (nt.kind == CON_NOTICE_UP)
			snprintf(msg, sizeof(msg), "%s: serial port back",
			    l->names[h->chan]);
		else
			break;
		con_screen_message(&l->scr, msg, &l->out);
		break;
	case CON_ERROR: {
		size_t n = h->len > 300 ? 300 : h->len;
		size_t k = 0;

		k = (size_t)snprintf(msg, sizeof(msg), "isles-consoled: ");
		for (size_t i = 0; i < n && k + 1 < sizeof(msg); i++)
			msg[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
		msg[k] = '\0';
		con_screen_message(&l->scr, msg, &l->out);
		break;
	}
	default:
		break;		/* ATTACHED, or newer types: nothing to show */
	}
}

static int
loop(struct con_loop *l)
{
	for (;;) {
		struct pollfd pfd[3];
		uint64_t t = mono_ms(), next;
		int timeout = -1, r;

		next = con_screen_tick(&l->scr, t, &l->out);
		flush_out(l);
		if (next != UINT64_MAX)
			timeout = (int)(next - t);
		pfd[0] = (struct pollfd){ .fd = l->sock, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = l->sigfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = l->stdin_open ? STDIN_FILENO : -1,
		    .events = POLLIN };
		r = poll(pfd, 3, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_warn("console: poll");
			return CON_EXIT_ERROR;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH) {
					send_winsize(l);
				} else if (si.ssi_signo == SIGCONT) {
					/* The shell may have reset the mode
					 * while we were stopped. */
					if (l->tty_in)
						con_term_reraw();
				} else {
					con_last_sig = (int)si.ssi_signo;
					return CON_EXIT_SIGNAL;
				}
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct proto_hdr h;
			const uint8_t *p;
			ssize_t n = proto_rx_read(&con_rx, l->sock);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				con_screen_tick(&l->scr, UINT64_MAX - CON_QUIET_MS,
				    &l->out);
				con_screen_message(&l->scr,
				    "console closed: the system stopped", &l->out);
				flush_out(l);
				return CON_EXIT_CLOSED;
			}
			while (proto_rx_next(&con_rx, &h, &p) == 1)
				on_frame(l, &h, p);
		}
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			uint8_t k[1024];
			ssize_t n = read(STDIN_FILENO, k, sizeof(k));

			if (n > 0) {
				int rc = on_keys(l, k, (size_t)n);

				if (rc != -1) {
					flush_out(l);
					return rc;
				}
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/*
				 * A raw terminal gives 0 or EIO only once it
				 * has hung up (the window closed, the ssh
				 * session dropped): as SIGHUP, which reaches
				 * only the session leader, not us when a
				 * shell runs us without job control.
				 */
				if (l->tty_in && !l->line &&
				    (n == 0 || errno == EIO)) {
					con_last_sig = SIGHUP;
					return CON_EXIT_SIGNAL;
				}
				if (l->line) {
					log_warnx("console: serial line: %s",
					    n == 0 ? "end of input" :
					    strerror(errno));
					return CON_EXIT_ERROR;
				}
				/* No more input: keep showing output. */
				l->stdin_open = false;
			}
		}
		if (l->out.oom) {
			log_warnx("console: out of memory");
			return CON_EXIT_ERROR;
		}
	}
}

enum con_exit
con_run(const char *console_sock, int only_vm, unsigned flags)
{
	static struct con_loop l;
	struct proto_hdr h;
	const uint8_t *p;
	sigset_t mask, oldmask;
	uint8_t pl[4];
	uint16_t aflags = 0;
	bool tty_out = isatty(STDOUT_FILENO);
	int rc = CON_EXIT_ERROR, n;
	const char *slash;

	memset(&l, 0, sizeof(l));
	l.sock = l.sigfd = -1;
	slash = strrchr(console_sock, '/');
	if (slash != NULL)
		snprintf(l.logdir, sizeof(l.logdir), "%.*s/vm",
		    (int)(slash - console_sock), console_sock);
	else
		snprintf(l.logdir, sizeof(l.logdir), "vm");

	l.sock = unixsock_connect(console_sock, 0);
	if (l.sock == -1) {
		log_warn("console %s", console_sock);
		return CON_EXIT_ERROR;
	}
	proto_rx_init(&con_rx);
	if (proto_send(l.sock, CON_LIST, 0, 0, NULL, 0) == -1 ||
	    wait_frame(l.sock, &con_rx, CON_VMS, &h, &p) == -1 ||
	    (n = parse_vms(p, h.len, l.names, CON_MAX_VMS)) == -1) {
		log_warn("console %s: listing VMs", console_sock);
		goto out;
	}
	l.nvms = (unsigned)n;
	if (only_vm >= (int)l.nvms) {
		log_warnx("console: no VM %d", only_vm);
		goto out;
	}
	if (flags & CON_REPLAY)
		aflags |= CON_ATTACH_REPLAY;
	if (flags & CON_READONLY)
		aflags |= CON_ATTACH_READONLY;
	con_put_le(pl, only_vm >= 0 ? con_vm_bit((unsigned)only_vm) :
	    (l.nvms >= 32 ? UINT32_MAX : con_vm_bit(l.nvms) - 1), 4);
	if (proto_send(l.sock, CON_ATTACH, aflags, 0, pl, sizeof(pl)) == -1) {
		log_warn("console: attach");
		goto out;
	}

	con_esc_init(&l.esc, l.nvms, l.names, only_vm);
	con_esc_noquit(&l.esc, (flags & CON_NOQUIT) != 0);
	if (only_vm >= 0)
		con_screen_init(&l.scr, l.nvms, l.names, (flags & CON_PREFIX) != 0,
		    (flags & CON_PREFIX) == 0, tty_out ? "\r\n" : "\n");
	else
		con_screen_init(&l.scr, l.nvms, l.names,
		    (flags & CON_PREFIX) != 0 || !tty_out, false,
		    tty_out ? "\r\n" : "\n");
	con_screen_eager(&l.scr, eager_set(l.esc.target));

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGCONT);
	if (sigprocmask(SIG_BLOCK, &mask, &oldmask) == -1) {
		log_warn("console: sigprocmask");
		goto out;
	}
	l.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l.sigfd == -1) {
		log_warn("console: signalfd");
		goto out_mask;
	}
	l.stdin_open = true;
	l.readonly = (flags & CON_READONLY) != 0;
	l.tty_in = isatty(STDIN_FILENO);
	l.line = (flags & CON_LINE) != 0;
	l.line_dropped = 0;
	if (l.line) {
		/* stdin is the same line: its reads are poll-driven anyway. */
		int fl = fcntl(STDOUT_FILENO, F_GETFL);

		if (fl == -1 || fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK)
		    == -1) {
			log_warn("console: serial line");
			goto out_mask;
		}
	}
	if (l.tty_in && !l.line && con_term_raw(STDIN_FILENO) == -1) {
		log_warn("console: raw mode");
		con_term_restore();
		goto out_mask;
	}
	if (only_vm >= 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "console of %s%s; type @d to detach, "
		    "@? for help", l.names[only_vm],
		    (flags & CON_READONLY) ? " (read-only)" : "");
		con_screen_message(&l.scr, msg, &l.out);
	} else {
		char msg[160];

		snprintf(msg, sizeof(msg), "console of %u VM%s; input goes to "
		    "0 (%s); type @? for help", l.nvms, l.nvms == 1 ? "" : "s",
		    l.names[0]);
		con_screen_message(&l.scr, msg, &l.out);
	}
	flush_out(&l);
	send_winsize(&l);

	rc = loop(&l);
	con_screen_tick(&l.scr, UINT64_MAX - CON_QUIET_MS, &l.out);
	con_screen_break(&l.scr, &l.out);
	if (rc == CON_EXIT_DETACH)
		con_screen_message(&l.scr, "detached; the system keeps running",
		    &l.out);
	flush_out(&l);
	if (l.line && l.line_dropped > 0)
		log_warnx("console: serial line: %llu bytes of output dropped "
		    "while the line could not take them (console.log has them)",
		    (unsigned long long)l.line_dropped);
	con_term_restore();
out_mask:
	if (l.sigfd != -1)
		close(l.sigfd);
	(void)sigprocmask(SIG_SETMASK, &oldmask, NULL);
out:
	close(l.sock);
	con_sink_free(&l.out);
	return (enum con_exit)rc;
}

