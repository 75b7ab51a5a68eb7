# SPDX-License-Identifier: BSD-2-Clause
# bench-net: two vhost-user-net front-ends (tests/lib/front.c) driving a
# switch back-end; bench/net/frontend.sh compares isles-switchd and
# dpdk-testpmd with it (bench/net/run.sh uses dpdk-testpmd as the generator).
PROGS += bench-net
bench-net_SRCS := bench/net/netbench.c
bench-net_LIBA := vtest vhost
