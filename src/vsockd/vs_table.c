/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vs_table: VMs, routing, policy and counters of isles-vsockd; see
 * vs_table.h.
 */
#include "vsockd/vs_table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
vs_table_init(struct vs_table *t)
{
	memset(t, 0, sizeof(*t));
}

bool
vs_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= VS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '_' || c == '-'))
			continue;
		return false;
	}
	return true;
}

int
vs_table_add_vm(struct vs_table *t, const char *name, uint64_t cid)
{
	struct vs_vm *v;

	if (t->sealed) {
		errno = EBUSY;
		return -1;
	}
	if (!vs_name_ok(name, strlen(name)) || cid < VS_CID_MIN ||
	    cid > VS_CID_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (vs_table_find(t, name) >= 0 || vs_table_route(t, cid) >= 0) {
		errno = EEXIST;
		return -1;
	}
	if (t->nvms == VS_MAX_VMS) {
		errno = ENOSPC;
		return -1;
	}
	v = &t->vms[t->nvms];
	memset(v, 0, sizeof(*v));
	memcpy(v->name, name, strlen(name) + 1);
	v->cid = cid;
	v->state = VS_VM_DOWN;
	return (int)t->nvms++;
}

int
vs_table_find(const struct vs_table *t, const char *name)
{
	for (unsigned i = 0; i < t->nvms; i++)
		if (strcmp(t->vms[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
vs_table_add_rule(struct vs_table *t, unsigned client, unsigned server,
    uint32_t port)
{
	if (t->sealed) {
		errno = EBUSY;
		return -1;
	}
	if (client >= t->nvms || server >= t->nvms || client == server ||
	    port == UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (unsigned i = 0; i < t->nrules; i++) {
		const struct vs_rule *r = &t->rules[i];

		if (r->client == client && r->server == server &&
		    r->port == port) {
			errno = EEXIST;
			return -1;
		}
	}
	if (t->nrules == VS_MAX_RULES) {
		errno = ENOSPC;
		return -1;
	}
	t->rules[t->nrules].client = (uint8_t)client;
	t->rules[t->nrules].server = (uint8_t)server;
	t->rules[t->nrules].port = port;
	t->nrules++;
	return 0;
}

static int
rule_cmp(const void *a, const void *b)
{
	const struct vs_rule *x = a, *y = b;

	if (x->client != y->client)
		return x->client < y->client ? -1 : 1;
	if (x->server != y->server)
		return x->server < y->server ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

void
vs_table_seal(struct vs_table *t)
{
	qsort(t->rules, t->nrules, sizeof(t->rules[0]), rule_cmp);
	memset(t->first, 0, sizeof(t->first));
	memset(t->count, 0, sizeof(t->count));
	for (unsigned i = 0; i < t->nrules; i++) {
		const struct vs_rule *r = &t->rules[i];

		if (t->count[r->client][r->server]++ == 0)
			t->first[r->client][r->server] = (uint16_t)i;
	}
	t->sealed = true;
}

int
vs_table_route(const struct vs_table *t, uint64_t cid)
{
	for (unsigned i = 0; i < t->nvms; i++)
		if (t->vms[i].cid == cid)
			return (int)i;
	return -1;
}

bool
vs_rule_exists(const struct vs_table *t, unsigned client, unsigned server,
    uint32_t port)
{
	unsigned lo, hi;

	if (!t->sealed || client >= t->nvms || server >= t->nvms)
		return false;
	/* Binary search in the pair's port-sorted slice. */
	lo = t->first[client][server];
	hi = lo + t->count[client][server];
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (t->rules[mid].port == port)
			return true;
		if (t->rules[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
vs_pair_declared(const struct vs_table *t, unsigned a, unsigned b)
{
	return t->sealed && a < t->nvms && b < t->nvms &&
	    (t->count[a][b] != 0 || t->count[b][a] != 0);
}

bool
vs_policy_allows(const struct vs_table *t, unsigned src, unsigned dst,
    const struct vs_hdr *h)
{
	if (vs_rule_exists(t, src, dst, h->dst_port))
		return true;
	return h->op != VS_OP_REQUEST &&
	    vs_rule_exists(t, dst, src, h->src_port);
}

struct vs_decision
vs_decide(const struct vs_table *t, unsigned src, const struct vs_hdr *h,
    uint64_t up, uint64_t seqpacket)
{
	struct vs_decision d = { VS_DROP, VS_OK, -1 };
	bool request = h->op == VS_OP_REQUEST;
	int dst = vs_table_route(t, h->dst_cid);

	if (dst < 0 || (unsigned)dst == src) {
		d.why = dst < 0 ? VS_UNKNOWN_CID : VS_TO_SELF;
		d.act = request ? VS_RST : VS_DROP;
		return d;
	}
	d.dst = dst;
	if (!vs_policy_allows(t, src, (unsigned)dst, h)) {
		d.why = VS_POLICY;
		d.act = request ? VS_RST : VS_DROP;
		return d;
	}
	if (!((up >> dst) & 1))
		d.why = VS_DST_DOWN;
	else if (h->type == VS_TYPE_SEQPACKET && !((seqpacket >> dst) & 1))
		d.why = VS_NO_SEQPACKET;
	if (d.why != VS_OK) {
		d.act = h->op == VS_OP_RST ? VS_DROP : VS_RST;
		return d;
	}
	d.act = VS_DELIVER;
	return d;
}

const char *
vs_vm_state_name(enum vs_vm_state s)
{
	switch (s) {
	case VS_VM_UP:
		return "up";
	case VS_VM_ERROR:
		return "error";
	default:
		return "down";
	}
}

struct out {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3)))
emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
	    o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static bool
pair_active(const struct vs_table *t, unsigned a, unsigned b)
{
	const struct vs_pair_counters *p = &t->pair[a][b];

	if (vs_pair_declared(t, a, b) || p->packets || p->stalls || p->lost ||
	    p->held_max)
		return true;
	for (int w = 0; w < VS_WHY_MAX; w++)
		if (p->refused[w])
			return true;
	return false;
}

/* The reasons a pair counts (the others are counted on the sender). */
static const enum vs_why pair_whys[] = {
	VS_POLICY, VS_DST_DOWN, VS_DST_STUCK, VS_NO_SEQPACKET,
};

int
vs_stats_json(const struct vs_table *t, const char *name, char *buf,
    size_t size)
{
	struct out o = { buf, size, 0 };
	bool first = true;

	/* Names are validated ([a-z0-9_-]): no JSON escaping needed. */
	emit(&o, "{\"vsock\":\"%s\",\"vms\":[", name);
	for (unsigned i = 0; i < t->nvms; i++) {
		const struct vs_vm *v = &t->vms[i];

		emit(&o, "%s{\"name\":\"%s\",\"cid\":%llu,\"state\":\"%s\","
		    "\"tx_packets\":%llu,\"tx_bytes\":%llu,"
		    "\"rx_packets\":%llu,\"rx_bytes\":%llu,\"rst_sent\":%llu,"
		    "\"drop\":{", i ? "," : "", v->name,
		    (unsigned long long)v->cid, vs_vm_state_name(v->state),
		    (unsigned long long)v->c.tx_packets,
		    (unsigned long long)v->c.tx_bytes,
		    (unsigned long long)v->c.rx_packets,
		    (unsigned long long)v->c.rx_bytes,
		    (unsigned long long)v->c.rst_sent);
		for (int w = VS_MALFORMED; w <= VS_TO_SELF; w++)
			emit(&o, "%s\"%s\":%llu", w > VS_MALFORMED ? "," : "",
			    vs_why_name((enum vs_why)w),
			    (unsigned long long)v->c.drops[w]);
		emit(&o, "}}");
	}
	emit(&o, "],\"pairs\":[");
	for (unsigned a = 0; a < t->nvms; a++) {
		for (unsigned b = 0; b < t->nvms; b++) {
			const struct vs_pair_counters *p = &t->pair[a][b];

			if (a == b || !pair_active(t, a, b))
				continue;
			emit(&o, "%s{\"from\":\"%s\",\"to\":\"%s\","
			    "\"declared\":%s,\"packets\":%llu,\"bytes\":%llu,"
			    "\"held_bytes\":%llu,\"held_max\":%llu,"
			    "\"stalls\":%llu,\"lost\":%llu,\"refused\":{",
			    first ? "" : ",", t->vms[a].name, t->vms[b].name,
			    vs_pair_declared(t, a, b) ? "true" : "false",
			    (unsigned long long)p->packets,
			    (unsigned long long)p->bytes,
			    (unsigned long long)p->held_bytes,
			    (unsigned long long)p->held_max,
			    (unsigned long long)p->stalls,
			    (unsigned long long)p->lost);
			for (size_t k = 0; k < sizeof(pair_whys) /
			    sizeof(pair_whys[0]); k++)
				emit(&o, "%s\"%s\":%llu", k ? "," : "",
				    vs_why_name(pair_whys[k]),
				    (unsigned long long)p->refused[pair_whys[k]]);
			emit(&o, "}}");
			first = false;
		}
	}
	emit(&o, "],\"rules\":[");
	for (unsigned i = 0; i < t->nrules; i++)
		emit(&o, "%s{\"client\":\"%s\",\"server\":\"%s\",\"port\":%u}",
		    i ? "," : "", t->vms[t->rules[i].client].name,
		    t->vms[t->rules[i].server].name, t->rules[i].port);
	emit(&o, "]}");
	if (o.len >= size) {
		errno = ENOSPC;
		return -1;
	}
	return (int)o.len;
}
