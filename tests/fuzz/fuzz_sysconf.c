/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the system-file loader (src/sysconf, libconfig under it).
 * The input is the text of a system file; sc_load_string must either
 * refuse it with at least one error message (each a terminated string
 * with the file name) or return a plan that the printer of `isles check`
 * and the kernel-parameter builders can walk.  @include is left out: it
 * reads other files, which is the file system's business, not the
 * parser's.
 */
#include <string.h>

#include "sysconf/sysconf.h"
#include "tests/fuzz/fuzz.h"

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	devnull = fopen("/dev/null", "w");
	return devnull == NULL;
}

/* Every cross-reference of a plan is an index in range; limits hold. */
static void
check_plan(const struct sc_system *sys)
{
	FUZZ_CHECK(sys->name != NULL && sys->nvms <= SC_MAX_VMS);
	FUZZ_CHECK(sys->ndisks <= SC_MAX_DISKS &&
	    sys->nswitches <= SC_MAX_SWITCHES);
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];

		FUZZ_CHECK(vm->name != NULL && strlen(vm->name) <= SC_MAX_NAME);
		FUZZ_CHECK(vm->memory >= SC_MIN_MEMORY &&
		    vm->memory <= SC_MAX_MEMORY);
		FUZZ_CHECK(vm->vcpus >= 1 && vm->vcpus <= SC_MAX_VCPUS);
		FUZZ_CHECK(vm->ndisks <= SC_MAX_DISKS_PER_VM &&
		    vm->nnics <= SC_MAX_NICS_PER_VM);
		for (size_t k = 0; k < vm->ndisks; k++) {
			const struct sc_vm_disk *d = &vm->disks[k];

			if (d->driver < 0) {
				FUZZ_CHECK(d->disk < sys->ndisks);
			} else {
				FUZZ_CHECK((size_t)d->driver < sys->nvms);
				FUZZ_CHECK(d->dataport < sys->ndataports);
			}
		}
		for (size_t k = 0; k < vm->nnics; k++)
			FUZZ_CHECK(vm->nics[k].sw < sys->nswitches);
		for (size_t k = 0; k < vm->nsata; k++)
			FUZZ_CHECK(vm->sata[k] < sys->ndisks);
		for (size_t k = 0; k < vm->ndataports; k++)
			FUZZ_CHECK(vm->dataports[k] < sys->ndataports);
	}
	for (size_t i = 0; i < sys->ndataports; i++) {
		const struct sc_dataport *d = &sys->dataports[i];

		for (size_t p = d->host ? 1 : 0; p < d->npeers; p++)
			FUZZ_CHECK(d->peers[p] < sys->nvms);
	}
	for (size_t i = 0; i < sys->nconsoles; i++)
		FUZZ_CHECK(sys->consoles[i].vm[0] < sys->nvms &&
		    sys->consoles[i].vm[1] < sys->nvms);
	for (size_t i = 0; i < sys->nvsock; i++)
		FUZZ_CHECK(sys->vsock[i].client < sys->nvms &&
		    sys->vsock[i].server < sys->nvms);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sc_errors err;
	struct sc_system *sys;
	char *text, buf[4096];

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strstr(text, "@include") != NULL) {
		free(text);
		return 0;
	}
	sys = sc_load_string(text, "fuzz.conf", &err);
	free(text);
	if (sys == NULL) {
		FUZZ_CHECK(err.n >= 1 && err.n <= SC_MAX_ERRORS);
		for (size_t i = 0; i < err.n; i++) {
			FUZZ_CHECK(memchr(err.msg[i], 0, sizeof(err.msg[i])));
			FUZZ_CHECK(strncmp(err.msg[i], "fuzz.conf", 9) == 0);
		}
		return 0;
	}
	FUZZ_CHECK(err.n == 0);
	check_plan(sys);
	sc_print(sys, devnull);
	for (size_t v = 0; v < sys->nvms; v++) {
		int n = sc_dataport_param(sys, v, buf, sizeof(buf));

		FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(buf) &&
		    strlen(buf) == (size_t)n);
		n = sc_console_param(sys, v, buf, sizeof(buf));
		FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(buf) &&
		    strlen(buf) == (size_t)n);
		FUZZ_CHECK(sc_vm_find(sys, sys->vms[v].name) == (int)v);
	}
	sc_free(sys);
	return 0;
}
