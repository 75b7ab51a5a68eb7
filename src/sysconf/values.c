/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * values: the system-file loader's vocabulary (see loader.h): its error
 * list (every message "FILE:LINE: text", sorted by line, the walk never
 * stopped by one), the small checks every part uses (names, sizes), and
 * the typed getters that read one key of a group and report a wrong type.
 * Called by the other files of src/sysconf; trusts nothing from the file.
 */
#include "loader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/parse.h"

/* ---- errors ---------------------------------------------------------- */

static void sc_verr(struct sc_ctx *c, const char *file, int line,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
sc_verr(struct sc_ctx *c, const char *file, int line, const char *fmt,
    va_list ap)
{
	struct sc_pending *p;

	if (c->nerrs == SC_MAX_ERRORS) {
		c->dropped++;
		return;
	}
	p = &c->errs[c->nerrs];
	p->file = file;	/* NULL: c->file */
	p->line = line;
	p->seq = (unsigned)c->nerrs++;
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	/* Strings from the file may hold escapes: keep messages one line. */
	for (char *s = p->text; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

void
sc_err(struct sc_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_verr(c, s != NULL ? config_setting_source_file(s) : NULL,
	    s != NULL ? (int)config_setting_source_line(s) : 0, fmt, ap);
	va_end(ap);
}

void
sc_errl(struct sc_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_verr(c, NULL, line, fmt, ap);
	va_end(ap);
}

static int
sc_pending_cmp(const void *a, const void *b)
{
	const struct sc_pending *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the collected errors by line and hand them to the caller. */
void
sc_flush_errors(struct sc_ctx *c, struct sc_errors *err)
{
	qsort(c->errs, c->nerrs, sizeof(c->errs[0]), sc_pending_cmp);
	err->n = 0;
	err->dropped = c->dropped;
	for (size_t i = 0; i < c->nerrs; i++) {
		const struct sc_pending *p = &c->errs[i];

		const char *f = p->file != NULL ? p->file : c->file;

		if (p->line > 0)
			snprintf(err->msg[i], sizeof(err->msg[i]), "%s:%d: %s",
			    f, p->line, p->text);
		else
			snprintf(err->msg[i], sizeof(err->msg[i]), "%s: %s", f,
			    p->text);
		err->n++;
	}
}

/* ---- small helpers --------------------------------------------------- */

char *
sc_strdup(struct sc_ctx *c, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		c->oom = true;
	return d;
}

void *
sc_calloc(struct sc_ctx *c, size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL)
		c->oom = true;
	return p;
}

static bool
sc_in(const char *const *set, const char *s)
{
	for (; *set != NULL; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

static void
sc_join(const char *const *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; *set != NULL && off < len; set++) {
		int n = snprintf(buf + off, len - off, "%s%s",
		    off == 0 ? "" : ", ", *set);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

bool
sc_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SC_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			continue;
		if (i > 0 && (ch == '_' || ch == '-'))
			continue;
		return false;
	}
	return true;
}

/*
 * sc_parse_size: host_parse_size (src/host/parse.h), the one parser of
 * sizes of every Isles program, with the contract of sysconf.h.
 */
int
sc_parse_size(const char *s, uint64_t *out)
{
	if (out == NULL) {
		errno = EINVAL;
		return -1;
	}
	return host_parse_size(s, out);
}

/*
 * host_parse_size refuses zero as it refuses garbage (EINVAL); the file
 * gets a clearer message for a zero with a valid unit ("0", "0M"): the
 * same text with its zeros replaced by a 1 is a size.
 */
static bool
sc_size_is_zero(const char *v)
{
	size_t z = strspn(v, "0");
	char one[16];
	uint64_t x;

	if (z == 0 || (v[z] >= '0' && v[z] <= '9') ||
	    strlen(v + z) + 2 > sizeof(one))
		return false;
	snprintf(one, sizeof(one), "1%s", v + z);
	return host_parse_size(one, &x) == 0;
}

/* "256 MiB", "3 GiB", "1536 KiB", "1000 bytes": exact, never rounded. */
void
sc_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };

	for (unsigned i = 0; i < 4; i++) {
		unsigned shift = 40 - 10 * i;

		if (v != 0 && v % (1ull << shift) == 0) {
			snprintf(buf, len, "%" PRIu64 " %s", v >> shift,
			    units[i]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64 " bytes", v);
}

int
sc_line(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

/* ---- typed getters: 1 present and right type, 0 absent, -1 error ------ */

/* Messages read "SUBJ: KEY ..." or, at top level (subj ""), "KEY ...". */
static const char *
sc_sep(const char *subj)
{
	return *subj != '\0' ? ": " : "";
}

int
sc_get_str(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, const char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		sc_err(c, s, "%s%s%s must be a string", subj, sc_sep(subj),
		    key);
		return -1;
	}
	*out = config_setting_get_string(s);
	return 1;
}

int
sc_get_int(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, long long *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		sc_err(c, s, "%s%s%s must be an integer", subj, sc_sep(subj),
		    key);
		return -1;
	}
	*out = config_setting_get_int64(s);
	return 1;
}

int
sc_get_bool(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		sc_err(c, s, "%s%s%s must be true or false", subj,
		    sc_sep(subj), key);
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

int
sc_get_size(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;
	int r;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		sc_err(c, s, "%s%s%s must be a size string like \"256M\"",
		    subj, sc_sep(subj), key);
		return -1;
	}
	v = config_setting_get_string(s);
	r = host_parse_size(v, out) == 0 ? 0 : errno;
	if (r == EINVAL && sc_size_is_zero(v)) {
		sc_err(c, s, "%s%s%s must not be zero", subj, sc_sep(subj), key);
		return -1;
	}
	if (r == ERANGE) {
		sc_err(c, s, "%s%s%s \"%.40s\" is too large", subj,
		    sc_sep(subj), key, v);
		return -1;
	}
	if (r != 0) {
		sc_err(c, s, "%s%s%s \"%.40s\" is not a size (digits and an "
		    "optional unit K, M, G or T, like \"256M\")", subj,
		    sc_sep(subj), key, v);
		return -1;
	}
	return 1;
}

/*
 * Report every key of group g that is not in `allowed`.  `where` completes
 * "unknown key 'x' ...", e.g. "in vm 'vm0'".
 */
void
sc_check_keys(struct sc_ctx *c, const config_setting_t *g,
    const char *const *allowed, const char *where,
    const char *const *reserved)
{
	char list[256];

	sc_join(allowed, list, sizeof(list));
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g,
		    (unsigned)i);
		const char *k = config_setting_name(s);

		if (k == NULL || sc_in(allowed, k))
			continue;
		if (reserved != NULL && sc_in(reserved, k))
			sc_err(c, s, "'%s' is not supported yet", k);
		else
			sc_err(c, s, "unknown key '%s' %s (expected one of: %s)",
			    k, where, list);
	}
}

/* A list of groups (possibly empty), or an error. NULL if absent/bad. */
config_setting_t *
sc_get_list(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, const char *example)
{
	config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		sc_err(c, s, "%s%s%s must be a list of groups, like %s", subj,
		    sc_sep(subj), key, example);
		return NULL;
	}
	return s;
}

