/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * print: the resolved plan as `isles check` shows it (sc_print, see
 * sysconf.h); the golden tests in tests/golden hold its exact form.
 */
#include "loader.h"

#include <inttypes.h>
#include <stdio.h>

void
sc_print(const struct sc_system *sys, FILE *out)
{
	static const char *const accel[] = { "auto", "kvm", "tcg" };
	char sz[32];

	fprintf(out, "system %s\n", sys->name);
	fprintf(out, "  file: %s\n", sys->file);
	fprintf(out, "  accel: %s\n", accel[sys->accel]);
	sc_fmt_size(sys->console_log_max, sz, sizeof(sz));
	fprintf(out, "  console log: newest %s per VM\n", sz);
	for (size_t i = 0; i < sys->nvms; i++) {
		const struct sc_vm *vm = &sys->vms[i];

		fprintf(out, "vm %u: %s\n", vm->index, vm->name);
		fprintf(out, "  memory: %" PRIu64 " MiB\n", (uint64_t)(vm->memory / SC_MIB));
		fprintf(out, "  vcpus: %u\n", vm->vcpus);
		fprintf(out, "  arch: %s\n", vm->arch == SC_ARCH_I386 ? "i386" :
		    "x86_64");
		if (vm->hugepages_as_written != NULL)
			fprintf(out, "  hugepages: %s\n",
			    vm->hugepages_as_written);
		if (vm->kernel_as_written != NULL) {
			fprintf(out, "  kernel: %s\n", vm->kernel_as_written);
			fprintf(out, "  initrd: %s\n", vm->initrd_as_written ?
			    vm->initrd_as_written : "none");
		} else {
			fprintf(out, "  kernel: isles guest image\n");
		}
		fprintf(out, "  cmdline: %s\n", vm->cmdline ? vm->cmdline :
		    "(none)");
		for (size_t k = 0; k < vm->ndisks; k++) {
			const struct sc_vm_disk *vd = &vm->disks[k];

			if (vd->driver >= 0) {
				const struct sc_dataport *d =
				    &sys->dataports[vd->dataport];

				sc_fmt_size(d->size, sz, sizeof(sz));
				fprintf(out, "  vd%c: served by vm %s over "
				    "dataport %s (%s), timeout %u s, %s\n",
				    (int)('a' + k), sys->vms[vd->driver].name,
				    d->name, sz, vd->timeout, vd->readonly ?
				    "read-only" : "read-write");
				continue;
			}
			fprintf(out, "  vd%c: disk %s, partition%s ",
			    (int)('a' + k), sys->disks[vd->disk].name,
			    vd->npartitions > 1 ? "s" : "");
			for (size_t p = 0; p < vd->npartitions; p++)
				fprintf(out, "%s%u", p ? " " : "",
				    vd->partitions[p]);
			fprintf(out, ", %s\n", vd->readonly ? "read-only" :
			    "read-write");
		}
		for (size_t k = 0; k < vm->nnics; k++) {
			const struct sc_nic *n = &vm->nics[k];

			fprintf(out, "  eth%zu: switch %s, mac "
			    "%02x:%02x:%02x:%02x:%02x:%02x\n", k,
			    sys->switches[n->sw].name, n->mac[0], n->mac[1],
			    n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		}
		for (size_t k = 0; k < vm->nsata; k++)
			fprintf(out, "  sd%c: disk %s, whole, over SATA\n",
			    (int)('a' + k), sys->disks[vm->sata[k]].name);
		for (size_t k = 0; k < vm->npci; k++)
			fprintf(out, "  passthrough: %s\n", vm->pci[k]);
		if (vm->cid != 0)
			fprintf(out, "  vsock cid: %u\n", vm->cid);
		for (size_t k = 0; k < vm->ndataports; k++)
			fprintf(out, "  dataport %zu (slot 0x%02zx): %s\n", k,
			    0x10 + k, sys->dataports[vm->dataports[k]].name);
	}
	for (size_t i = 0; i < sys->ndisks; i++) {
		const struct sc_disk *d = &sys->disks[i];

		fprintf(out, "disk %s\n", d->name);
		fprintf(out, "  path: %s\n", d->path_as_written);
		if (d->size != 0) {
			sc_fmt_size(d->size, sz, sizeof(sz));
			fprintf(out, "  size: %s (created if missing)\n", sz);
		} else {
			fprintf(out, "  size: of the existing file\n");
		}
		if (d->nparts > 0) {
			fprintf(out, "  layout: %s\n", d->layout == SC_PT_GPT ?
			    "gpt" : "mbr");
			for (size_t p = 0; p < d->nparts; p++) {
				const struct sc_layout_part *lp = &d->parts[p];

				if (lp->size != 0)
					sc_fmt_size(lp->size, sz, sizeof(sz));
				else
					snprintf(sz, sizeof(sz), "rest of disk");
				fprintf(out, "    %u: %s, type 0x%02x%s%s%s\n",
				    lp->number, sz, lp->type,
				    lp->boot ? ", boot" : "",
				    lp->logical ? ", logical" : "",
				    lp->ext4 ? ", ext4" : "");
				for (size_t f = 0; f < lp->nimages; f++) {
					sc_fmt_size(lp->images[f].size, sz,
					    sizeof(sz));
					fprintf(out, "       image %s: %s, one "
					    "ext4 partition\n",
					    lp->images[f].path, sz);
				}
			}
		} else {
			fprintf(out, "  layout: none declared (partitions are "
			    "checked by isles up)\n");
		}
		fprintf(out, "  queues: %u\n", d->queues);
		if (d->cache_none)
			fprintf(out, "  cache: none (O_DIRECT, past the host "
			    "page cache)\n");
	}
	for (size_t i = 0; i < sys->nswitches; i++) {
		const struct sc_switch *sw = &sys->switches[i];

		fprintf(out, "switch %s\n", sw->name);
		fprintf(out, "  uplink: %s\n", sw->uplink_tap ?
		    sw->uplink_tap : "none");
	}
	for (size_t i = 0; i < sys->ndataports; i++) {
		const struct sc_dataport *d = &sys->dataports[i];

		sc_fmt_size(d->size, sz, sizeof(sz));
		fprintf(out, "dataport %s\n  size: %s\n  peers:", d->name, sz);
		for (size_t p = 0; p < d->npeers; p++)
			fprintf(out, " %zu=%s", p, d->host && p == 0 ?
			    "disk daemon" : sys->vms[d->peers[p]].name);
		fprintf(out, "\n");
		if (d->host)
			fprintf(out, "  serves: vm %s, vd%c\n",
			    sys->vms[d->client].name,
			    (int)('a' + d->client_disk));
	}
	for (size_t i = 0; i < sys->nconsoles; i++)
		fprintf(out, "console %s: vm %s <-> vm %s\n",
		    sys->consoles[i].name, sys->vms[sys->consoles[i].vm[0]].name,
		    sys->vms[sys->consoles[i].vm[1]].name);
	for (size_t i = 0; i < sys->nvsock; i++) {
		const struct sc_vsock_rule *r = &sys->vsock[i];

		fprintf(out, "vsock: vm %s (cid %u) may connect to vm %s (cid "
		    "%u) port %u\n", sys->vms[r->client].name,
		    sys->vms[r->client].cid, sys->vms[r->server].name,
		    sys->vms[r->server].cid, r->port);
	}
	if (sys->serial != NULL)
		fprintf(out, "console device: %s, %u %s\n",
		    sys->serial->device, sys->serial->speed,
		    sys->serial->format);
}
