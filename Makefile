# promrun - CI, cron and systemd runs as Prometheus metrics.
#
#   make                 build every program into $(BUILD)
#   make check           install missing dependencies, build, run every test
#   make check SANITIZE=1   the same suite with ASan and UBSan
#   make check-long      the reliability suites' long variants
#   make run             install, build, record sample runs, show the result
#   make bench           benchmarks against the peers, printed as ratios
#   make install / uninstall   (PREFIX, DESTDIR, BINDIR, MANDIR, SYSCONFDIR,
#                        UNITDIR, DROPINDIR, SYSUSERSDIR, TMPFILESDIR, DOCDIR,
#                        TEXTFILEDIR)

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
PKGDATADIR ?= $(PREFIX)/share/promrun
DROPINDIR ?= $(PKGDATADIR)/systemd
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR    ?= $(PREFIX)/share/doc/promrun
# node_exporter's textfile directory (Debian's prometheus-node-exporter).
TEXTFILEDIR ?= /var/lib/prometheus/node-exporter

CC        ?= cc
CFLAGS    ?= -O2 -g
WARNINGS   = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
ALL_CPPFLAGS = -Ilib -DPROMRUN_VERSION='"$(VERSION)"' \
             -DSYSCONFDIR='"$(SYSCONFDIR)"' $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS)
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS)

ifeq ($(SANITIZE),1)
SANFLAGS   = -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
ALL_CFLAGS += $(SANFLAGS)
ALL_LDFLAGS += $(SANFLAGS)
BUILD     ?= build/sanitize
else
BUILD     ?= build/default
endif

# Libraries, looked up only when a program that needs them is linked.
LIBS_INIH  = $(shell pkg-config --libs inih 2>/dev/null || echo -linih)
LIBS_YAML  = $(shell pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)
LIBS_CURL  = $(shell pkg-config --libs libcurl zlib 2>/dev/null || echo -lcurl -lz)
LIBS_ZLIB  = $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)
LIBS_PCRE  = $(shell pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
LIBS_SNAPPY = $(shell pkg-config --libs snappy 2>/dev/null || echo -lsnappy)
LIBS_JANSSON = $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
LIBS_HTTPD = $(shell pkg-config --libs libmicrohttpd 2>/dev/null || \
             echo -lmicrohttpd) -pthread

PROGRAMS   = promrun-record promrun-render promrun-push promrun-rules \
             promrun-serve
# Each program links only the libraries it uses: only promrun-push links zlib
# (--gzip) and jansson (OTLP's JSON), only promrun-rules reads YAML and
# matches regular expressions (PCRE2), only promrun-serve links libmicrohttpd
# (and jansson, for the bodies it takes); the config (and so every program)
# needs inih.  No program links libcurl or libsnappy: promrun-push and
# promrun-record load them with dlopen when they send (lib/push/curlapi.h,
# snappyapi.h), so the dynamic loader does not load them, and the 30
# libraries libcurl brings, before main() on every run.
LIBS_promrun-record = $(LIBS_INIH)
LIBS_promrun-render = $(LIBS_INIH)
LIBS_promrun-push = $(LIBS_INIH) $(LIBS_ZLIB) $(LIBS_JANSSON)
LIBS_promrun-rules = $(LIBS_INIH) $(LIBS_YAML) $(LIBS_PCRE) -pthread
LIBS_promrun-serve = $(LIBS_INIH) $(LIBS_HTTPD) $(LIBS_JANSSON)

LIB_SRCS   = $(wildcard lib/*.c) $(wildcard lib/*/*.c)
LIB_OBJS   = $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBA       = $(BUILD)/libpromrun.a
BINS       = $(PROGRAMS:%=$(BUILD)/%)

UNIT_SRCS  = $(wildcard test/unit/*.c)
UNIT_BINS  = $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)
TOOL_SRCS  = $(wildcard test/tools/*.c)
TOOL_BINS  = $(TOOL_SRCS:test/tools/%.c=$(BUILD)/test/%)
# LD_PRELOAD shims for tests (test/tools/preload/NAME.c -> NAME.so), built
# without the sanitizers: they only wrap a libc call of the program.
PRELOAD_SRCS = $(wildcard test/tools/preload/*.c)
PRELOAD_LIBS = $(PRELOAD_SRCS:test/tools/preload/%.c=$(BUILD)/test/%.so)

all: $(BINS)

# Objects are rebuilt when the compiler or its flags change (a new
# SYSCONFDIR for "make install" included), not only when a source does:
# $(BUILD)/flags holds the last ones and is rewritten only when they differ.
FLAGS_NOW := $(strip $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS))
ifneq ($(FLAGS_NOW),$(strip $(shell cat $(BUILD)/flags 2>/dev/null)))
$(shell mkdir -p $(BUILD))
$(file >$(BUILD)/flags,$(FLAGS_NOW))
endif

$(BUILD)/%.o: %.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# A program is every .c file of its cmd/ folder (main.c the outline).
.SECONDEXPANSION:
$(BINS): $(BUILD)/%: $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(basename \
    $$(wildcard cmd/$$*/*.c)))) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_$*) -lm

