# fractfs — build, test and bench.
#
#   make deps           install the Debian packages the build and tests need
#   make                build everything into $(BUILD) (default: build/)
#   make demo           a sample app root, its configuration and tiers
#   make test           build and run every test, ending with a summary line
#   make test-sanitize  the test suite under ASan+UBSan (build/asan)
#   make test-tsan      the test suite under TSan (build/tsan)
#   make bench          benchmarks; report under $(BUILD)/bench/
#   make install        install under PREFIX (default /usr/local); DESTDIR, bindir,
#                       libdir, mandir… as in the GNU conventions; make uninstall
#   make deb            a Debian package in $(BUILD)/deb/
#
# make uses every core unless given -j; V=1 shows the full commands.

VERSION := 0.1.0
BUILD ?= build
SAN ?=
CXX ?= g++
MAKEFLAGS += --no-builtin-rules

# Every core, unless -j was given (on the command line, in MAKEFLAGS, or by
# a parent make's jobserver).
ifeq ($(filter -j% --jobserver%,$(MAKEFLAGS) $(shell printenv MAKEFLAGS)),)
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif

# One short line per file; V=1 prints the commands instead; -s neither.
ifeq ($(V),1)
  Q :=
  say :=
else ifneq ($(findstring s,$(filter-out -%,$(firstword $(MAKEFLAGS)))),)
  Q := @
  say = @
else
  Q := @
  say = @printf '  %-6s %s\n' '$(1)' '$(2)';
endif

DEB_PACKAGES := g++ make git python3 libtomlplusplus-dev libfmt-dev libboost-dev catch2 \
                sqlite3 libsqlite3-dev tar coreutils findutils gnuplot-nox libxxhash-dev rsync \
                nodejs inotify-tools strace binutils \
                libcurl4-openssl-dev libpugixml-dev nlohmann-json3-dev curl openssl \
                radosgw ceph-mon ceph-osd nginx-full libnginx-mod-http-dav-ext \
                restic rclone

CPPFLAGS := -I. -DFMT_HEADER_ONLY -DTOML_HEADER_ONLY=0 -MMD -MP
CXXFLAGS := -std=c++20 -Wall -Wextra -Werror -O2 -g -fPIC -fvisibility=hidden \
            -ffunction-sections -fdata-sections
LDFLAGS  := -Wl,--gc-sections
# GCC 12 reports false -Wmaybe-uninitialized in std::regex/std::function under
# the sanitizers' instrumentation; that one warning is off in those builds.
ifeq ($(SAN),address)
  CXXFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 \
              -Wno-maybe-uninitialized
  LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
  CXXFLAGS += -fsanitize=thread -O1 -Wno-maybe-uninitialized
  LDFLAGS  += -fsanitize=thread
endif

OBJ = $(BUILD)/obj
objs = $(patsubst %.cpp,$(OBJ)/%.o,$(1))

