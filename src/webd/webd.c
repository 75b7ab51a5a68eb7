/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-webd: the running system in a browser (docs/web.md).  Started by
 * `isles web` (src/isles/cmd_web.c) for one running system; one process,
 * one libwebsockets event loop:
 *
 *   HTTP       the page's static files from DIR (build/web beside the
 *              binary), only a fixed list of names; every request needs
 *              the token: ?token=T once (answered by a redirect that sets
 *              an HttpOnly, SameSite=Strict cookie), then the cookie.
 *   /ws/status  WebSocket: the picture (SVG from `isles graph`, handed
 *              over by isles web on --graph-fd), then the status (the
 *              supervisor's STATUS and every switch's counters, polled
 *              once a second, sent when it changed); takes restart and
 *              down requests (src/proto/ctl.h, as `isles restart` and
 *              `isles down` send them).
 *   /ws/console/N  WebSocket: VM N's serial console, through isles-consoled
 *              as an ordinary client (src/proto/conproto.h): the replay
 *              ring, then live output; input and window size from the page.
 *
 * The framing between the page and us, the per-client queue (bounded,
 * oldest output dropped: a slow or vanished browser never slows a VM or
 * the console server) and the access checks are webmsg.c.
 *
 * Trusts: the supervisor and isles-consoled for framing only (every frame
 * is checked); nothing from the browser (every message goes through
 * webmsg_parse; the token and Origin are checked before a WebSocket is
 * accepted).  Locked down once listening (lockdown(): no_new_privs and a
 * seccomp allowlist, as the daemons).  Lives as long as the system: a connection to
 * isles-consoled is held, and its closing (the system stopped) ends us.
 *
 *   isles-webd --run-dir R --listen ADDR:PORT --graph-fd N [--web-dir DIR]
 *   environment: ISLES_WEB_TOKEN (32 hex digits; removed once read)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "conproto.h"
#include "ctl.h"
#include "log.h"
#include "monotime.h"
#include "proto.h"
#include "sandbox.h"
#include "unixsock.h"
#include "webd/webd.h"
#include "webd/webmsg.h"

/*
 * Per browser connection: our queue (a full replay, the picture, and room
 * to spare) and the kernel's send buffer (requested small, as
 * isles-consoled does for its clients, so that what a page does not read
 * piles up where it is bounded and dropped oldest first: here).
 */
#define WEB_QUEUE_LIMIT	(256u * 1024u)
#define WEB_SNDBUF	(32 * 1024)
#define WEB_POLL_US	(1000 * 1000)	/* status poll period */

/* What an adopted descriptor (not a browser connection) is. */
enum raw_kind {
	RAW_SENTINEL,	/* our own console.sock connection: system alive */
	RAW_CONSOLE,	/* one console WebSocket's console.sock connection */
	RAW_CTL,	/* a RESTART or DOWN request waiting for its answer */
	RAW_SIGNAL,	/* signalfd: SIGTERM, SIGINT, SIGHUP */
};

struct session;

struct raw {
	enum raw_kind kind;
	int fd;
	struct session *s;	/* RAW_CONSOLE: the WebSocket (NULL: gone) */
	char vm[WEBMSG_NAME_MAX + 1];	/* RAW_CTL restart: the VM */
	bool down;		/* RAW_CTL: a DOWN request */
	struct proto_rx rx;
};

/* One browser connection (lws per-session data of the one protocol). */
struct session {
	struct session *next;
	struct lws *wsi;
	bool ws;		/* an established WebSocket (else HTTP) */
	enum webmsg_conn kind;
	unsigned vm;		/* console: the VM's index */
	struct lws *con;	/* console: the raw console.sock wsi */
	struct raw *raw;
	struct webq q;
	size_t rxlen;
	bool rxbad;
	uint8_t rxbuf[WEBMSG_INPUT_MAX + 16];
};

static struct web {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	char rundir[128];	/* <= RD_MAX_PATH (src/supervisor/rundir.h) */
	char webdir[PATH_MAX];
	char token[WEBMSG_TOKEN_LEN + 1];
	char *graph;
	size_t graph_len;
	char *status;		/* the last status sent */
	unsigned nvms;
	char names[CON_MAX_VMS][CON_MAX_NAME + 1];
	struct session *sessions;
	lws_sorted_usec_list_t sul;
	bool done;
} W;

