/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the console escape parser (src/isles/conesc.c).  The
 * input is a system's VMs (how many, their names as the system file
 * allows them, which one a viewer watches) and then what the user types.
 * Every action must name only VMs that exist, a SEND carries the typed
 * byte (or the @ of an escape given up), messages are terminated, and
 * the parser's own word buffer never overflows.
 */
#include <string.h>

#include "isles/conesc.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static char names[CON_MAX_VMS][CON_MAX_NAME + 1];
	static struct con_esc e;
	struct con_act a;
	unsigned nvms = 1 + fuzz_u8(&in) % CON_MAX_VMS;
	uint8_t v = fuzz_u8(&in);
	int viewer = v & 0x80 ? (int)((v & 0x7f) % nvms) : -1;
	uint32_t all = nvms == 32 ? UINT32_MAX : (1u << nvms) - 1;

	/* Names as the system file allows them (the caller's promise). */
	for (unsigned i = 0; i < nvms; i++) {
		size_t len = 1 + fuzz_u8(&in) % CON_MAX_NAME;

		for (size_t k = 0; k < len; k++) {
			static const char ch[] =
			    "abcdefghijklmnopqrstuvwxyz0123456789_-";
			uint8_t c = fuzz_u8(&in);

			names[i][k] = ch[c % (k == 0 ? 36 : sizeof(ch) - 1)];
		}
		names[i][len] = '\0';
	}
	con_esc_init(&e, nvms, (const char (*)[CON_MAX_NAME + 1])names,
	    viewer);
	con_esc_noquit(&e, v & 0x40);
	while (in.n > 0) {
		uint8_t c = fuzz_u8(&in);

		memset(&a, 0x55, sizeof(a));
		con_esc_feed(&e, c, &a);
		FUZZ_CHECK(e.wlen <= CON_MAX_NAME);
		FUZZ_CHECK(e.target != 0 && (e.target & ~all) == 0);
		switch (a.kind) {
		case CON_ACT_NONE:
		case CON_ACT_HELP:
		case CON_ACT_DETACH:
			break;
		case CON_ACT_QUIT:
			FUZZ_CHECK(!(v & 0x40));
			break;
		case CON_ACT_SEND:
			FUZZ_CHECK(a.vms != 0 && (a.vms & ~all) == 0);
			break;
		case CON_ACT_SWITCH:
			FUZZ_CHECK(a.vms != 0 && (a.vms & ~all) == 0);
			FUZZ_CHECK(memchr(a.msg, 0, sizeof(a.msg)) != NULL);
			break;
		case CON_ACT_ERROR:
			FUZZ_CHECK(memchr(a.msg, 0, sizeof(a.msg)) != NULL);
			break;
		default:
			FUZZ_CHECK(0);
		}
	}
	return 0;
}
