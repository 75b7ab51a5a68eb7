/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of isles-dataportd's greeting (src/dataportd/greet.c): the
 * message order of the ivshmem server protocol, every declared peer's
 * eventfds whether it runs or not, fixed IDs, bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dataportd/dpd.h"

/* Three peers, two vectors; fds are made-up numbers: peer i vector v = 100 + 10i + v. */
static void
make(struct dpd_port *dp, unsigned npeers, unsigned vectors)
{
	memset(dp, 0, sizeof(*dp));
	dp->shm_fd = 7;
	dp->vectors = vectors;
	dp->npeers = npeers;
	for (unsigned i = 0; i < npeers; i++)
		for (unsigned v = 0; v < vectors; v++)
			dp->peers[i].ev[v] = (int)(100 + 10 * i + v);
}

static void
test_greeting_order(void **state)
{
	struct dpd_port dp;
	struct dpd_msg m[DPD_MAX_MSGS];
	/* Peer 1 of 3: version, ID, memory, peer 0, peer 2, then its own. */
	static const int64_t val[] = { 0, 1, -1, 0, 0, 2, 2, 1, 1 };
	static const int fd[] = { -1, -1, 7, 100, 101, 120, 121, 110, 111 };

	make(&dp, 3, 2);
	assert_int_equal(dpd_greeting(&dp, 1, m, DPD_MAX_MSGS), 9);
	for (unsigned i = 0; i < 9; i++) {
		assert_int_equal(m[i].value, val[i]);
		assert_int_equal(m[i].fd, fd[i]);
	}
	/* The first peer: its peers are 1 and 2, whatever runs. */
	assert_int_equal(dpd_greeting(&dp, 0, m, DPD_MAX_MSGS), 9);
	assert_int_equal(m[1].value, 0);
	assert_int_equal(m[3].value, 1);
	assert_int_equal(m[5].value, 2);
	assert_int_equal(m[7].value, 0);
	assert_int_equal(m[8].fd, 101);
}

static void
test_greeting_bounds(void **state)
{
	struct dpd_port dp;
	struct dpd_msg m[DPD_MAX_MSGS];

	make(&dp, 2, 1);
	assert_int_equal(dpd_greeting(&dp, 2, m, DPD_MAX_MSGS), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dpd_greeting(&dp, 0, m, 5), 5);
	assert_int_equal(dpd_greeting(&dp, 0, m, 4), -1);
	assert_int_equal(errno, ENOSPC);
	dp.vectors = 0;
	assert_int_equal(dpd_greeting(&dp, 0, m, DPD_MAX_MSGS), -1);
	/* The largest port fits the bound the daemon allocates. */
	make(&dp, DPD_MAX_PEERS, DPD_MAX_VECTORS);
	assert_int_equal(dpd_greeting(&dp, DPD_MAX_PEERS - 1, m,
	    DPD_MAX_MSGS), DPD_MAX_MSGS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_order),
		cmocka_unit_test(test_greeting_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
