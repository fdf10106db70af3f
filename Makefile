# greenrun - build, test, install.
#
#   make            build/libgreenrun.so and the launcher build/greenrun
#   make check      install missing dependencies (scripts/install-deps), build,
#                   run the Check unit tests and the program tests
#   make demo       the main job: see README.md
#   make bench      benchmarks: native vs greenrun vs Go side by side
#   make dump-echo  `greenrun dump` of the echo server at 10,000 connections
#   make trace-screenshot   trace the echo demo, HTML timeline, Chromium PNG
#   make compat     real programs under greenrun (installs Debian packages
#                   when root; not part of check): compat/run.sh
#   make install PREFIX=/usr/local
#
# Build knobs: RUNQ_SIZE (local run queue ring, power of 2), DEBUG=1 (-O0).

CC       ?= cc
CXX      ?= c++
PREFIX   ?= /usr/local
VERSION  := 0.1.0
BUILD    := build
RUNQ_SIZE ?= 256

OPT      := $(if $(DEBUG),-O0,-O2)
CFLAGS_COMMON := -std=gnu11 $(OPT) -g -Wall -Wextra -Wno-unused-parameter \
	-fno-omit-frame-pointer -D_GNU_SOURCE -DRT_RUNQ_SIZE=$(RUNQ_SIZE) \
	-DGREENRUN_VERSION='"$(VERSION)"'
# The library: hidden by default, static TLS only (we are preloaded), no
# stack protector in code that runs while the FS base is being switched.
LIB_CFLAGS := $(CFLAGS_COMMON) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
	-fno-stack-protector -fexceptions -Iruntime -Ishim
LIB_LDFLAGS := -shared -Wl,--version-script=$(BUILD)/exports.map -Wl,-z,now \
	-Wl,-z,noexecstack -ldl -lgcc_s -lunwind

RT_SRCS   := $(wildcard runtime/*.c)
RT_ASM    := $(wildcard runtime/arch/x86_64/*.S)
SHIM_SRCS := $(wildcard shim/*.c)
RT_OBJS   := $(RT_SRCS:%.c=$(BUILD)/obj/%.o) $(RT_ASM:%.S=$(BUILD)/obj/%.o)
SHIM_ASM  := $(wildcard shim/*.S)
SHIM_OBJS := $(SHIM_SRCS:%.c=$(BUILD)/obj/%.o) $(SHIM_ASM:%.S=$(BUILD)/obj/%.o)
HDRS      := $(wildcard runtime/*.h shim/*.h)

LIB      := $(BUILD)/libgreenrun.so
LAUNCHER := $(BUILD)/greenrun
CTL      := $(BUILD)/greenrun-ctl

.PHONY: all check deps unit progs demo bench compat install clean dump-echo trace-screenshot
VIEWER   := $(BUILD)/trace-viewer.html
all: $(LIB) $(LAUNCHER) $(CTL) $(VIEWER)

$(VIEWER): scripts/trace-viewer.html
	@mkdir -p $(BUILD)
	cp $< $@

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

# The only exported symbols: the interposed libc names, listed per shim
# family in shim/exports/*.sym (one name a line, # comments).
SYM_FILES := $(wildcard shim/exports/*.sym)
$(BUILD)/exports.map: $(SYM_FILES)
	@mkdir -p $(BUILD)
	{ echo '{ global:'; sed -e 's/#.*//' -e '/^[[:space:]]*$$/d' \
	    -e 's/.*/  &;/' $(SYM_FILES); echo '  local: *; };'; } > $@

$(LIB): $(RT_OBJS) $(SHIM_OBJS) $(BUILD)/exports.map
	$(CC) $(RT_OBJS) $(SHIM_OBJS) $(LIB_LDFLAGS) -o $@

$(LAUNCHER): scripts/greenrun.in Makefile
	@mkdir -p $(BUILD)
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBDIR@|$(abspath $(BUILD))|g' $< > $@
	chmod +x $@

# The launcher's helper for `greenrun dump PID` (a plain program).
$(CTL): scripts/greenrun-ctl.c
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra $< -o $@

# ---- tests -------------------------------------------------------------
deps:
	@scripts/install-deps

UNIT_SRCS := $(wildcard tests/unit/*.c)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
# Unit tests link runtime/ statically through its internals (never the shim).
$(BUILD)/unit-tests: $(UNIT_SRCS) $(RT_OBJS) $(HDRS)
	$(CC) $(CFLAGS_COMMON) -ftls-model=initial-exec -Iruntime $(CHECK_CFLAGS) \
		$(UNIT_SRCS) $(RT_OBJS) -o $@ $(CHECK_LIBS) -ldl -lpthread -lunwind

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

progs: all
	tests/run-progs.sh

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) progs

demo: all
	scripts/demo.sh

bench: all
	bench/run.sh

# Diagnostics acceptance scripts (issue #5); too heavy for `make check`.
dump-echo: all
	scripts/dump-echo.sh

trace-screenshot: all
	scripts/trace-screenshot.sh

compat: all
	compat/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libgreenrun.so
	install -m 755 $(CTL) $(DESTDIR)$(PREFIX)/lib/greenrun-ctl
	install -m 644 $(VIEWER) $(DESTDIR)$(PREFIX)/lib/trace-viewer.html
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBDIR@|$(PREFIX)/lib|g' \
		scripts/greenrun.in > $(DESTDIR)$(PREFIX)/bin/greenrun
	chmod 755 $(DESTDIR)$(PREFIX)/bin/greenrun

clean:
	rm -rf $(BUILD)
