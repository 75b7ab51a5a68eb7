# SPDX-License-Identifier: BSD-2-Clause
# The libFuzzer targets (make FUZZ=1, clang with ASan+UBSan), one per
# parser of hostile input; scripts/fuzz.sh builds and runs them, seed
# corpora in tests/fuzz/corpus/TARGET.  Each target links only the
# libraries of the parser it feeds (and HOST_LIBA, as every program).
FUZZ_TARGETS += fuzz_vq
fuzz_vq_LIBA := vhost
FUZZ_TARGETS += fuzz_vu
fuzz_vu_LIBA := vhost
FUZZ_TARGETS += fuzz_ptable
fuzz_ptable_LIBA := diskcore
FUZZ_TARGETS += fuzz_sysconf
fuzz_sysconf_LIBA := sysconf diskcore
fuzz_sysconf_LDLIBS := -lconfig
FUZZ_TARGETS += fuzz_dpblk
fuzz_dpblk_LIBA := dpblk
FUZZ_TARGETS += fuzz_conesc
fuzz_conesc_LIBA := conclient
FUZZ_TARGETS += fuzz_vsock
fuzz_vsock_LIBA := vsockd vhost