static const struct {
	const char *uri, *file, *mime;
} web_files[] = {
	{ "/", "index.html", "text/html; charset=utf-8" },
	{ "/index.html", "index.html", "text/html; charset=utf-8" },
	{ "/app.js", "app.js", "text/javascript" },
	{ "/app.css", "app.css", "text/css" },
	{ "/xterm.js", "xterm.js", "text/javascript" },
	{ "/xterm.css", "xterm.css", "text/css" },
	{ "/addon-fit.js", "addon-fit.js", "text/javascript" },
};

/* ---- sessions ---- */

static void
session_send(struct session *s, enum webmsg_type type, const void *p,
    size_t len)
{
	if (webq_push(&s->q, type, p, len) < 0) {
		log_warnx("web: a page does not read its messages (%s): "
		    "closing it", strerror(errno));
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND,
		    LWS_TO_KILL_ASYNC);
		return;
	}
	lws_callback_on_writable(s->wsi);
}

static void
broadcast_status(enum webmsg_type type, const void *p, size_t len)
{
	for (struct session *s = W.sessions; s != NULL; s = s->next)
		if (s->ws && s->kind == WEBMSG_CONN_STATUS)
			session_send(s, type, p, len);
}

static void
session_unlink(struct session *s)
{
	for (struct session **pp = &W.sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
}

/* ---- adopted descriptors ---- */

/*
 * Watch fd in the event loop as r (which the loop then owns: freed when
 * the descriptor closes).  On failure fd is closed and r freed.  r is
 * attached only once the descriptor is adopted, so that a failing
 * adoption's close callback finds nothing to free.
 */
static struct lws *
adopt(int fd, struct raw *r)
{
	lws_adopt_desc_t d;
	struct lws *wsi;

	memset(&d, 0, sizeof(d));
	d.vh = W.vh;
	d.type = LWS_ADOPT_RAW_FILE_DESC;
	d.fd.filefd = fd;
	d.vh_prot_name = "isles-raw";
	r->fd = fd;
	wsi = lws_adopt_descriptor_vhost_via_info(&d);
	if (wsi == NULL) {
		log_warnx("web: cannot watch a descriptor");
		free(r);
		return NULL;
	}
	lws_set_opaque_user_data(wsi, r);
	return wsi;
}

/* A console.sock frame for session s (NULL: the WebSocket is gone). */
static int
console_frame(struct session *s, const struct proto_hdr *h,
    const uint8_t *p)
{
	struct con_notice n;
	char txt[96];
	int k;

	if (s == NULL)
		return 0;
	switch (h->type) {
	case CON_OUTPUT:
		if (h->chan != s->vm)
			return 0;
		session_send(s, h->flags & CON_OUTPUT_REPLAY ? WEBMSG_REPLAY :
		    WEBMSG_OUTPUT, p, h->len);
		return 0;
	case CON_ATTACHED:
		session_send(s, WEBMSG_ATTACHED, NULL, 0);
		return 0;
	case CON_NOTICE:
		if (con_notice_decode(p, h->len, &n) < 0)
			return -1;
		if (n.kind == CON_NOTICE_DROPPED)
			k = snprintf(txt, sizeof(txt), "{\"kind\":\"dropped\","
			    "\"count\":%llu}", (unsigned long long)n.count);
		else if (n.kind == CON_NOTICE_DOWN || n.kind == CON_NOTICE_UP)
			k = snprintf(txt, sizeof(txt), "{\"kind\":\"%s\"}",
			    n.kind == CON_NOTICE_DOWN ? "down" : "up");
		else
			return 0;
		session_send(s, WEBMSG_NOTICE, txt, (size_t)k);
		return 0;
	case CON_ERROR:
		session_send(s, WEBMSG_MESSAGE, p, h->len);
		return 0;
	default:
		return -1;
	}
}

/* An answer on a RESTART / DOWN connection. */
static void
ctl_frame(struct raw *r, const struct proto_hdr *h, const uint8_t *p)
{
	char msg[256];
	int n = 0;

	if (r->down)
		return;		/* EVENT frames while stopping */
	if (h->type == CTL_OK)
		n = snprintf(msg, sizeof(msg), "%s restarted and ready", r->vm);
	else if (h->type == CTL_ERR)
		n = snprintf(msg, sizeof(msg), "restart %s: %.*s", r->vm,
		    (int)(h->len > 200 ? 200 : h->len), (const char *)p);
	if (n > 0) {
		for (int i = 0; i < n; i++)	/* supervisor text: printable */
			if ((unsigned char)msg[i] < 0x20 ||
			    (unsigned char)msg[i] > 0x7e)
				msg[i] = '?';
		broadcast_status(WEBMSG_MESSAGE, msg, (size_t)n);
	}
}

/* Readable raw descriptor: returns -1 to close it. */
static int
raw_readable(struct raw *r)
{
	struct proto_hdr h;
	const uint8_t *p;
	ssize_t n;

	if (r->kind == RAW_SIGNAL) {
		struct signalfd_siginfo si;

		if (read(r->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			log_info("signal %u: stopping", si.ssi_signo);
			W.done = true;
			lws_cancel_service(W.ctx);
		}
		return 0;
	}
	n = proto_rx_read(&r->rx, r->fd);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	while (proto_rx_next(&r->rx, &h, &p) == 1) {
		if (r->kind == RAW_CONSOLE && console_frame(r->s, &h, p) < 0) {
			log_warnx("web: unexpected frame %u from the console",
			    h.type);
			return -1;
		}
		if (r->kind == RAW_CTL)
			ctl_frame(r, &h, p);
	}
	return 0;
}

static int
cb_raw(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct raw *r = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (r == NULL)
			return -1;
		return raw_readable(r);
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (r == NULL)
			return 0;
		if (r->kind == RAW_SENTINEL) {
			log_info("the console server closed: the system "
			    "stopped");
			W.done = true;
			lws_cancel_service(W.ctx);
		}
		if (r->kind == RAW_CONSOLE && r->s != NULL) {
			r->s->con = NULL;
			r->s->raw = NULL;
			lws_set_timeout(r->s->wsi, PENDING_TIMEOUT_CLOSE_SEND,
			    LWS_TO_KILL_ASYNC);
		}
		lws_set_opaque_user_data(wsi, NULL);
		free(r);
		return 0;
	default:
		return 0;
	}
}

/* ---- requests to the supervisor ---- */

static void
ctl_request(uint16_t type, const char *vm)
{
	struct raw *r = calloc(1, sizeof(*r));
	uint32_t timeout = 0;
	int fd;

	if (r == NULL)
		return;
	fd = web_ctl_connect(W.rundir);
	if (fd < 0) {
		broadcast_status(WEBMSG_MESSAGE, "the supervisor does not "
		    "answer", 27);
		free(r);
		return;
	}
	r->kind = RAW_CTL;
	r->down = type == CTL_DOWN;
	proto_rx_init(&r->rx);
	if (vm != NULL)
		snprintf(r->vm, sizeof(r->vm), "%s", vm);
	if ((type == CTL_DOWN ? proto_send(fd, CTL_DOWN, 0, 0, &timeout, 4) :
	    proto_send(fd, CTL_RESTART, 0, 0, r->vm, strlen(r->vm) + 1)) < 0) {
		close(fd);
		free(r);
		return;
	}
	log_info("web: %s%s requested from a page",
	    type == CTL_DOWN ? "down" : "restart ", vm != NULL ? vm : "");
	(void)adopt(fd, r);
}

/* ---- the status feed ---- */

static void
status_tick(lws_sorted_usec_list_t *sul)
{
	char *st = web_status_fetch(W.rundir);

	if (st != NULL && (W.status == NULL || strcmp(st, W.status) != 0)) {
		free(W.status);
		W.status = st;
		broadcast_status(WEBMSG_STATUS, st, strlen(st));
	} else {
		free(st);
	}
	lws_sul_schedule(W.ctx, 0, &W.sul, status_tick, WEB_POLL_US);
}

/* ---- HTTP and WebSocket ---- */

static bool
authed(struct lws *wsi)
{
	char c[WEBMSG_TOKEN_LEN + 8];
	size_t max = sizeof(c);

	if (lws_http_cookie_get(wsi, "isles_token", c, &max) != 0)
		return false;
	return webmsg_token_eq(W.token, c);
}

static int
http_deny(struct lws *wsi, unsigned code, const char *why)
{
	if (lws_return_http_status(wsi, code, why))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ?token=T: set the cookie and send the browser to the page itself. */
static int
http_login(struct lws *wsi)
{
	uint8_t buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
	    *end = buf + sizeof(buf) - 1;
	char cookie[128];
	int n;

	n = snprintf(cookie, sizeof(cookie), "isles_token=%s; Path=/; "
	    "HttpOnly; SameSite=Strict", W.token);
	if (lws_add_http_header_status(wsi, HTTP_STATUS_FOUND, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_LOCATION,
	    (const uint8_t *)"/", 1, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const uint8_t *)"set-cookie:",
	    (const uint8_t *)cookie, n, &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const uint8_t *)"cache-control:", (const uint8_t *)"no-store", 8,
	    &p, end) ||
	    lws_add_http_header_content_length(wsi, 0, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int
http_request(struct lws *wsi, const char *uri)
{
	static const char csp[] = "default-src 'self'; "
	    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
	    "frame-ancestors 'none'";
	uint8_t hdr[1024], *p = hdr, *end = hdr + sizeof(hdr);
	char tok[WEBMSG_TOKEN_LEN + 16], path[PATH_MAX + 32];
	const char *t;
	int r;

	t = lws_get_urlarg_by_name(wsi, "token=", tok, (int)sizeof(tok));
	if (t != NULL && webmsg_token_eq(W.token, t))
		return http_login(wsi);
	if (!authed(wsi))
		return http_deny(wsi, HTTP_STATUS_FORBIDDEN, "isles web: open "
		    "the address with the token that isles web printed");
	for (size_t i = 0; i < sizeof(web_files) / sizeof(web_files[0]); i++) {
		if (strcmp(uri, web_files[i].uri) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", W.webdir,
		    web_files[i].file);
		if (lws_add_http_header_by_name(wsi,
		    (const uint8_t *)"cache-control:",
		    (const uint8_t *)"no-store", 8, &p, end) ||
		    lws_add_http_header_by_name(wsi,
		    (const uint8_t *)"x-content-type-options:",
		    (const uint8_t *)"nosniff", 7, &p, end) ||
		    lws_add_http_header_by_name(wsi,
		    (const uint8_t *)"content-security-policy:",
		    (const uint8_t *)csp, (int)strlen(csp), &p, end))
			return -1;
		r = lws_serve_http_file(wsi, path, web_files[i].mime,
		    (const char *)hdr, (int)(p - hdr));
		if (r < 0)
			return -1;
		if (r > 0)
			return lws_http_transaction_completed(wsi) ? -1 : 0;
		return 0;
	}
	return http_deny(wsi, HTTP_STATUS_NOT_FOUND, NULL);
}

/*
 * The WebSocket's path: /ws/status or /ws/console/N.  Returns 0 with
 * *kind and *vm, or -1.
 */
static int
ws_path(struct lws *wsi, enum webmsg_conn *kind, unsigned *vm)
{
	char uri[64];
	char *end;
	unsigned long n;

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
		return -1;
	if (strcmp(uri, "/ws/status") == 0) {
		*kind = WEBMSG_CONN_STATUS;
		*vm = 0;
		return 0;
	}
	if (strncmp(uri, "/ws/console/", 12) != 0 || uri[12] < '0' ||
	    uri[12] > '9')
		return -1;
	n = strtoul(uri + 12, &end, 10);
	if (*end != '\0' || n >= W.nvms)
		return -1;
	*kind = WEBMSG_CONN_CONSOLE;
	*vm = (unsigned)n;
	return 0;
}

/* Checked before a WebSocket is accepted: token, Origin, path. */
static int
ws_confirm(struct lws *wsi)
{
	char origin[256], host[256];
	enum webmsg_conn kind;
	unsigned vm;

	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		origin[0] = '\0';
	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		host[0] = '\0';
	if (!webmsg_origin_ok(origin, host)) {
		log_warnx("web: WebSocket refused: Origin '%.100s' is not "
		    "http://%.100s", origin, host);
		return http_deny(wsi, HTTP_STATUS_FORBIDDEN, "foreign origin")
		    < 0 ? -1 : 1;
	}
	if (!authed(wsi)) {
		log_warnx("web: WebSocket refused: no token");
		return http_deny(wsi, HTTP_STATUS_FORBIDDEN, "no token") < 0 ?
		    -1 : 1;
	}
	if (ws_path(wsi, &kind, &vm) < 0)
		return http_deny(wsi, HTTP_STATUS_NOT_FOUND, NULL) < 0 ? -1 : 1;
	return 0;
}

/* A console WebSocket: its own client connection to isles-consoled. */
static int
console_open(struct session *s)
{
	char path[PATH_MAX];
	uint32_t mask = 1u << s->vm;
	uint8_t pl[4];
	struct raw *r;
	int fd;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/console.sock", W.rundir);
	fd = unixsock_connect(path, 0);
	if (fd < 0) {
		log_warn("web: %s", path);
		free(r);
		return -1;
	}
	con_put_le(pl, mask, 4);
	if (proto_send(fd, CON_ATTACH, CON_ATTACH_REPLAY, 0, pl, 4) < 0) {
		close(fd);
		free(r);
		return -1;
	}
	r->kind = RAW_CONSOLE;
	r->s = s;
	proto_rx_init(&r->rx);
	s->con = adopt(fd, r);
	if (s->con == NULL)
		return -1;
	s->raw = r;
	return 0;
}

static int
ws_message(struct session *s, const uint8_t *msg, size_t len)
{
	struct webmsg m;
	uint8_t pl[CON_WINSIZE_SIZE];
	char vm[WEBMSG_NAME_MAX + 1];

	if (webmsg_parse(msg, len, s->kind, &m) < 0) {
		log_warnx("web: refused a message from a page: %s",
		    strerror(errno));
		return -1;
	}
	switch (m.type) {
	case WEBMSG_INPUT:
		if (s->raw != NULL && proto_send(s->raw->fd, CON_INPUT, 0,
		    s->vm, m.data, m.len) < 0)
			return -1;
		return 0;
	case WEBMSG_WINSIZE:
		con_winsize_encode(pl, m.rows, m.cols);
		if (s->raw != NULL && proto_send(s->raw->fd, CON_WINSIZE, 0,
		    s->vm, pl, sizeof(pl)) < 0)
			return -1;
		return 0;
	case WEBMSG_RESTART:
		memcpy(vm, m.data, m.len);
		vm[m.len] = '\0';
		ctl_request(CTL_RESTART, vm);
		return 0;
	case WEBMSG_DOWN:
		ctl_request(CTL_DOWN, NULL);
		return 0;
	default:
		return -1;
	}
}

static int
ws_receive(struct session *s, struct lws *wsi, const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi)) {
		s->rxlen = 0;
		s->rxbad = false;
	}
	if (s->rxbad || len > sizeof(s->rxbuf) - s->rxlen)
		s->rxbad = true;
	else {
		memcpy(s->rxbuf + s->rxlen, in, len);
		s->rxlen += len;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (s->rxbad) {
		log_warnx("web: a page sent an oversized message");
		return -1;
	}
	return ws_message(s, s->rxbuf, s->rxlen);
}

static int
ws_writeable(struct session *s, struct lws *wsi)
{
	struct webq_msg *m = webq_peek(&s->q);

	if (m == NULL)
		return 0;
	/*
	 * One write per writable callback, and none while a partial one is
	 * still buffered in lws: a page that reads slowly (its TCP window
	 * shut) must wait here, not be closed by a write lws refuses.
	 */
	if (lws_send_pipe_choked(wsi)) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (lws_write(wsi, m->data, m->len, LWS_WRITE_BINARY) < (int)m->len) {
		log_warnx("web: writing %zu bytes to a page failed: closing it",
		    m->len);
		return -1;
	}
	webq_pop(&s->q);
	if (webq_peek(&s->q) != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
cb_web(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct session *s = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return http_request(wsi, in);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (in == NULL || strcmp(in, "websocket") != 0)
			return -1;
		return ws_confirm(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		memset(s, 0, sizeof(*s));
		s->wsi = wsi;
		(void)setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF,
		    &(int){ WEB_SNDBUF }, sizeof(int));
		webq_init(&s->q, WEB_QUEUE_LIMIT, LWS_PRE);
		if (ws_path(wsi, &s->kind, &s->vm) < 0 ||
		    (s->kind == WEBMSG_CONN_CONSOLE && console_open(s) < 0))
			return -1;	/* not linked: nothing to undo */
		s->ws = true;
		s->next = W.sessions;
		W.sessions = s;
		if (s->kind == WEBMSG_CONN_CONSOLE)
			return 0;
		session_send(s, WEBMSG_GRAPH, W.graph, W.graph_len);
		if (W.status != NULL)
			session_send(s, WEBMSG_STATUS, W.status,
			    strlen(W.status));
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return ws_receive(s, wsi, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws_writeable(s, wsi);
	case LWS_CALLBACK_CLOSED:
		if (!s->ws)
			return 0;
		session_unlink(s);
		if (s->raw != NULL)
			s->raw->s = NULL;
		if (s->con != NULL)
			lws_set_timeout(s->con, PENDING_TIMEOUT_CLOSE_SEND,
			    LWS_TO_KILL_ASYNC);
		webq_free(&s->q);
		s->ws = false;
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ "isles", cb_web, sizeof(struct session), 8192, 0, NULL, 0 },
	{ "isles-raw", cb_raw, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- start-up ---- */

static void
lws_log(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && line[n - 1] == '\n')
		n--;
	log_warnx("libwebsockets: %.*s", (int)n, line);
}

/* Read the whole SVG handed over on fd (closed). */
static int
read_graph(int fd)
{
	size_t cap = 65536;
	char *b = malloc(cap);
	ssize_t n;

	if (b == NULL)
		return -1;
	W.graph_len = 0;
	for (;;) {
		if (W.graph_len == cap) {
			char *nb = cap < 16u << 20 ? realloc(b, cap * 2) : NULL;

			if (nb == NULL) {
				free(b);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
		n = pread(fd, b + W.graph_len, cap - W.graph_len,
		    (off_t)W.graph_len);
		if (n < 0 && errno == ESPIPE)
			n = read(fd, b + W.graph_len, cap - W.graph_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(b);
			return -1;
		}
		if (n == 0)
			break;
		W.graph_len += (size_t)n;
	}
	close(fd);
	W.graph = b;
	return 0;
}

/* Our own console.sock client: the VM names, and the system's life. */
static int
sentinel_open(void)
{
	char path[PATH_MAX];
	struct proto_hdr h;
	const uint8_t *p;
	struct raw *r = calloc(1, sizeof(*r));
	uint64_t deadline = mono_ms() + 10000;
	int fd;

	if (r == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/console.sock", W.rundir);
	fd = unixsock_connect(path, 0);
	if (fd < 0) {
		log_warn("%s", path);
		free(r);
		return -1;
	}
	proto_rx_init(&r->rx);
	if (proto_send(fd, CON_LIST, 0, 0, NULL, 0) < 0)
		goto fail;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = mono_ms();
		ssize_t n;

		if (proto_rx_next(&r->rx, &h, &p) == 1)
			break;
		if (t >= deadline || poll(&pfd, 1, (int)(deadline - t)) <= 0)
			goto fail;
		n = proto_rx_read(&r->rx, fd);
		if (n <= 0)
			goto fail;
	}
	if (h.type != CON_VMS)
		goto fail;
	for (size_t i = 0; i < h.len && W.nvms < CON_MAX_VMS;) {
		size_t l = strnlen((const char *)p + i, h.len - i);

		if (l == 0 || l > CON_MAX_NAME || i + l >= h.len)
			goto fail;
		memcpy(W.names[W.nvms], p + i, l);
		W.names[W.nvms++][l] = '\0';
		i += l + 1;
	}
	if (W.nvms == 0)
		goto fail;
	r->kind = RAW_SENTINEL;
	return adopt(fd, r) != NULL ? 0 : -1;
fail:
	log_warnx("%s: no VM list from the console server", path);
	close(fd);
	free(r);
	return -1;
}

static int
signals_open(void)
{
	sigset_t set;
	struct raw *r;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	r = calloc(1, sizeof(*r));
	if (fd < 0 || r == NULL) {
		if (fd >= 0)
			close(fd);
		free(r);
		return -1;
	}
	r->kind = RAW_SIGNAL;
	return adopt(fd, r) != NULL ? 0 : -1;
}

/*
 * Further rules: new sockets only AF_UNIX (the system's own sockets: a
 * console WebSocket's isles-consoled client, control requests, switch
 * counters); files opened for reading only (the page's files, the switch
 * directory); no memory made executable.
 */
static int
lockdown_more(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	int rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) != 0) {
		snprintf(err, errlen, "seccomp rule (socket): %s",
		    strerror(-rc));
		return rc;
	}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
	    O_APPEND, O_RDONLY))) != 0) {
		snprintf(err, errlen, "seccomp rule (openat): %s",
		    strerror(-rc));
		return rc;
	}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) != 0)
		snprintf(err, errlen, "seccomp rule (mprotect): %s",
		    strerror(-rc));
	return rc;
}

