# SPDX-License-Identifier: BSD-2-Clause
#
# Isles top-level build.  Plain GNU make, no generator: every component
# folder has a module.mk that declares what it builds with the variables
# below, and the generic rules at the end turn those declarations into
# targets.  A new daemon is a new folder with a module.mk; this file does
# not change.
#
#   make              build everything into build/ (CLI at build/isles)
#   make check        install missing packages, build, run every test
#   make demo         install missing packages, build, bring up examples/supermicro.conf
#   make SANITIZE=1   the same build with ASan+UBSan, into build/asan/
#
# module.mk vocabulary:
#   LIBS += name                 static library build/libname.a
#     name_SRCS := ...
#   PROGS += name                host program build/name
#     name_SRCS := ...  name_LIBA := lib1 lib2  name_LDLIBS := -lfoo
#     (every host program also links HOST_LIBA, below, after its own)
#   GUEST_PROGS += name          static guest program, built once per guest
#     name_SRCS := ...  name_LIBA := ...   architecture (GUEST_ARCHES below):
#                                build/guest/name (x86_64), build/guest32/name
#                                (i386); only these libraries, nothing implicit
#   UNIT_LDLIBS += -lfoo         extra libraries unit tests link with

ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= gcc
WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wold-style-definition -Wundef -Wwrite-strings \
	-Wshadow -Wpointer-arith -Wcast-align -Wvla -Wnull-dereference \
	-Wimplicit-fallthrough -Wmissing-declarations -Wredundant-decls \
	-Wno-unused-parameter
# Headers are included by path from src ("host/evloop.h", "proto/ctl.h");
# src/host and src/proto are also searched, so that the bare names of
# before ("log.h", "proto.h", "ctl.h", "outq.h", "conproto.h") still work.
CPPFLAGS += -D_GNU_SOURCE -Isrc/host -Isrc/proto -Isrc
CFLAGS ?= -O2 -g
CFLAGS += -std=c17 $(WARNINGS) -fstack-protector-strong -MMD -MP $(SANFLAGS)
LDFLAGS += $(SANFLAGS)

LIBS :=
PROGS :=
# The host layer (src/host: event loop, listening, numbers, log, sandbox)
# and the protocols (src/proto) stand under every host program: each
# links them after its own libraries.  Static archives: a program gets
# only the objects it uses (the CLI does not get sandbox.o, so no
# libseccomp).
HOST_LIBA := proto host
GUEST_PROGS :=
UNIT_LDLIBS :=

include $(sort $(wildcard src/*/module.mk src/guest/*/module.mk tests/*/module.mk bench/*/module.mk))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
ALL_LIBA := $(foreach l,$(LIBS),$(BUILD)/lib$(l).a)

# Guest architectures: every guest program and the libraries it links are
# built once per entry, into $(BUILD)/<name>/ from objects in
# $(BUILD)/<name>_OBJ/, with <name>_FLAGS added to compiling and linking.
# guest: x86_64, the host's own ABI.  guest32: i386 for 32-bit guests
# (docs/guest-image.md), gcc -m32 with Debian's gcc-multilib and
# libc6-dev-i386, and 64-bit off_t and time_t as on x86_64, so that no
# file size or time is cut to 32 bits in the guest.
GUEST_ARCHES := guest guest32
guest_OBJ := gobj
guest_FLAGS :=
guest32_OBJ := gobj32
guest32_FLAGS := -m32 -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64

ifeq ($(SANITIZE),1)
# Guest programs are static and run inside VMs: never sanitized.
ALL_TARGETS := $(foreach p,$(PROGS),$(BUILD)/$(p)) $(UNIT_BINS)
else
ALL_TARGETS := $(foreach p,$(PROGS),$(BUILD)/$(p)) \
	$(foreach a,$(GUEST_ARCHES),$(foreach p,$(GUEST_PROGS),$(BUILD)/$(a)/$(p))) \
	$(UNIT_BINS)
endif

.PHONY: all check demo deps unit clean
all: $(ALL_TARGETS)

objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
# $(call gobjs,SRCS,ARCH): the objects of SRCS for guest architecture ARCH.
gobjs = $(patsubst %.c,$(BUILD)/$($(2)_OBJ)/%.o,$(1))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Guest objects: no sanitizers, static, no stack-protector dependency games.
define guest_obj_rule
$(BUILD)/$($(1)_OBJ)/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(filter-out $$(SANFLAGS),$$(CFLAGS)) $$($(1)_FLAGS) -c -o $$@ $$<
endef

# A library also depends on the folders of its sources and on the
# makefiles: a source moved out of a folder or to another library changes
# no object, but must leave the archive (a stale copy in an old archive
# would shadow or clash with the moved code at link time).
define lib_rule
$(BUILD)/lib$(1).a: $(call objs,$($(1)_SRCS)) $(sort $(dir $($(1)_SRCS))) $(MAKEFILE_LIST)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
endef

define guest_lib_rule
$(BUILD)/$(2)/lib$(1).a: $(call gobjs,$($(1)_SRCS),$(2)) $(sort $(dir $($(1)_SRCS))) $(MAKEFILE_LIST)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
endef

define prog_rule
$(BUILD)/$(1): $(call objs,$($(1)_SRCS)) $(foreach l,$($(1)_LIBA) $(HOST_LIBA),$(BUILD)/lib$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $($(1)_LDLIBS)
endef

# $(call guest_rule,PROG,ARCH)
define guest_rule
$(BUILD)/$(2)/$(1): $(call gobjs,$($(1)_SRCS),$(2)) $(foreach l,$($(1)_LIBA),$(BUILD)/$(2)/lib$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$($(2)_FLAGS) -static -o $$@ $$^ $($(1)_LDLIBS)
endef

$(foreach l,$(LIBS),$(eval $(call lib_rule,$(l))))
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))
$(foreach a,$(GUEST_ARCHES),$(eval $(call guest_obj_rule,$(a))))
$(foreach a,$(GUEST_ARCHES),$(foreach l,$(LIBS),$(eval $(call guest_lib_rule,$(l),$(a)))))
$(foreach a,$(GUEST_ARCHES),$(foreach p,$(GUEST_PROGS),$(eval $(call guest_rule,$(p),$(a)))))

$(BUILD)/tests/%: tests/unit/%.c $(ALL_LIBA)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--start-group $(ALL_LIBA) -Wl,--end-group -lcmocka $(UNIT_LDLIBS)

deps:
	@scripts/deps.sh

unit: $(UNIT_BINS)

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SANITIZE=1 all
	@scripts/check.sh

demo: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/isles up examples/supermicro.conf

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(foreach a,$(GUEST_ARCHES),$(BUILD)/$($(a)_OBJ)) $(BUILD)/tests -type f -name '*.d' 2>/dev/null)
