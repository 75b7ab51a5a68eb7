# SPDX-License-Identifier: BSD-2-Clause
# isles-dataportd: the ivshmem server of one dataport.  libdataportd holds
# the pure greeting builder the unit tests link.
LIBS += dataportd
dataportd_SRCS := src/dataportd/greet.c

PROGS += isles-dataportd
isles-dataportd_SRCS := src/dataportd/main.c
isles-dataportd_LIBA := dataportd
isles-dataportd_LDLIBS := -lseccomp