# Unit tests and test tools may use any module, so they get every library.
TEST_LIBS  = $(LIBS_INIH) $(LIBS_YAML) $(LIBS_CURL) $(LIBS_SNAPPY) \
             $(LIBS_JANSSON) $(LIBS_HTTPD) $(LIBS_PCRE) -lm
$(BUILD)/test/%: $(BUILD)/test/unit/%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS)
$(BUILD)/test/%: $(BUILD)/test/tools/%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS)
$(BUILD)/test/%.so: test/tools/preload/%.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARNINGS) $(CFLAGS) -fPIC -shared \
	    -o $@ $< -ldl

# Fuzz targets (test/fuzz/fuzz-NAME.c).  Each saved corpus is replayed in
# every "make check" by a replay driver built with the normal compiler (so
# under gcc, and under ASan/UBSan with SANITIZE=1); "make fuzz" runs
# libFuzzer under clang for FUZZ_TIME seconds per target.  The PromQL
# target has its own driver, which also counts the inputs that parse.
FUZZ_TARGETS = journal checkpoint expfmt config promql rules serve utest eval
FUZZ_SRCS  = $(FUZZ_TARGETS:%=test/fuzz/fuzz-%.c) test/fuzz/replay.c \
             test/fuzz/replay-main.c
FUZZ_REPLAYS = $(filter-out %-promql,$(FUZZ_TARGETS:%=$(BUILD)/test/fuzz-replay-%)) \
             $(BUILD)/test/fuzz-replay
$(BUILD)/test/fuzz-replay: $(BUILD)/test/fuzz/fuzz-promql.o \
    $(BUILD)/test/fuzz/replay.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS)
$(BUILD)/test/fuzz-replay-%: $(BUILD)/test/fuzz/fuzz-%.o \
    $(BUILD)/test/fuzz/replay-main.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS)

FUZZ_TIME ?= 60
FUZZ_DIR   = build/fuzz
FUZZ_MAXLEN_promql = 512
FUZZ_MAXLEN_eval = 256
FUZZ_MAXLEN_utest = 4096
FUZZ_MAXLEN_rules = 4096
FUZZ_MAXLEN_config = 4096
FUZZ_MAXLEN_expfmt = 8192
FUZZ_MAXLEN_journal = 16384
FUZZ_MAXLEN_checkpoint = 16384
FUZZ_MAXLEN_serve = 8192
fuzz: deps
	@command -v clang >/dev/null || { echo "make fuzz needs clang" >&2; exit 1; }
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-$$t || exit 1; done
# A static pattern: a plain "fuzz-%" would also match build/.../fuzz-replay-*.
FUZZ_RUNS  = $(FUZZ_TARGETS:%=fuzz-%)
$(FUZZ_RUNS): fuzz-%:
	@mkdir -p $(FUZZ_DIR)/new-$* $(FUZZ_DIR)/artifacts-$*
	clang $(ALL_CPPFLAGS) -std=c11 -g -O1 \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $(FUZZ_DIR)/fuzz-$* test/fuzz/fuzz-$*.c $(LIB_SRCS) $(TEST_LIBS)
	$(FUZZ_DIR)/fuzz-$* -max_total_time=$(FUZZ_TIME) \
	    -max_len=$(FUZZ_MAXLEN_$*) -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts-$*/ \
	    $(FUZZ_DIR)/new-$* test/fuzz/corpus/$*

# Keep test objects between runs.
.SECONDARY:

