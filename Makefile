# nook: build with `make`; `make check` runs every test; `make asan` builds and tests under ASan+UBSan.
CC ?= gcc
PKG_CONFIG ?= pkg-config
PKGS := jansson libseccomp libcurl libarchive libcrypto libmnl
# Linked: what every verb uses.  libcurl, libarchive, libcrypto and libmnl are opened with dlopen by the verbs
# that need them (lib/util/dl.h), so the runtime path loads libc, libseccomp and jansson only.
LINK_PKGS := jansson libseccomp
BUILD ?= build
OPT ?= -O2 -g

CFLAGS_BASE := -std=gnu17 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation \
  -Werror=implicit-function-declaration -Werror=return-type -fno-strict-aliasing -Ilib \
  $(shell $(PKG_CONFIG) --cflags $(PKGS))
LIBS := $(shell $(PKG_CONFIG) --libs $(LINK_PKGS)) -Wl,--as-needed
# The unit tests build archives and hash with the libraries directly.
TEST_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
ALL_CFLAGS := $(CFLAGS_BASE) $(OPT) $(EXTRA_CFLAGS)
ALL_LDFLAGS := $(OPT) $(EXTRA_CFLAGS) $(LDFLAGS)

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
CMD_SRCS := $(sort $(wildcard src/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit asan clean bench
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
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

bench: all
	bash bench/run

clean:
	rm -rf build build-asan

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)

# test helpers
$(BUILD)/tests/recvtty: tests/helpers/recvtty.c $(BUILD)/libnook.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libnook.a $(LIBS)

unit: $(BUILD)/tests/recvtty
