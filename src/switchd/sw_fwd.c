/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_fwd: the static forwarding table, the forwarding decision, the
 * counters and their JSON rendering; see sw_fwd.h.
 */
#include "sw_fwd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
sw_table_init(struct sw_table *t)
{
	memset(t, 0, sizeof(*t));
	t->uplink = -1;
}

static bool
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= SW_PORT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int
add_entry(struct sw_table *t, const char *name)
{
	struct sw_port_entry *p;

	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (sw_table_find(t, name) >= 0) {
		errno = EEXIST;
		return -1;
	}
	if (t->nports >= SW_MAX_PORTS) {
		errno = ENOSPC;
		return -1;
	}
	p = &t->ports[t->nports];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, strlen(name) + 1);
	p->state = SW_PORT_DOWN;
	return (int)t->nports++;
}

int
sw_table_add_port(struct sw_table *t, const char *name,
    const uint8_t mac[SW_ETH_ALEN])
{
	int i;

	if (!sw_mac_valid_station(mac)) {
		errno = EINVAL;
		return -1;
	}
	if (sw_table_lookup(t, mac) >= 0) {
		errno = EEXIST;
		return -1;
	}
	if ((i = add_entry(t, name)) < 0)
		return -1;
	memcpy(t->ports[i].mac, mac, SW_ETH_ALEN);
	return i;
}

int
sw_table_add_uplink(struct sw_table *t, const char *name)
{
	int i;

	if (t->uplink >= 0) {
		errno = EEXIST;
		return -1;
	}
	if ((i = add_entry(t, name)) < 0)
		return -1;
	t->ports[i].uplink = true;
	t->uplink = i;
	return i;
}

int
sw_table_lookup(const struct sw_table *t, const uint8_t mac[SW_ETH_ALEN])
{
	for (unsigned i = 0; i < t->nports; i++)
		if (!t->ports[i].uplink &&
		    memcmp(t->ports[i].mac, mac, SW_ETH_ALEN) == 0)
			return (int)i;
	return -1;
}

int
sw_table_find(const struct sw_table *t, const char *name)
{
	for (unsigned i = 0; i < t->nports; i++)
		if (strcmp(t->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

static struct sw_verdict
drop(enum sw_drop why, enum sw_class cls)
{
	return (struct sw_verdict){ .action = SW_ACT_DROP, .why = why,
	    .cls = cls };
}

struct sw_verdict
sw_fwd_decide(const struct sw_table *t, unsigned in, const uint8_t *eth)
{
	const uint8_t *dst = eth, *src = eth + SW_ETH_ALEN;
	const struct sw_port_entry *ip = &t->ports[in];
	enum sw_class cls = sw_classify(dst);
	int to;

	if (ip->uplink) {
		/* Outside stations: any unicast source but ours. */
		if (!sw_mac_valid_station(src) || sw_table_lookup(t, src) >= 0)
			return drop(SW_DROP_SPOOF, cls);
	} else if (memcmp(src, ip->mac, SW_ETH_ALEN) != 0) {
		return drop(SW_DROP_SPOOF, cls);
	}

	switch (cls) {
	case SW_CLASS_LINKLOCAL:
		return drop(SW_DROP_LINKLOCAL, cls);
	case SW_CLASS_BROADCAST:
	case SW_CLASS_MCAST4:
	case SW_CLASS_MCAST6:
	case SW_CLASS_MCAST:
		return (struct sw_verdict){ .action = SW_ACT_FLOOD, .cls = cls };
	case SW_CLASS_UNICAST:
		break;
	}
	to = sw_table_lookup(t, dst);
	if (to == (int)in)
		return drop(SW_DROP_SELF, cls);
	if (to < 0) {
		if (t->uplink < 0 || t->uplink == (int)in)
			return drop(SW_DROP_UNKNOWN, cls);
		to = t->uplink;
	}
	return (struct sw_verdict){ .action = SW_ACT_UNICAST,
	    .port = (unsigned)to, .cls = cls };
}

void
sw_count_rx(struct sw_table *t, unsigned port, size_t bytes)
{
	t->ports[port].c.rx_packets++;
	t->ports[port].c.rx_bytes += bytes;
}

void
sw_count_tx(struct sw_table *t, unsigned port, size_t bytes)
{
	t->ports[port].c.tx_packets++;
	t->ports[port].c.tx_bytes += bytes;
}

void
sw_count_drop(struct sw_table *t, unsigned port, enum sw_drop why)
{
	if ((unsigned)why < SW_DROP_MAX && why != SW_DROP_NONE)
		t->ports[port].c.drops[why]++;
}

uint64_t
sw_drops_total(const struct sw_counters *c)
{
	uint64_t n = 0;

	for (int i = 1; i < SW_DROP_MAX; i++)
		n += c->drops[i];
	return n;
}

const char *
sw_port_state_name(enum sw_port_state s)
{
	switch (s) {
	case SW_PORT_DOWN:
		return "down";
	case SW_PORT_UP:
		return "up";
	case SW_PORT_ERROR:
		return "error";
	}
	return "invalid";
}

/* Append to buf; on overflow remember it and keep counting. */
struct out {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3)))
emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t room = o->len < o->size ? o->size - o->len : 0;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

int
sw_stats_json(const struct sw_table *t, const char *switch_name,
    char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	char mac[SW_MAC_STRLEN];

	/* Names are validated ([A-Za-z0-9_.-]): no JSON escaping needed. */
	emit(&o, "{\"switch\":\"%s\",\"ports\":[", switch_name);
	for (unsigned i = 0; i < t->nports; i++) {
		const struct sw_port_entry *p = &t->ports[i];

		sw_mac_format(p->mac, mac);
		emit(&o, "%s{\"name\":\"%s\",", i ? "," : "", p->name);
		if (p->uplink)
			emit(&o, "\"kind\":\"uplink\",");
		else
			emit(&o, "\"kind\":\"vm\",\"mac\":\"%s\",", mac);
		emit(&o, "\"state\":\"%s\",\"rx_packets\":%llu,"
		    "\"rx_bytes\":%llu,\"tx_packets\":%llu,\"tx_bytes\":%llu,"
		    "\"rx_gso_packets\":%llu,\"tx_gso_packets\":%llu,"
		    "\"drops\":%llu,\"drop\":{",
		    sw_port_state_name(p->state),
		    (unsigned long long)p->c.rx_packets,
		    (unsigned long long)p->c.rx_bytes,
		    (unsigned long long)p->c.tx_packets,
		    (unsigned long long)p->c.tx_bytes,
		    (unsigned long long)p->c.rx_gso_packets,
		    (unsigned long long)p->c.tx_gso_packets,
		    (unsigned long long)sw_drops_total(&p->c));
		for (int d = 1; d < SW_DROP_MAX; d++)
			emit(&o, "%s\"%s\":%llu", d > 1 ? "," : "",
			    sw_drop_name((enum sw_drop)d),
			    (unsigned long long)p->c.drops[d]);
		emit(&o, "}}");
	}
	emit(&o, "]}");
	if (o.len >= size) {
		errno = ENOSPC;
		return -1;
	}
	return (int)o.len;
}
