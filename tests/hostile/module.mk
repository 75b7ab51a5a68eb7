# SPDX-License-Identifier: BSD-2-Clause
# isles-blk-hostile: a malicious vhost-user-blk front-end (VMM) that
# attacks isles-diskd; run by tests/integration/test_blk_hostile.py.
PROGS += isles-blk-hostile
isles-blk-hostile_SRCS := tests/hostile/blk_hostile.c
isles-blk-hostile_LIBA := vtest vhost
