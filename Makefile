# pp: continuous profiling for native programs.
#
#   make                 build the tools and libpp
#   make check           run the test suite (prove, TAP), then again
#                        built with ASan and UBSan (in .san/)
#   make check-plain     the first run alone
#   make check SANITIZE=1  the suite built with ASan and UBSan, in place
#   make demo            profile a leaky program end to end (contrib/demo.sh)
#   make bench           run the benchmarks in t/perf
#   make fuzz            run the libFuzzer targets in fuzz/ (clang; FUZZ_SECONDS)
#   make install         install under $(DESTDIR)$(PREFIX)
#
# The libraries come from pkg-config. When a probe fails, config.mk's rule
# runs contrib/deps.sh, which installs the Debian packages.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
CFLAGS ?= -O2 -g
PP_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	-Ilib -Ilib/gen -Icmd
# Only the shared libraries a program uses are loaded when it starts.
PP_LDFLAGS = -Wl,--as-needed
ifeq ($(SANITIZE),1)
PP_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
PP_LDFLAGS += -fsanitize=address,undefined
endif

ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
include config.mk
endif

TOOLS = $(patsubst cmd/%.c,%,$(wildcard cmd/pp-*.c))
AGENT = libpp-agent.so
LIB_SRCS = $(wildcard lib/*.c)
AGENT_SRCS = $(wildcard lib/agent/*.c)
LIBDIR ?= $(PREFIX)/lib
PKGLIBDIR ?= $(LIBDIR)/pp
LIB_OBJS = $(LIB_SRCS:.c=.o) lib/gen/profile.pb-c.o
HELPERS = $(patsubst %.c,%,$(wildcard t/helper/*.c t/unit/*.c))
MANS1 = $(wildcard man/*.1)
MANS8 = $(wildcard man/*.8)
MANS7 = $(wildcard man/*.7)

FUZZ_TARGETS = http bundle pprof web
FUZZ_REPLAY = $(FUZZ_TARGETS:%=fuzz/replay-%)

all: $(TOOLS) $(AGENT) $(HELPERS) $(FUZZ_REPLAY)

config.mk: contrib/probe.sh contrib/deps.sh
	sh contrib/probe.sh > $@.tmp && mv $@.tmp $@

# Rebuild everything when the flags change (SANITIZE=1 and back).
FLAGS_LINE := $(CC) $(CFLAGS) $(PP_CFLAGS) $(LDFLAGS) $(PP_LDFLAGS)
$(shell mkdir -p lib/gen; echo '$(FLAGS_LINE)' | cmp -s - .build-flags || \
	echo '$(FLAGS_LINE)' > .build-flags)

lib/gen/profile.pb-c.c lib/gen/profile.pb-c.h: lib/profile.proto
	mkdir -p lib/gen
	cd lib && protoc-c --c_out=gen profile.proto

lib/pprof.o: lib/gen/profile.pb-c.h

%.o: %.c .build-flags config.mk
	$(CC) $(CFLAGS) $(PP_CFLAGS) $(DEP_CFLAGS) -MMD -MP -c -o $@ $<

lib/libpp.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# pp-recv runs once per connection: it is linked as one static PIE where
# the static libraries are installed, else with only the libraries it uses
# (RECV_LIBS, from contrib/probe.sh), so that starting it stays cheap. The
# sanitizers need the shared libraries.
ifeq ($(SANITIZE),1)
RECV_LINK = $(RECV_SHARED_LIBS)
else
RECV_LINK = $(RECV_LIBS)
endif
pp-recv: cmd/pp-recv.o cmd/msg.o lib/libpp.a
	$(CC) $(CFLAGS) $(PP_CFLAGS) $(LDFLAGS) $(PP_LDFLAGS) -Wl,--gc-sections \
		-o $@ $< cmd/msg.o lib/libpp.a $(RECV_LINK)

pp-%: cmd/pp-%.o cmd/msg.o lib/libpp.a
	$(CC) $(CFLAGS) $(PP_CFLAGS) $(LDFLAGS) $(PP_LDFLAGS) -o $@ $< \
		cmd/msg.o lib/libpp.a $(DEP_LIBS)

t/helper/%: t/helper/%.o cmd/msg.o lib/libpp.a
	$(CC) $(CFLAGS) $(PP_CFLAGS) $(LDFLAGS) $(PP_LDFLAGS) -o $@ $< \
		cmd/msg.o lib/libpp.a $(DEP_LIBS)

# The fuzz targets built with gcc and a main() that runs them over files:
# t/t0105 replays the committed reproducers, without clang.
fuzz/replay-%: fuzz/%.o fuzz/replay.o lib/libpp.a
	$(CC) $(CFLAGS) $(PP_CFLAGS) $(LDFLAGS) $(PP_LDFLAGS) -o $@ $< \
		fuzz/replay.o lib/libpp.a $(DEP_LIBS)

cmd/pp-record.o: PP_CFLAGS += -DPP_LIBDIR='"$(PKGLIBDIR)"'

# The agent lives inside other people's programs: position-independent,
# only its interposed symbols visible, initial-exec TLS, libunwind opened
# at run time, and never built with the sanitizers (their runtime must
# come first in a program, which a preloaded library cannot ensure).
AGENT_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	-O2 -g -fPIC -fvisibility=hidden -ftls-model=initial-exec \
	-fno-omit-frame-pointer -Ilib -Ilib/agent
$(AGENT): $(AGENT_SRCS) $(wildcard lib/agent/*.h) config.mk
	$(CC) $(AGENT_CFLAGS) $(AGENT_DEP_CFLAGS) -shared -o $@ $(AGENT_SRCS) \
		-ldl -lpthread -lm

t/unit/symbolize: PP_LDFLAGS += -rdynamic
# The agent's stack walk, built as the agent builds it, beside a test
# built without frame pointers.
t/unit/walk.o: PP_CFLAGS += -Ilib/agent -fomit-frame-pointer
t/unit/agent-walk.o: lib/agent/walk.c lib/agent/walk.h
	$(CC) $(AGENT_CFLAGS) -c -o $@ lib/agent/walk.c
t/unit/walk: t/unit/walk.o t/unit/agent-walk.o
	$(CC) $(CFLAGS) $(PP_CFLAGS) $(LDFLAGS) $(PP_LDFLAGS) -o $@ \
		t/unit/walk.o t/unit/agent-walk.o -ldl -lpthread
t/helper/pp-agent-dump.o: PP_CFLAGS += -Ilib/agent

t/unit/%: t/unit/%.o lib/libpp.a
	$(CC) $(CFLAGS) $(PP_CFLAGS) $(LDFLAGS) $(PP_LDFLAGS) -o $@ $< \
		lib/libpp.a $(DEP_LIBS)

# make check: the suite, then (unless this is the SANITIZE=1 build) the
# suite again built with ASan and UBSan in .san/, a copy of the sources
# (git's files, tracked or not ignored, that exist), so that the two builds do not undo
# each other. make check-plain runs the first alone.
check: check-plain
ifneq ($(SANITIZE),1)
	$(MAKE) check-sanitize
endif

check-plain: all
	prove $(PROVE_FLAGS) t/t[0-9]*.sh

SHARED_PROFILES_DIR = $(abspath ../shared/testdata/profiles)
check-sanitize:
	rm -rf .san && mkdir .san
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -co --exclude-standard -z | \
			xargs -0 sh -c 'for f; do [ -e "$$f" ] && \
				printf "%s\0" "$$f"; done; true' sh | \
			xargs -0 cp --parents -t .san; \
	else \
		tar -cf - --exclude=./.san . | tar -xf - -C .san; \
	fi
	PP_SHARED_PROFILES=$${PP_SHARED_PROFILES:-$(SHARED_PROFILES_DIR)} \
		$(MAKE) -C .san SANITIZE=1 check-plain

# make demo: record contrib/demo/leaky.c, push it to a pp-recv served on
# loopback, query it back and draw report.svg and flame.svg into DEMO_OUT.
DEMO_OUT ?= .
demo: all
	CC='$(CC)' bash contrib/demo.sh '$(DEMO_OUT)'

.PHONY: demo

bench: all
	sh contrib/probe.sh --bench >/dev/null
	@for b in t/perf/p[0-9]*.sh; do sh "$$b" || exit 1; done

# make fuzz: the targets, and a libpp built for them with clang, ASan, UBSan
# and libFuzzer's coverage in fuzz/build/, apart from the gcc build in
# place; each target runs FUZZ_SECONDS (fuzz/run.sh). Needs clang and
# libclang-rt-14-dev (contrib/deps.sh --fuzz installs them).
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang-14
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_LIB_OBJS = $(LIB_OBJS:%=fuzz/build/%)

fuzz: $(FUZZ_TARGETS:%=fuzz/build/fuzz-%)
	sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz/build/.deps: contrib/deps.sh
	sh contrib/deps.sh --fuzz >&2
	command -v $(FUZZ_CC) >/dev/null
	mkdir -p fuzz/build && touch $@

fuzz/build/%.o: %.c config.mk fuzz/build/.deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PP_CFLAGS) \
		$(DEP_CFLAGS) -MMD -MP -c -o $@ $<

fuzz/build/lib/pprof.o: lib/gen/profile.pb-c.h

fuzz/build/libpp.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJS)

fuzz/build/fuzz-%: fuzz/build/fuzz/%.o fuzz/build/libpp.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PP_LDFLAGS) -o $@ $< \
		fuzz/build/libpp.a $(DEP_LIBS)

install: $(TOOLS) $(AGENT)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PKGLIBDIR)
	cp $(TOOLS) $(DESTDIR)$(BINDIR)/
	cp $(AGENT) $(DESTDIR)$(PKGLIBDIR)/
	cp $(MANS1) $(DESTDIR)$(MANDIR)/man1/
	test -z "$(MANS7)" || cp $(MANS7) $(DESTDIR)$(MANDIR)/man7/
	test -z "$(MANS8)" || cp $(MANS8) $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -f $(TOOLS) $(AGENT) $(HELPERS) lib/libpp.a lib/*.o lib/*.d lib/gen/*.o \
		lib/gen/*.d cmd/*.o cmd/*.d t/helper/*.o t/helper/*.d t/unit/*.o t/unit/*.d \
		.build-flags config.mk $(FUZZ_REPLAY) fuzz/*.o fuzz/*.d
	rm -rf lib/gen fuzz/build .san

distclean: clean

.PHONY: all check check-plain check-sanitize bench fuzz install clean distclean
.SECONDARY:

-include lib/*.d cmd/*.d t/helper/*.d t/unit/*.d fuzz/*.d \
	$(wildcard fuzz/build/*/*.d fuzz/build/*/*/*.d)
