/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the libFuzzer targets of tests/fuzz share: the entry point's
 * prototype (libFuzzer calls it; -Wmissing-prototypes wants one) and an
 * invariant check that aborts, so that a wrong answer of a parser is a
 * crash the fuzzer reports like a memory error.  Each target feeds one
 * parser hostile bytes and checks what the parser promises in its
 * header; scripts/fuzz.sh builds and runs them (docs/security.md).
 */
#ifndef ISLES_FUZZ_H
#define ISLES_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A cursor over the input: bytes run out as zeros, never past the end. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t v = fuzz_u8(in);

	return (uint16_t)(v | fuzz_u8(in) << 8);
}

static inline uint32_t
fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = fuzz_u16(in);

	return v | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t
fuzz_u64(struct fuzz_in *in)
{
	uint64_t v = fuzz_u32(in);

	return v | (uint64_t)fuzz_u32(in) << 32;
}

#endif