RESOLVER_SRC := $(wildcard resolver/*.cpp)
SHIM_SRC     := $(wildcard shim/*.cpp)
SYNC_SRC     := $(wildcard sync/*.cpp)
# What the preloaded library takes from sync/: recording changes and finding
# the helper. Checkpoints, restores and stores run in the helper process.
SHIM_SYNC_SRC := sync/journal.cpp sync/state_dir.cpp sync/control.cpp sync/presence.cpp sync/sys.cpp \
                 sync/fileops.cpp sync/object_id.cpp sync/skeleton.cpp
# The network stores (libcurl, OpenSSL through it): in the programs and the
# tests, never in libfractfs.so.
NET_SRC      := $(wildcard sync/net/*.cpp)
NET_LIBS     := -lcurl -lpugixml
CLI_COMMON   := cli/args.cpp cli/common.cpp
FRACTFS_SRC  := $(CLI_COMMON) cli/fractfs_main.cpp $(wildcard cli/cmd_*.cpp) cli/json.cpp cli/sync_cli.cpp \
                cli/tier_count.cpp $(SYNC_SRC) $(NET_SRC)
RUN_SRC      := $(CLI_COMMON) cli/fractfs_run.cpp cli/elf_probe.cpp cli/launch.cpp $(SYNC_SRC) $(NET_SRC)
UNIT_SRC     := $(wildcard tests/unit/*.cpp)
STORE_SRC    := $(wildcard tests/store/*.cpp)

LIBRESOLVER := $(BUILD)/lib/libfractfs_resolver.a
SHIM_LIB    := $(BUILD)/lib/libfractfs.so
SHIM_MAP    := $(BUILD)/shim/exports.map
SHIM_WRAP   := $(BUILD)/shim/wrap.flags
SHIM_PRE    := $(BUILD)/shim/shim_prelinked.o
WALK_PRE    := $(BUILD)/shim/walk_prelinked.o
FRACTFS     := $(BUILD)/bin/fractfs
FRACTFS_RUN := $(BUILD)/bin/fractfs-run
UNIT_TESTS  := $(BUILD)/tests/unit_tests
GIT_DIFF    := $(BUILD)/tests/git_differential
BENCH_RES   := $(BUILD)/bench/bench_resolver
BENCH_SHIM  := $(BUILD)/bench/bench_shim
BENCH_FWD   := $(BUILD)/bench/forwarder.so
STRESS      := $(BUILD)/tests/stress
STRESS_IN   := $(BUILD)/tests/stress_linked
MAPPING     := $(BUILD)/tests/mapping_differential
STORE_TESTS := $(BUILD)/tests/store_tests

.PHONY: all deps demo test test-sanitize test-tsan bench clean
all: $(FRACTFS) $(FRACTFS_RUN) $(SHIM_LIB) $(UNIT_TESTS) $(GIT_DIFF) $(STRESS) $(STRESS_IN) $(MAPPING) $(STORE_TESTS)

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	echo "deps: installing$$missing"; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

$(OBJ)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(call say,CXX,$<)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(LIBRESOLVER): $(call objs,$(RESOLVER_SRC))
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# The shim defines libc's own names: no fortify wrappers in its sources. Its
# checks for NULL arguments are deliberate (apps pass them), whatever the
# headers' nonnull attributes promise.
$(OBJ)/shim/%.o: CPPFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 -Wno-nonnull-compare

# Only the functions listed in shim/functions.def are exported.
$(SHIM_MAP): shim/functions.def
	@mkdir -p $(dir $@)
	$(call say,GEN,$@){ echo '{ global:'; $(CXX) -E -P -x c++ -D'FN(n)=n;' -D'FNV(n,v)=n;' -D'FNH(n)=n;' $<; echo 'local: *; };'; } > $@

# The library's own calls to these functions go to libc, never through its
# interposers: --wrap=NAME for each (shim/app_calls.hpp says how).
$(SHIM_WRAP): shim/functions.def
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)$(CXX) -E -P -x c++ -D'FN(n)=--wrap=n' -D'FNV(n,v)=--wrap=n' -D'FNH(n)=--wrap=n' $< | tr ' ' '\n' | grep . > $@
# The same, for programs that link the shim's objects (or the walkers)
# themselves: one relocatable object, wrapped, so the program's own calls
# still reach the interposers (or, for the walkers alone, libc).
prelink = $(call say,LD,$@)$(CXX) -r -nostdlib $(filter %.o,$^) -Wl,@$(SHIM_WRAP) -o $@
$(SHIM_PRE): $(call objs,$(SHIM_SRC) $(SHIM_SYNC_SRC)) $(SHIM_WRAP)
	$(prelink)
$(WALK_PRE): $(call objs,shim/walk_nftw.cpp shim/walk_fts.cpp) $(SHIM_WRAP)
	$(prelink)

# libstdc++ and libgcc linked in statically and hidden, and no libm (g++
# would add it for libstdc++; nothing uses it): a process started under the
# shim loads this one file and nothing else.
ifeq ($(SAN),)
  SHIM_LIBS := -nodefaultlibs -Wl,-Bstatic -lstdc++ -lgcc_eh -lgcc -Wl,-Bdynamic -lc
else
  SHIM_LIBS := -static-libstdc++ -static-libgcc
endif
$(SHIM_LIB): $(call objs,$(SHIM_SRC) $(SHIM_SYNC_SRC)) $(LIBRESOLVER) $(SHIM_MAP) $(SHIM_WRAP)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) -shared $(CXXFLAGS) $(call objs,$(SHIM_SRC) $(SHIM_SYNC_SRC)) $(LIBRESOLVER) -o $@ $(LDFLAGS) \
	  -Wl,--exclude-libs,ALL -Wl,--version-script=$(SHIM_MAP) -Wl,-z,defs -Wl,-O1 -Wl,-z,pack-relative-relocs \
	  -Wl,@$(SHIM_WRAP) \
	  $(SHIM_LIBS)

# What the processes that checkpoint (never an app process) link besides.
SYNC_LIBS := -lsqlite3 -pthread

$(FRACTFS): $(call objs,$(FRACTFS_SRC)) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS) $(SYNC_LIBS) $(NET_LIBS)

$(FRACTFS_RUN): $(call objs,$(RUN_SRC)) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS) $(SYNC_LIBS) $(NET_LIBS)

$(UNIT_TESTS): $(call objs,$(UNIT_SRC) $(SYNC_SRC)) $(WALK_PRE) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS) $(SYNC_LIBS)

# The store conformance test: the same cases against mount, S3 and WebDAV
# (tests/store/run.sh starts the servers).
$(STORE_TESTS): $(call objs,$(STORE_SRC) $(SYNC_SRC) $(NET_SRC)) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS) $(SYNC_LIBS) $(NET_LIBS)

$(GIT_DIFF): $(call objs,tests/git_differential.cpp) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS)

# The stress test twice: as a plain program run under LD_PRELOAD, and with
# the shim's objects linked in, so sanitizer builds instrument the shim too.
$(STRESS): $(call objs,tests/shim/stress.cpp)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS) -pthread

$(STRESS_IN): $(call objs,tests/shim/stress.cpp) $(SHIM_PRE) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS) -pthread -Wl,--export-dynamic

# The mapping differential test: the shim's objects linked in, like stress_linked.
$(MAPPING): $(call objs,tests/shim/mapping_differential.cpp) $(SHIM_PRE) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS) -pthread -Wl,--export-dynamic

$(BENCH_RES): $(call objs,bench/bench_resolver.cpp) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS)

demo: $(FRACTFS) $(FRACTFS_RUN) $(SHIM_LIB)
	@BUILD=$(BUILD) bash demo/run.sh

test: all
	@BUILD=$(BUILD) SAN=$(SAN) bash tests/run.sh

# Longer kill -9 runs than make test's (R=N scales them; defaults take
# an hour or more here): checkpoints killed at random, SQLite writers killed
# with their helper, and the same on S3 and WebDAV.
R ?= 1
reliability: all
	TRIALS=$$((1000 * $(R))) BUILD=$(BUILD) bash tests/sync/test_crash.sh
	TRIALS=$$((200 * $(R))) BUILD=$(BUILD) bash tests/sync/test_sqlite_crash.sh
	CRASH_TRIALS=$$((25 * $(R))) BUILD=$(BUILD) bash tests/sync/test_object_stores.sh

test-sanitize:
	$(MAKE) BUILD=build/asan SAN=address test

test-tsan:
	$(MAKE) BUILD=build/tsan SAN=thread test

$(BENCH_SHIM): $(call objs,bench/bench_shim.cpp)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS)

# The calibration wrapper for bench_shim: plain C, nothing of the project.
$(BENCH_FWD): bench/forwarder.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -O2 -Wall -Wextra -Werror -fPIC -shared $< -o $@

bench: $(BENCH_RES) $(BENCH_SHIM) $(BENCH_FWD) $(SHIM_LIB)
	@mkdir -p $(BUILD)/bench
	$(BENCH_RES) | tee $(BUILD)/bench/resolver.md
	BUILD=$(BUILD) bash bench/run_shim.sh
	$(MAKE) --no-print-directory $(FRACTFS) $(FRACTFS_RUN) && BUILD=$(BUILD) bash bench/bench_checkpoint.sh
	python3 bench/bench_sqlite.py $(BUILD)
	BUILD=$(BUILD) bash bench/bench_object_store.sh

# ---- Documentation, install, Debian package ---------------------------------
# make install / make deb and their tests: man pages, completion, packaging.
DEB_PACKAGES += scdoc man-db dpkg-dev lintian bash-completion
.PHONY: install install-strip uninstall deb reliability

# Man pages: scdoc sources in man/ (NAME.SECTION.scd), @VERSION@ filled in.
MAN_SRC  := $(wildcard man/*.scd)
MANPAGES := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRC))
all: $(MANPAGES)
$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	$(call say,SCDOC,$<)sed 's/@VERSION@/$(VERSION)/g' $< | scdoc > $@.tmp && mv $@.tmp $@

# GNU conventions: prefix (or PREFIX), exec_prefix, bindir, libdir, … and
# DESTDIR. libfractfs.so goes to $(libdir)/fractfs, where fractfs-run finds
# it relative to itself (cli/launch.cpp): libdir must be $(exec_prefix)/lib,
# lib64 or lib/<multiarch>.
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
libdir      ?= $(exec_prefix)/lib
pkglibdir   ?= $(libdir)/fractfs
datarootdir ?= $(prefix)/share
mandir      ?= $(datarootdir)/man
man1dir     ?= $(mandir)/man1
man5dir     ?= $(mandir)/man5
docdir      ?= $(datarootdir)/doc/fractfs
bashcompdir ?= $(datarootdir)/bash-completion/completions
INSTALL     ?= install
INSTALL_STRIP ?=
MULTIARCH   := $(shell $(CXX) -print-multiarch 2>/dev/null)
ifneq ($(MULTIARCH),)
  $(OBJ)/cli/launch.o: CPPFLAGS += -DFRACTFS_MULTIARCH='"$(MULTIARCH)"'
endif
LIB_FROM_BIN = $(shell realpath -m -s --relative-to='$(bindir)' '$(pkglibdir)')
INSTALLED := $(bindir)/fractfs $(bindir)/fractfs-run $(pkglibdir)/libfractfs.so \
             $(patsubst $(BUILD)/man/%,$(mandir)/man1/%,$(filter %.1,$(MANPAGES))) \
             $(patsubst $(BUILD)/man/%,$(mandir)/man5/%,$(filter %.5,$(MANPAGES))) \
             $(bashcompdir)/fractfs $(bashcompdir)/fractfs-run \
             $(docdir)/README.md $(docdir)/examples/fractfs.toml

install: $(FRACTFS) $(FRACTFS_RUN) $(SHIM_LIB) $(MANPAGES)
	@case '$(LIB_FROM_BIN)' in ../lib/fractfs|../lib64/fractfs|../lib/$(MULTIARCH)/fractfs) ;; \
	  *) echo "install: fractfs-run in $(bindir) would not find $(pkglibdir) (it looks in ../lib/fractfs," \
	          "../lib64/fractfs, ../lib/$(MULTIARCH)/fractfs): set libdir to one of those" >&2; exit 1;; esac
	$(call say,INSTALL,$(DESTDIR)$(prefix))$(INSTALL) -d '$(DESTDIR)$(bindir)' '$(DESTDIR)$(pkglibdir)' \
	  '$(DESTDIR)$(man1dir)' '$(DESTDIR)$(man5dir)' '$(DESTDIR)$(bashcompdir)' '$(DESTDIR)$(docdir)/examples'
	$(Q)$(INSTALL) $(INSTALL_STRIP) -m 755 $(FRACTFS) $(FRACTFS_RUN) '$(DESTDIR)$(bindir)/'
	$(Q)$(INSTALL) $(INSTALL_STRIP) -m 644 $(SHIM_LIB) '$(DESTDIR)$(pkglibdir)/'
	$(Q)$(INSTALL) -m 644 $(filter %.1,$(MANPAGES)) '$(DESTDIR)$(man1dir)/'
	$(Q)$(INSTALL) -m 644 $(filter %.5,$(MANPAGES)) '$(DESTDIR)$(man5dir)/'
	$(Q)$(INSTALL) -m 644 completion/fractfs.bash '$(DESTDIR)$(bashcompdir)/fractfs'
	$(Q)ln -sf fractfs '$(DESTDIR)$(bashcompdir)/fractfs-run'
	$(Q)$(INSTALL) -m 644 README.md '$(DESTDIR)$(docdir)/'
	$(Q)$(INSTALL) -m 644 examples/fractfs.toml '$(DESTDIR)$(docdir)/examples/'

install-strip:
	$(MAKE) --no-print-directory install INSTALL_STRIP=-s

uninstall:
	$(call say,RM,$(DESTDIR)$(prefix))rm -f $(addprefix '$(DESTDIR),$(addsuffix ',$(INSTALLED)))
	$(Q)rmdir '$(DESTDIR)$(pkglibdir)' '$(DESTDIR)$(docdir)/examples' '$(DESTDIR)$(docdir)' 2>/dev/null || true

# The .deb: a staged install under /usr (Debian's multiarch libdir), then
# dpkg-shlibdeps, dpkg-gencontrol and dpkg-deb (packaging/build-deb.sh).
DEB_ARCH        = $(shell dpkg --print-architecture 2>/dev/null)
DEB_MAINTAINER ?= fractfs developers <fractfs-dev@lists.example.org>
DEB_FILE        = $(BUILD)/deb/fractfs_$(VERSION)_$(DEB_ARCH).deb
deb: $(FRACTFS) $(FRACTFS_RUN) $(SHIM_LIB) $(MANPAGES)
	$(Q)rm -rf $(BUILD)/deb/debian
	$(Q)$(MAKE) --no-print-directory install DESTDIR='$(abspath $(BUILD)/deb/debian/fractfs)' prefix=/usr \
	  libdir=/usr/lib/$(MULTIARCH) docdir=/usr/share/doc/fractfs
	$(call say,DEB,$(DEB_FILE))VERSION='$(VERSION)' MAINTAINER='$(DEB_MAINTAINER)' \
	  bash packaging/build-deb.sh $(BUILD)/deb $(DEB_FILE)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
