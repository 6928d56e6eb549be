# nook: build with `make`; `make check` runs every test; `make asan` builds and tests under ASan+UBSan.
CC ?= gcc
PKG_CONFIG ?= pkg-config
PKGS := jansson libseccomp libcurl libarchive libcrypto libmnl
# Linked: what every verb uses.  libcurl, libarchive, libcrypto and libmnl are opened with dlopen by the verbs
# that need them (lib/util/dl.h), so the runtime path loads libc, libseccomp and jansson only.
LINK_PKGS := jansson libseccomp
BUILD ?= build
OPT ?= -O2 -g
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# Hardening (off for sanitizer builds: FORTIFY and ASan's interceptors overlap).  `make WERROR=1` (CI) turns
# every warning into an error.
HARDEN ?= -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection -fcf-protection
HARDEN_LD ?= -Wl,-z,relro,-z,now
WERROR ?=

CFLAGS_BASE := -std=gnu17 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation \
  -Werror=implicit-function-declaration -Werror=return-type -fno-strict-aliasing -fPIE -fvisibility=hidden -Ilib \
  $(if $(WERROR),-Werror) $(shell $(PKG_CONFIG) --cflags $(PKGS))
LIBS := $(shell $(PKG_CONFIG) --libs $(LINK_PKGS)) -Wl,--as-needed
# The unit tests build archives and hash with the libraries directly.
TEST_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
ALL_CFLAGS := $(CFLAGS_BASE) $(OPT) $(HARDEN) $(EXTRA_CFLAGS)
ALL_LDFLAGS := $(OPT) $(EXTRA_CFLAGS) -pie $(HARDEN_LD) $(LDFLAGS)

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
CMD_SRCS := $(sort $(wildcard src/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit asan clean bench install uninstall lint format format-check
all: $(BUILD)/nook $(BUILD)/nook-runtime

# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libnook.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/nook: $(CMD_OBJS) $(BUILD)/libnook.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libnook.a $(LIBS)

$(BUILD)/nook-runtime: $(BUILD)/nook
	ln -sf nook $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h $(BUILD)/libnook.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libnook.a $(TEST_LIBS)

unit: $(UNIT_BINS)

# Everything: unit tests, then system tests as root and as an unprivileged user (tests/run does the setup).
check: all unit
	BUILD=$(BUILD) bash tests/run

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" HARDEN= \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

bench: all
	bash bench/run

# `make install PREFIX=/usr DESTDIR=/tmp/pkg`: the binary and its runtime name.
install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/nook $(DESTDIR)$(BINDIR)/nook
	ln -sf nook $(DESTDIR)$(BINDIR)/nook-runtime

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nook $(DESTDIR)$(BINDIR)/nook-runtime

C_FILES = $(sort $(wildcard lib/*/*.[ch] src/*.[ch] tests/unit/*.[ch] tests/helpers/*.c))
SH_FILES = tests/run tests/*.sh tests/system/*.sh tests/images/*.sh tests/compat/*.sh \
  $(shell grep -l '^\#!/bin/bash' bench/* 2> /dev/null)

format:
	clang-format -i $(C_FILES)

# The habits the build enforces (CI runs it): formatted C, shellcheck-clean scripts, includes that only
# point down the layers.
format-check:
	@bad=$$(for f in $(C_FILES); do clang-format $$f | cmp -s - $$f || echo $$f; done); \
	  if [ -n "$$bad" ]; then echo "not formatted (make format):" $$bad; exit 1; fi

lint:
	shellcheck -S warning $(SH_FILES)
	bash tests/layers.sh

clean:
	rm -rf build build-asan

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)

# test helpers
$(BUILD)/tests/recvtty: tests/helpers/recvtty.c $(BUILD)/libnook.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libnook.a $(LIBS)

unit: $(BUILD)/tests/recvtty
