/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libdataport, pure part: the isles.dataports= kernel parameter, peer
 * lookup and the number and PCI address syntax of sysfs attributes (see
 * dataport.h).  No I/O: dataport.c calls these on what it read, the unit
 * tests (tests/unit/test_dataport_lib.c) call them directly.  Everything
 * parsed here is treated as hostile: spans are bounded by their length,
 * never by a NUL, and messages quote at most a short, sanitized snippet.
 */
#include "dataport.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DP_NAME_PARAM	"isles.name="
#define DP_SNIPPET	40	/* bytes of input quoted in a message */

/* A span of the command line. */
struct dp_span {
	const char *p;
	size_t n;
};

static int __attribute__((format(printf, 3, 4)))
dp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
	return -1;
}

/* A printable copy of at most DP_SNIPPET bytes of s, for messages. */
static const char *
dp_snip(struct dp_span s, char buf[DP_SNIPPET + 4])
{
	size_t n = s.n > DP_SNIPPET ? DP_SNIPPET : s.n;

	for (size_t i = 0; i < n; i++)
		buf[i] = s.p[i] >= ' ' && s.p[i] <= '~' ? s.p[i] : '?';
	if (s.n > n) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool
dp_is_lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9][a-z0-9_-]{0,30} */
static bool
dp_name_ok(struct dp_span s)
{
	if (s.n == 0 || s.n > DP_MAX_NAME || !dp_is_lower_or_digit(s.p[0]))
		return false;
	for (size_t i = 1; i < s.n; i++)
		if (!dp_is_lower_or_digit(s.p[i]) && s.p[i] != '_' &&
		    s.p[i] != '-')
			return false;
	return true;
}

static int
dp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
dp_span_eq(struct dp_span s, const char *str)
{
	return strlen(str) == s.n && memcmp(s.p, str, s.n) == 0;
}

static void
dp_span_copy(char *dst, struct dp_span s)
{
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
}

/* The next piece of s up to sep (or the end); s moves past the sep. */
static struct dp_span
dp_next(struct dp_span *s, char sep, bool *found)
{
	struct dp_span piece = { s->p, 0 };

	while (piece.n < s->n && s->p[piece.n] != sep)
		piece.n++;
	*found = piece.n < s->n;
	s->p += piece.n + (*found ? 1 : 0);
	s->n -= piece.n + (*found ? 1 : 0);
	return piece;
}

/* One NAME:SS:VM+VM[...] entry into e; idx (1-based) for messages. */
static int
dp_parse_entry(struct dp_span s, unsigned idx, struct dp_entry *e,
    char *err, size_t errlen)
{
	char sn[DP_SNIPPET + 4], sn2[DP_SNIPPET + 4];
	struct dp_span whole = s, name, slot, vm;
	bool more;
	int hi, lo;

	memset(e, 0, sizeof(*e));
	if (s.n == 0)
		return dp_fail(err, errlen, "isles.dataports: entry %u is "
		    "empty", idx);
	name = dp_next(&s, ':', &more);
	if (!more)
		return dp_fail(err, errlen, "isles.dataports: entry %u '%s' "
		    "has no slot and VM list (NAME:SLOT:VM+VM...)", idx,
		    dp_snip(whole, sn));
	slot = dp_next(&s, ':', &more);
	if (!more)
		return dp_fail(err, errlen, "isles.dataports: entry %u '%s' "
		    "has no VM list (NAME:SLOT:VM+VM...)", idx,
		    dp_snip(whole, sn));
	if (!dp_name_ok(name))
		return dp_fail(err, errlen, "isles.dataports: entry %u: "
		    "name '%s' is not 1-%d of [a-z0-9_-] starting with "
		    "[a-z0-9]", idx, dp_snip(name, sn), DP_MAX_NAME);
	dp_span_copy(e->name, name);
	if (slot.n != 2 || (hi = dp_hexval(slot.p[0])) < 0 ||
	    (lo = dp_hexval(slot.p[1])) < 0)
		return dp_fail(err, errlen, "isles.dataports: dataport %s: "
		    "slot '%s' is not two hex digits", e->name,
		    dp_snip(slot, sn));
	e->slot = (unsigned)(hi << 4 | lo);
	if (e->slot < DP_SLOT_MIN || e->slot > DP_SLOT_MAX)
		return dp_fail(err, errlen, "isles.dataports: dataport %s: "
		    "slot %02x is outside %02x-%02x", e->name, e->slot,
		    DP_SLOT_MIN, DP_SLOT_MAX);
	if (s.n == 0)
		return dp_fail(err, errlen, "isles.dataports: dataport %s: "
		    "the VM list is empty", e->name);
	do {
		vm = dp_next(&s, '+', &more);
		if (!dp_name_ok(vm))
			return dp_fail(err, errlen, "isles.dataports: "
			    "dataport %s: VM name '%s' is not 1-%d of "
			    "[a-z0-9_-] starting with [a-z0-9]", e->name,
			    dp_snip(vm, sn), DP_MAX_NAME);
		if (e->npeers == DP_MAX_PEERS)
			return dp_fail(err, errlen, "isles.dataports: "
			    "dataport %s has more than %d VMs", e->name,
			    DP_MAX_PEERS);
		for (unsigned i = 0; i < e->npeers; i++)
			if (dp_span_eq(vm, e->peers[i]))
				return dp_fail(err, errlen, "isles.dataports: "
				    "dataport %s names VM %s twice", e->name,
				    dp_snip(vm, sn2));
		dp_span_copy(e->peers[e->npeers++], vm);
	} while (more);
	if (e->npeers < 2)
		return dp_fail(err, errlen, "isles.dataports: dataport %s has "
		    "one VM (%s): a dataport joins at least two", e->name,
		    e->peers[0]);
	return 0;
}