/*
 * Everything we listen on is open: no_new_privs and a seccomp allowlist,
 * as the daemons do (src/host/sandbox.h); any other call kills us.  The
 * list is what libwebsockets' poll loop and our own requests use (found
 * with strace over tests/integration/test_web.py).
 */
static void
lockdown(void)
{
	static const struct sandbox_allow allow[] = {
		{ SCMP_SYS(poll), "libwebsockets' event loop" },
		{ SCMP_SYS(ppoll), "libwebsockets' event loop (libc may use it)" },
		{ SCMP_SYS(read), "HTTP clients, console and control sockets, "
		    "signalfd, the page's files" },
		{ SCMP_SYS(readv), "HTTP clients" },
		{ SCMP_SYS(pread64), "the page's files" },
		{ SCMP_SYS(write), "WebSockets, console input, stderr (log), "
		    "lws_cancel_service's pipe" },
		{ SCMP_SYS(writev), "HTTP headers and files" },
		{ SCMP_SYS(sendto), "console and control requests" },
		{ SCMP_SYS(sendmsg), "libwebsockets' writes" },
		{ SCMP_SYS(recvfrom), "libwebsockets' reads" },
		{ SCMP_SYS(recvmsg), "libwebsockets' reads" },
		{ SCMP_SYS(accept), "new browser connections" },
		{ SCMP_SYS(accept4), "new browser connections (libc may use it)" },
		{ SCMP_SYS(connect), "console.sock, control.sock, stats.sock" },
		{ SCMP_SYS(shutdown), "closing browser connections" },
		{ SCMP_SYS(close), "closing connections and files" },
		{ SCMP_SYS(setsockopt), "libwebsockets: new connections' options" },
		{ SCMP_SYS(getsockopt), "libwebsockets: connection errors" },
		{ SCMP_SYS(getsockname), "libwebsockets: new connections" },
		{ SCMP_SYS(getpeername), "libwebsockets: new connections" },
		{ SCMP_SYS(fcntl), "non-blocking, close-on-exec" },
		{ SCMP_SYS(ioctl), "libwebsockets: FIONREAD / FIONBIO" },
		{ SCMP_SYS(newfstatat), "the page's files (size)" },
		{ SCMP_SYS(fstat), "the page's files (size)" },
		{ SCMP_SYS(statx), "the page's files (size; libc may use it)" },
		{ SCMP_SYS(lseek), "the page's files" },
		{ SCMP_SYS(getdents64), "the switches of the run dir" },
		{ SCMP_SYS(brk), "malloc" },
		{ SCMP_SYS(mmap), "malloc of large blocks" },
		{ SCMP_SYS(munmap), "free of large blocks" },
		{ SCMP_SYS(mremap), "realloc of large blocks" },
		{ SCMP_SYS(madvise), "free: trimming" },
		{ SCMP_SYS(getrandom), "libwebsockets" },
		{ SCMP_SYS(clock_gettime), "if the vDSO is unavailable" },
		{ SCMP_SYS(rt_sigreturn), "signal return" },
		{ SCMP_SYS(rt_sigprocmask), "libc" },
		{ SCMP_SYS(exit_group), "exit" },
		{ SCMP_SYS(exit), "exit" },
	};
	char err[128];

	if (sandbox_lockdown(SCMP_ACT_KILL_PROCESS, allow,
	    sizeof(allow) / sizeof(allow[0]), lockdown_more, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
}

static void
usage(void)
{
	fprintf(stderr, "usage: isles-webd --run-dir R --listen ADDR:PORT "
	    "--graph-fd N [--web-dir DIR]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "graph-fd", required_argument, NULL, 'g' },
		{ "web-dir", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;
	const char *listen = "127.0.0.1:8080", *tok;
	char addr[16];
	unsigned port;
	bool loopback;
	int ch, graph_fd = -1;

	log_init("isles-webd", NULL);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (strlen(optarg) >= sizeof(W.rundir))
				fatalx("--run-dir %s: too long", optarg);
			snprintf(W.rundir, sizeof(W.rundir), "%s", optarg);
			break;
		case 'l':
			listen = optarg;
			break;
		case 'g':
			graph_fd = atoi(optarg);
			break;
		case 'w':
			snprintf(W.webdir, sizeof(W.webdir), "%s", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || W.rundir[0] == '\0' || graph_fd < 0)
		usage();
	if (webmsg_parse_listen(listen, addr, &port, &loopback) < 0)
		fatalx("--listen %s: expected IPV4ADDR:PORT", listen);
	tok = getenv("ISLES_WEB_TOKEN");
	if (tok == NULL || strlen(tok) != WEBMSG_TOKEN_LEN ||
	    strspn(tok, "0123456789abcdef") != WEBMSG_TOKEN_LEN)
		fatalx("ISLES_WEB_TOKEN: expected %u hex digits",
		    WEBMSG_TOKEN_LEN);
	memcpy(W.token, tok, sizeof(W.token));
	unsetenv("ISLES_WEB_TOKEN");
	if (W.webdir[0] == '\0') {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *slash;

		if (n <= 0)
			fatal("/proc/self/exe");
		self[n] = '\0';
		slash = strrchr(self, '/');
		*slash = '\0';
		snprintf(W.webdir, sizeof(W.webdir), "%.*s/web",
		    (int)(sizeof(W.webdir) - 5), self);
	}
	if (read_graph(graph_fd) < 0)
		fatal("--graph-fd %d", graph_fd);
	/* Only stdin, stdout and stderr from whoever started us. */
	(void)close_range(3, ~0u, 0);
	signal(SIGPIPE, SIG_IGN);

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.port = (int)port;
	info.iface = addr;
	info.protocols = protocols;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	info.vhost_name = "isles";
	W.ctx = lws_create_context(&info);
	if (W.ctx == NULL)
		fatalx("cannot listen on %s", listen);
	W.vh = lws_get_vhost_by_name(W.ctx, "isles");
	if (W.vh == NULL)
		fatalx("no vhost");
	if (sentinel_open() < 0 || signals_open() < 0)
		fatalx("%s: the system is not running", W.rundir);
	lockdown();
	W.status = web_status_fetch(W.rundir);
	lws_sul_schedule(W.ctx, 0, &W.sul, status_tick, WEB_POLL_US);

	printf("isles web: http://%s:%u/?token=%s\n", addr, port, W.token);
	if (!loopback)
		printf("isles web: warning: listening on %s, beyond this "
		    "machine: the token in the address is the only "
		    "protection (plain HTTP: anyone who can see the traffic "
		    "can read it); prefer an SSH tunnel (docs/web.md)\n",
		    listen);
	fflush(stdout);
	while (!W.done)
		if (lws_service(W.ctx, 0) < 0)
			break;
	lws_context_destroy(W.ctx);
	free(W.status);
	free(W.graph);
	return 0;
}