/* Absolute form of a path from the file: relative to the file's dir. */
char *
sc_resolve(struct sc_ctx *c, const char *p)
{
	char *r;

	if (p[0] == '/')
		return sc_strdup(c, p);
	if (asprintf(&r, "%s/%s", c->sys->dir, p) < 0) {
		c->oom = true;
		return NULL;
	}
	return r;
}

/* A name and its validity; sets subj to "KIND 'NAME'" or "KIND #N". */
const char *
sc_name_of(struct sc_ctx *c, const config_setting_t *g, const char *kind,
    size_t idx, char *subj, size_t len)
{
	const char *name = NULL;
	const config_setting_t *s = config_setting_get_member(g, "name");

	if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING)
		name = config_setting_get_string(s);
	if (name != NULL)
		snprintf(subj, len, "%s '%.40s'", kind, name);
	else
		snprintf(subj, len, "%s #%zu", kind, idx);
	if (s == NULL) {
		sc_err(c, g, "%s: name is required", subj);
		return NULL;
	}
	if (name == NULL) {
		sc_err(c, s, "%s: name must be a string", subj);
		return NULL;
	}
	if (!sc_name_ok(name)) {
		sc_err(c, s, "%s name '%.40s' is not valid (" SC_NAME_RULE ")",
		    kind, name);
		return NULL;
	}
	return name;
}
