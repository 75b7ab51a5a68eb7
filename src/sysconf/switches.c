/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * switches: the system file's switches = ( ... ), one L2 switch each,
 * served by one isles-switchd (docs/switch.md).  Called by sc_parse_top
 * (load.c) before the VMs, whose NICs name these switches.
 */
#include "loader.h"

#include <stdio.h>
#include <string.h>

static const char *const sc_switch_keys[] = { "name", "uplink", NULL };

/* Linux interface names: 1..15 of [A-Za-z0-9_.-] (no '/', no space). */
static bool
sc_tap_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		    ch == '-'))
			return false;
	}
	return true;
}

void
sc_parse_switches(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const config_setting_t *list = sc_get_list(c, root, "switches", "",
	    "switches = ( { name = \"lan\"; } );");
	size_t n;

	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n > SC_MAX_SWITCHES)
		sc_err(c, list, "too many switches: %zu (at most %d)", n,
		    SC_MAX_SWITCHES);
	sys->switches = sc_calloc(c, n, sizeof(*sys->switches));
	if (sys->switches == NULL)
		return;
	sys->nswitches = n;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct sc_switch *sw = &sys->switches[i];
		char subj[64], where[80];
		const char *name, *up;

		sw->line = sc_line(g);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			sc_err(c, g, "switches: entry %zu must be a group "
			    "{ name = ...; }", i);
			continue;
		}
		name = sc_name_of(c, g, "switch", i, subj, sizeof(subj));
		snprintf(where, sizeof(where), "in %s", subj);
		sc_check_keys(c, g, sc_switch_keys, where, NULL);
		if (name != NULL) {
			for (size_t j = 0; j < i; j++)
				if (sys->switches[j].name != NULL &&
				    strcmp(sys->switches[j].name, name) == 0) {
					sc_err(c, config_setting_get_member(g,
					    "name"), "switch '%s' is defined "
					    "twice (first at line %d)", name,
					    sys->switches[j].line);
					break;
				}
			sw->name = sc_strdup(c, name);
		}
		if (sc_get_str(c, g, "uplink", subj, &up) == 1) {
			const config_setting_t *s = config_setting_get_member(g,
			    "uplink");

			if (!sc_tap_ok(up)) {
				sc_err(c, s, "%s: uplink '%.40s' is not a TAP "
				    "device name (1 to 15 characters of "
				    "A-Z a-z 0-9 _ . -)", subj, up);
				continue;
			}
			for (size_t j = 0; j < i; j++)
				if (sys->switches[j].uplink_tap != NULL &&
				    strcmp(sys->switches[j].uplink_tap, up) == 0)
					sc_err(c, s, "%s: uplink '%s' is "
					    "already the uplink of switch "
					    "'%s' (line %d)", subj, up,
					    sys->switches[j].name != NULL ?
					    sys->switches[j].name : "?",
					    sys->switches[j].line);
			sw->uplink_tap = sc_strdup(c, up);
		}
	}
}

int
sc_switch_find(const struct sc_system *sys, const char *name)
{
	for (size_t i = 0; i < sys->nswitches; i++)
		if (sys->switches[i].name != NULL &&
		    strcmp(sys->switches[i].name, name) == 0)
			return (int)i;
	return -1;
}
