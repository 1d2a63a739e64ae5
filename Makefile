# fractfs — build, test and bench.
#
#   make deps           install the Debian packages the build and tests need
#   make                build everything into $(BUILD) (default: build/)
#   make demo           a sample app root, its configuration and tiers
#   make test           build and run every test, ending with a summary line
#   make test-sanitize  the test suite under ASan+UBSan (build/asan)
#   make test-tsan      the test suite under TSan (build/tsan)
#   make bench          benchmarks; report under $(BUILD)/bench/

BUILD ?= build
SAN ?=
CXX ?= g++
MAKEFLAGS += --no-builtin-rules

DEB_PACKAGES := g++ make git python3 libtomlplusplus-dev libfmt-dev libboost-dev catch2 \
                sqlite3 tar coreutils findutils

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
CLI_COMMON   := cli/args.cpp cli/common.cpp
FRACTFS_SRC  := $(CLI_COMMON) cli/fractfs_main.cpp cli/cmd_check.cpp cli/cmd_config.cpp
UNIT_SRC     := $(wildcard tests/unit/*.cpp)

LIBRESOLVER := $(BUILD)/lib/libfractfs_resolver.a
FRACTFS     := $(BUILD)/bin/fractfs
UNIT_TESTS  := $(BUILD)/tests/unit_tests
GIT_DIFF    := $(BUILD)/tests/git_differential
BENCH_RES   := $(BUILD)/bench/bench_resolver

.PHONY: all deps demo test test-sanitize test-tsan bench clean
all: $(FRACTFS) $(UNIT_TESTS) $(GIT_DIFF)

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
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(LIBRESOLVER): $(call objs,$(RESOLVER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(FRACTFS): $(call objs,$(FRACTFS_SRC)) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS)

$(UNIT_TESTS): $(call objs,$(UNIT_SRC)) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS)

$(GIT_DIFF): $(call objs,tests/git_differential.cpp) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS)

$(BENCH_RES): $(call objs,bench/bench_resolver.cpp) $(LIBRESOLVER)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDFLAGS)

demo: all
	@BUILD=$(BUILD) bash demo/run.sh

test: all
	@BUILD=$(BUILD) bash tests/run.sh

test-sanitize:
	$(MAKE) BUILD=build/asan SAN=address test

test-tsan:
	$(MAKE) BUILD=build/tsan SAN=thread test

bench: $(BENCH_RES)
	@mkdir -p $(BUILD)/bench
	$(BENCH_RES) | tee $(BUILD)/bench/resolver.md

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
