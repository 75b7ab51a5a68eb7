/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rules: what the system file must hold across VMs, checked once every
 * VM is read: a partition is shared only read-only, and no two NICs have
 * the same MAC.  Called last by sc_parse_top (load.c).
 */
#include "loader.h"

#include <string.h>

static bool
sc_has_part(const struct sc_vm_disk *g, unsigned p)
{
	for (size_t i = 0; i < g->npartitions; i++)
		if (g->partitions[i] == p)
			return true;
	return false;
}

/* A partition may be shared read-only, never while someone can write it. */
static void
sc_check_sharing(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t a = 0; a < sys->nvms; a++)
		for (size_t ga = 0; ga < sys->vms[a].ndisks; ga++)
			for (size_t b = a; b < sys->nvms; b++)
				for (size_t gb = b == a ? ga + 1 : 0;
				    gb < sys->vms[b].ndisks; gb++) {
		const struct sc_vm_disk *x = &sys->vms[a].disks[ga];
		const struct sc_vm_disk *y = &sys->vms[b].disks[gb];

		if (x->driver >= 0 || y->driver >= 0 || x->disk != y->disk ||
		    (x->readonly && y->readonly))
			continue;
		for (size_t k = 0; k < y->npartitions; k++) {
			if (!sc_has_part(x, y->partitions[k]))
				continue;
			sc_errl(c, y->line, "partition %u of disk '%s' is "
			    "granted %s to vm '%s' (line %d) and %s to vm "
			    "'%s' (line %d)", y->partitions[k],
			    sys->disks[y->disk].name, x->readonly ?
			    "read-only" : "writable", sys->vms[a].name ?
			    sys->vms[a].name : "?", x->line, y->readonly ?
			    "read-only" : "writable", sys->vms[b].name ?
			    sys->vms[b].name : "?", y->line);
		}
	}
}

static void
sc_check_macs(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t a = 0; a < sys->nvms; a++)
		for (size_t na = 0; na < sys->vms[a].nnics; na++)
			for (size_t b = a; b < sys->nvms; b++)
				for (size_t nb = b == a ? na + 1 : 0;
				    nb < sys->vms[b].nnics; nb++) {
		const struct sc_nic *x = &sys->vms[a].nics[na];
		const struct sc_nic *y = &sys->vms[b].nics[nb];
		const uint8_t *m = y->mac;

		if (memcmp(x->mac, y->mac, 6) != 0)
			continue;
		/* No ethN here: nics[] skips NICs that had errors. */
		sc_errl(c, y->line, "vm '%s': MAC "
		    "%02x:%02x:%02x:%02x:%02x:%02x is already the MAC of a "
		    "nic of vm '%s' (line %d)",
		    sys->vms[b].name ? sys->vms[b].name : "?", m[0], m[1],
		    m[2], m[3], m[4], m[5],
		    sys->vms[a].name ? sys->vms[a].name : "?", x->line);
	}
}

/*
 * A disk given whole over SATA belongs to that VM alone: no other VM's
 * SATA, no partition grant (the disk daemon would share it).
 */
static void
sc_check_sata(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t a = 0; a < sys->nvms; a++)
		for (size_t i = 0; i < sys->vms[a].nsata; i++) {
			size_t d = sys->vms[a].sata[i];

			for (size_t b = a + 1; b < sys->nvms; b++)
				for (size_t k = 0; k < sys->vms[b].nsata; k++)
					if (sys->vms[b].sata[k] == d)
						sc_errl(c, sys->vms[b].line,
						    "vm '%s': disk '%s' is "
						    "already the SATA disk of "
						    "vm '%s'", sys->vms[b].name,
						    sys->disks[d].name,
						    sys->vms[a].name);
			for (size_t b = 0; b < sys->nvms; b++)
				for (size_t k = 0; k < sys->vms[b].ndisks; k++)
					if (sys->vms[b].disks[k].driver < 0 &&
					    sys->vms[b].disks[k].disk == d)
						sc_errl(c, sys->vms[b].disks[k].line,
						    "vm '%s': disk '%s' is given "
						    "whole to vm '%s' (sata): its "
						    "partitions cannot be granted",
						    sys->vms[b].name,
						    sys->disks[d].name,
						    sys->vms[a].name);
		}
}

static void
sc_check_cids(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t a = 0; a < sys->nvms; a++)
		for (size_t b = a + 1; b < sys->nvms; b++)
			if (sys->vms[a].cid != 0 &&
			    sys->vms[a].cid == sys->vms[b].cid)
				sc_errl(c, sys->vms[b].line, "vm '%s': cid %u "
				    "is already the cid of vm '%s' (line %d)",
				    sys->vms[b].name, sys->vms[b].cid,
				    sys->vms[a].name, sys->vms[a].line);
}

/* A host PCI device is given to one VM (the addresses are canonical). */
static void
sc_check_passthrough(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t a = 0; a < sys->nvms; a++)
		for (size_t i = 0; i < sys->vms[a].npci; i++)
			for (size_t b = a + 1; b < sys->nvms; b++)
				for (size_t k = 0; k < sys->vms[b].npci; k++)
					if (strcmp(sys->vms[a].pci[i],
					    sys->vms[b].pci[k]) == 0)
						sc_errl(c, sys->vms[b].line,
						    "vm '%s': passthrough %s "
						    "is already given to vm "
						    "'%s' (line %d)",
						    sys->vms[b].name,
						    sys->vms[b].pci[k],
						    sys->vms[a].name,
						    sys->vms[a].line);
}

void
sc_check_rules(struct sc_ctx *c)
{
	sc_check_sharing(c);
	sc_check_macs(c);
	sc_check_sata(c);
	sc_check_cids(c);
	sc_check_passthrough(c);
}
