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
#   make demo         install missing packages, build, bring up examples/demo.conf
#   make SANITIZE=1   the same build with ASan+UBSan, into build/asan/
#
# module.mk vocabulary:
#   LIBS += name                 static library build/libname.a
#     name_SRCS := ...
#   PROGS += name                host program build/name
#     name_SRCS := ...  name_LIBA := lib1 lib2  name_LDLIBS := -lfoo
#     (every host program also links HOST_LIBA, below, after its own)
#   GUEST_PROGS += name          static guest program build/guest/name
#     name_SRCS := ...  name_LIBA := ...  (only these: nothing implicit)
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
CPPFLAGS += -D_GNU_SOURCE -Isrc/lib -Isrc/host -Isrc/proto -Isrc
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

ifeq ($(SANITIZE),1)
# Guest programs are static and run inside VMs: never sanitized.
ALL_TARGETS := $(foreach p,$(PROGS),$(BUILD)/$(p)) $(UNIT_BINS)
else
ALL_TARGETS := $(foreach p,$(PROGS),$(BUILD)/$(p)) \
	$(foreach p,$(GUEST_PROGS),$(BUILD)/guest/$(p)) $(UNIT_BINS)
endif

.PHONY: all check demo deps unit clean
all: $(ALL_TARGETS)

objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
gobjs = $(patsubst %.c,$(BUILD)/gobj/%.o,$(1))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Guest objects: no sanitizers, static, no stack-protector dependency games.
$(BUILD)/gobj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(filter-out $(SANFLAGS),$(CFLAGS)) -c -o $@ $<

# An archive also depends on the makefiles: when a source moves to
# another library, the archive it left is rebuilt without it (a stale
# member would clash with its new home at link time).
define lib_rule
$(BUILD)/lib$(1).a: $(call objs,$($(1)_SRCS)) $(MAKEFILE_LIST)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
$(BUILD)/guest/lib$(1).a: $(call gobjs,$($(1)_SRCS)) $(MAKEFILE_LIST)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
endef

define prog_rule
$(BUILD)/$(1): $(call objs,$($(1)_SRCS)) $(foreach l,$($(1)_LIBA) $(HOST_LIBA),$(BUILD)/lib$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $($(1)_LDLIBS)
endef

define guest_rule
$(BUILD)/guest/$(1): $(call gobjs,$($(1)_SRCS)) $(foreach l,$($(1)_LIBA),$(BUILD)/guest/lib$(l).a)
	@mkdir -p $$(@D)
	$$(CC) -static -o $$@ $$^ $($(1)_LDLIBS)
endef

$(foreach l,$(LIBS),$(eval $(call lib_rule,$(l))))
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))
$(foreach p,$(GUEST_PROGS),$(eval $(call guest_rule,$(p))))

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
	$(BUILD)/isles up examples/demo.conf

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(BUILD)/gobj $(BUILD)/tests -type f -name '*.d' 2>/dev/null)