CMD_SRCS   = $(wildcard cmd/*/*.c)
-include $(LIB_OBJS:.o=.d) $(CMD_SRCS:%.c=$(BUILD)/%.d) \
    $(UNIT_SRCS:%.c=$(BUILD)/%.d) $(TOOL_SRCS:%.c=$(BUILD)/%.d) \
    $(FUZZ_SRCS:%.c=$(BUILD)/%.d)

deps:
	@scripts/install-deps

# The other compiler must be warning-free too; a syntax-only pass is enough.
OTHER_CC = $(if $(findstring clang,$(CC)),gcc,clang)
warnings:
	@command -v $(OTHER_CC) >/dev/null || { echo "$(OTHER_CC) not found" >&2; exit 1; }
	$(OTHER_CC) $(ALL_CPPFLAGS) -std=c11 $(WARNINGS) -fsyntax-only \
	    $(LIB_SRCS) $(CMD_SRCS) $(UNIT_SRCS) $(TOOL_SRCS) \
	    $(PRELOAD_SRCS) $(FUZZ_SRCS)

test-bins: $(BINS) $(UNIT_BINS) $(TOOL_BINS) $(PRELOAD_LIBS) $(FUZZ_REPLAYS)

unit: test-bins
	@for t in $(UNIT_BINS); do echo "unit: $$t"; $$t || exit 1; done

# Every test prints its time, and none may hang the suite: a test still
# running after BATS_TEST_TIMEOUT seconds fails (the slowest take ~3 min on
# a loaded 2-core machine under SANITIZE=1).
BATS_TEST_TIMEOUT ?= 600
bats: test-bins
	PROMRUN_BUILD=$(abspath $(BUILD)) PROMRUN_SANITIZE=$(SANITIZE) \
	    BATS_TEST_TIMEOUT=$(BATS_TEST_TIMEOUT) \
	    bats --timing --print-output-on-failure test/

check: deps
	@$(MAKE) --no-print-directory warnings
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory bats

# The reliability suites' long variants: 10,000 kills, 1,000 compactions.
check-long: deps
	@$(MAKE) --no-print-directory test-bins
	PROMRUN_BUILD=$(abspath $(BUILD)) PROMRUN_LONG=1 \
	    bats --print-output-on-failure test/5*.bats

# The benchmarks use the test tools too (journal-gen makes their journals).
bench: deps
	@$(MAKE) --no-print-directory test-bins
	@for b in test/bench/*.sh; do PROMRUN_BUILD=$(abspath $(BUILD)) $$b || exit 1; echo; done

RUN_DIR = $(BUILD)/run
run: deps
	@$(MAKE) --no-print-directory all
	@PROMRUN_BUILD=$(abspath $(BUILD)) RUN_DIR=$(abspath $(RUN_DIR)) \
	    scripts/demo

# What "make install" copies, each list a wildcard so new files are picked
# up: programs and the CI hook to BINDIR; man pages beside their sources;
# systemd units to UNITDIR, unit drop-ins (for users' own services, to link
# into NAME.service.d/) to DROPINDIR, systemd/sysusers.d and tmpfiles.d
# files to SYSUSERSDIR and TMPFILESDIR (systemd reads both under
# /usr/local/lib too); examples/ to DOCDIR/examples.
INSTALL_SCRIPTS = scripts/promrun-ci
MAN1       = $(wildcard cmd/*/*.1 scripts/*.1)
MAN5       = $(wildcard examples/*.5)
UNITS      = $(wildcard systemd/*.service systemd/*.socket systemd/*.path \
             systemd/*.timer)
DROPINS    = $(wildcard systemd/*.conf)
SYSUSERS   = $(wildcard systemd/sysusers.d/*.conf)
TMPFILES   = $(wildcard systemd/tmpfiles.d/*.conf)
EXAMPLES   = $(filter-out $(MAN5),$(shell find examples -type f | LC_ALL=C sort))
CONFIG     = $(DESTDIR)$(SYSCONFDIR)/promrun/promrun.ini
# Directories only promrun uses, deepest first: uninstall removes them when
# empty (never bin/, man1/ or the unit directory, which others share).
reverse    = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
OUR_DIRS   = $(call reverse,$(DOCDIR) $(sort $(patsubst examples/%,$(DOCDIR)/examples/%,\
             $(dir $(EXAMPLES))))) $(DROPINDIR) $(PKGDATADIR) $(SYSCONFDIR)/promrun

# install_units FILES,DIR: units and drop-ins name the programs by their
# default path, /usr/local/bin/; installed with another BINDIR, they name it.
install_units = for f in $(1); do \
	    d="$(DESTDIR)$(2)/$$(basename "$$f")"; \
	    install -d "$(DESTDIR)$(2)" && \
	    sed 's|/usr/local/bin/|$(BINDIR)/|g' "$$f" >"$$d" && \
	    chmod 644 "$$d" || exit 1; \
	done

# promrun-render.service writes the textfile in promrun's own directory
# (systemd/promrun-render.service, tmpfiles.d); install links
# TEXTFILEDIR/promrun.prom to it when node_exporter's directory exists, so
# that directory's owner, mode and ACL stay as its package set them and
# promrun needs no write access there.  Anything else already there under
# that name is kept; uninstall removes the link only while it is ours.
TEXTFILE   = /var/lib/promrun/textfile/promrun.prom
TEXTFILE_LINK = $(DESTDIR)$(TEXTFILEDIR)/promrun.prom
textfile_link_is_ours = [ -L $(TEXTFILE_LINK) ] && \
	    [ "$$(readlink $(TEXTFILE_LINK))" = $(TEXTFILE) ]

# The configuration is installed only where none exists, and uninstalled only
# while it is byte for byte the shipped one: a file the administrator wrote
# or changed is never replaced or removed.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/promrun
	install -m 755 $(BINS) $(INSTALL_SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	$(if $(UNITS),$(call install_units,$(UNITS),$(UNITDIR)))
	$(if $(DROPINS),$(call install_units,$(DROPINS),$(DROPINDIR)))
	$(if $(SYSUSERS),install -d $(DESTDIR)$(SYSUSERSDIR) && \
	    install -m 644 $(SYSUSERS) $(DESTDIR)$(SYSUSERSDIR))
	$(if $(TMPFILES),install -d $(DESTDIR)$(TMPFILESDIR) && \
	    install -m 644 $(TMPFILES) $(DESTDIR)$(TMPFILESDIR))
	for f in $(EXAMPLES:examples/%=%); do \
	    install -d "$(DESTDIR)$(DOCDIR)/examples/$$(dirname "$$f")" && \
	    install -m 644 "examples/$$f" "$(DESTDIR)$(DOCDIR)/examples/$$f" || exit 1; \
	done
	@if [ -e $(CONFIG) ]; then \
	    echo "keeping the existing $(CONFIG)"; \
	else \
	    echo "install -m 644 examples/promrun.ini $(CONFIG)"; \
	    install -m 644 examples/promrun.ini $(CONFIG); \
	fi
	@if $(textfile_link_is_ours); then :; \
	elif [ ! -d $(DESTDIR)$(TEXTFILEDIR) ]; then \
	    echo "no link to $(TEXTFILE): no $(DESTDIR)$(TEXTFILEDIR) (node_exporter's textfile directory: TEXTFILEDIR)"; \
	elif [ -e $(TEXTFILE_LINK) ] || [ -L $(TEXTFILE_LINK) ]; then \
	    echo "keeping $(TEXTFILE_LINK): not a link to $(TEXTFILE) (an earlier promrun-render's textfile? remove it and install again)"; \
	else \
	    echo "ln -s $(TEXTFILE) $(TEXTFILE_LINK)"; \
	    ln -s $(TEXTFILE) $(TEXTFILE_LINK); \
	fi

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) \
	    $(INSTALL_SCRIPTS:scripts/%=$(DESTDIR)$(BINDIR)/%) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS))) \
	    $(addprefix $(DESTDIR)$(DROPINDIR)/,$(notdir $(DROPINS))) \
	    $(addprefix $(DESTDIR)$(SYSUSERSDIR)/,$(notdir $(SYSUSERS))) \
	    $(addprefix $(DESTDIR)$(TMPFILESDIR)/,$(notdir $(TMPFILES))) \
	    $(EXAMPLES:examples/%=$(DESTDIR)$(DOCDIR)/examples/%)
	@if [ ! -e $(CONFIG) ]; then :; \
	elif cmp -s examples/promrun.ini $(CONFIG); then \
	    echo "rm -f $(CONFIG)"; rm -f $(CONFIG); \
	else \
	    echo "keeping $(CONFIG): it differs from examples/promrun.ini"; \
	fi
	@if $(textfile_link_is_ours); then \
	    echo "rm -f $(TEXTFILE_LINK)"; rm -f $(TEXTFILE_LINK); \
	fi
	-@rmdir $(addprefix $(DESTDIR),$(OUR_DIRS)) 2>/dev/null; true

clean:
	rm -rf build

.PHONY: all deps warnings test-bins unit bats check check-long bench run install \
	uninstall clean fuzz $(FUZZ_RUNS)