static int
dp_parse_value(struct dp_span v, struct dp_table *t, char *err,
    size_t errlen)
{
	bool more;

	if (v.n == 0)
		return 0;
	do {
		struct dp_span s = dp_next(&v, ',', &more);
		struct dp_entry *e;

		if (t->n == DP_MAX_PORTS)
			return dp_fail(err, errlen, "isles.dataports: more "
			    "than %d dataports", DP_MAX_PORTS);
		e = &t->e[t->n];
		if (dp_parse_entry(s, t->n + 1, e, err, errlen) < 0)
			return -1;
		for (unsigned i = 0; i < t->n; i++) {
			if (strcmp(t->e[i].name, e->name) == 0)
				return dp_fail(err, errlen, "isles.dataports: "
				    "dataport %s is given twice", e->name);
			if (t->e[i].slot == e->slot)
				return dp_fail(err, errlen, "isles.dataports: "
				    "dataports %s and %s share slot %02x",
				    t->e[i].name, e->name, e->slot);
		}
		t->n++;
	} while (more);
	return 0;
}

static bool
dp_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
dp_cmdline_parse(const char *cmdline, size_t len, struct dp_table *t,
    char *err, size_t errlen)
{
	const size_t plen = strlen(DP_PARAM), nlen = strlen(DP_NAME_PARAM);
	struct dp_span value = { NULL, 0 };
	bool seen = false;
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* A NUL ends the command line, whatever len says. */
	len = strnlen(cmdline, len);
	while (i < len) {
		struct dp_span tok;

		while (i < len && dp_is_space(cmdline[i]))
			i++;
		tok.p = cmdline + i;
		while (i < len && !dp_is_space(cmdline[i]))
			i++;
		tok.n = (size_t)(cmdline + i - tok.p);
		if (tok.n >= plen && memcmp(tok.p, DP_PARAM, plen) == 0) {
			if (seen)
				return dp_fail(err, errlen, "isles.dataports= "
				    "is given twice on the kernel command "
				    "line");
			seen = true;
			value.p = tok.p + plen;
			value.n = tok.n - plen;
		} else if (tok.n >= nlen &&
		    memcmp(tok.p, DP_NAME_PARAM, nlen) == 0) {
			struct dp_span vm = { tok.p + nlen, tok.n - nlen };

			/* Only a valid name is used for the self check. */
			t->vm[0] = '\0';
			if (dp_name_ok(vm))
				dp_span_copy(t->vm, vm);
		}
	}
	if (dp_parse_value(value, t, err, errlen) < 0) {
		t->n = 0;
		return -1;
	}
	return 0;
}

int
dp_table_find(const struct dp_table *t, const char *name)
{
	for (unsigned i = 0; i < t->n && i < DP_MAX_PORTS; i++)
		if (strcmp(t->e[i].name, name) == 0)
			return (int)i;
	errno = ENOENT;
	return -1;
}

int
dp_peer_lookup(const struct dp_entry *e, const char *who)
{
	size_t n = strlen(who);
	uint64_t id;

	for (unsigned i = 0; i < e->npeers && i < DP_MAX_PEERS; i++)
		if (strcmp(e->peers[i], who) == 0)
			return (int)i;
	if (n > 0 && n <= 5 && strspn(who, "0123456789") == n &&
	    dp_parse_dec(who, n, &id) == 0 && id < e->npeers)
		return (int)id;
	errno = ENOENT;
	return -1;
}

/* Digits of base (10 or 16) in s[0..len), then at most one '\n'. */
static int
dp_parse_num(const char *s, size_t len, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	for (; i < len; i++) {
		int d = base == 16 ? dp_hexval(s[i]) :
		    (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);

		if (d < 0) {
			errno = EINVAL;
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			errno = ERANGE;
			return -1;
		}
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

int
dp_parse_dec(const char *s, size_t len, uint64_t *out)
{
	return dp_parse_num(s, len, 10, out);
}

int
dp_parse_hex(const char *s, size_t len, uint64_t *out)
{
	if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
		errno = EINVAL;
		return -1;
	}
	return dp_parse_num(s + 2, len - 2, 16, out);
}

int
dp_parse_pci_addr(const char *s, unsigned *domain, unsigned *bus,
    unsigned *slot, unsigned *func)
{
	/* DDDD:BB:SS.F: hex digits at every position but 4, 7 and 10. */
	static const char form[] = "xxxx:xx:xx.x";
	unsigned v[4] = { 0 }, k = 0;

	if (strlen(s) != sizeof(form) - 1) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; form[i] != '\0'; i++) {
		int d;

		if (form[i] != 'x') {
			if (s[i] != form[i]) {
				errno = EINVAL;
				return -1;
			}
			k++;
			continue;
		}
		if ((d = dp_hexval(s[i])) < 0) {
			errno = EINVAL;
			return -1;
		}
		v[k] = v[k] << 4 | (unsigned)d;
	}
	if (v[2] > 0x1f || v[3] > 7) {
		errno = EINVAL;
		return -1;
	}
	*domain = v[0];
	*bus = v[1];
	*slot = v[2];
	*func = v[3];
	return 0;
}
