# hydrawatch build. `make` builds into $(OUTPUT); V=1 shows the commands.
# `make` needs the build packages present and installs nothing; `sudo make
# run` installs what is missing, builds and runs the agent; `sudo make test`
# installs the test packages too and runs every test.

OUTPUT ?= build
prefix ?= /usr/local
DESTDIR ?=
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PKG_CONFIG ?= pkg-config
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

WARNINGS := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
AGENT_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE \
	-DHW_VERSION='"$(VERSION)"' -DHW_GIT_REV='"$(GIT_REV)"' \
	-I$(OUTPUT) -I. -Iagent $(EXTRA_CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARNINGS) -std=gnu11 \
	-I$(OUTPUT) -I. $(EXTRA_BPF_CFLAGS)
LIBS := -lbpf -lelf -lz -lpcap -lcrypto -lmicrohttpd -ljansson -lcurl -lpthread -lm \
	$(EXTRA_LDFLAGS)

# layers, lowest first: lib/ (no hydrawatch types), agent/{source,proto,
# pipeline,aggregate,detect}/, exporter/ (sinks), agent/ (the runtime glue)
LIB_SRCS := $(wildcard lib/*.c)
AGENT_SRCS := $(LIB_SRCS) $(wildcard agent/*/*.c) $(wildcard exporter/*.c) $(wildcard agent/*.c)
HEADERS := $(wildcard lib/*.h agent/*.h agent/*/*.h exporter/*.h) bpf/hydrawatch.h bpf/tcp.h
AGENT_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(AGENT_SRCS))
# everything but main(): linked into the unit tests too
LIB_OBJS := $(filter-out $(OUTPUT)/agent/main.o,$(AGENT_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(OUTPUT)/tools/%,$(TOOL_SRCS))

.PHONY: all deps test-deps run test test-build unit-test integration-test install clean \
	format format-check fuzz fuzz-smoke bench

all: $(OUTPUT)/hydrawatch $(TOOL_BINS)

# Debian packages the build and the tests need; idempotent and
# non-interactive. The stamp keeps it from running dpkg on every build.
deps: $(OUTPUT)/.deps
$(OUTPUT)/.deps: deploy/install-deps.sh | $(OUTPUT)
	$(call msg,DEPS,deploy/install-deps.sh build)
	$(Q)./deploy/install-deps.sh build
	$(Q)touch $@

test-deps: $(OUTPUT)/.test-deps
$(OUTPUT)/.test-deps: deploy/install-deps.sh | $(OUTPUT)
	$(call msg,DEPS,deploy/install-deps.sh test)
	$(Q)./deploy/install-deps.sh test
	$(Q)touch $@

$(OUTPUT) $(OUTPUT)/agent $(OUTPUT)/tests $(OUTPUT)/tools:
	$(Q)mkdir -p $@

# vmlinux.h is generated from the running kernel's BTF: CO-RE relocations
# make the object portable, and nothing multi-megabyte is checked in.
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no kernel BTF at $(VMLINUX_BTF): pass VMLINUX_BTF=path (CONFIG_DEBUG_INFO_BTF=y kernels have it)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/hydrawatch.bpf.o: bpf/hydrawatch.bpf.c bpf/hydrawatch.h bpf/hydrawatch.bpf.h bpf/tcp.h \
		$(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

# benchmark-only programs (the floor and empty programs beside hydrawatch)
$(OUTPUT)/%.bpf.o: tests/bench/bpf/%.bpf.c bpf/hydrawatch.h bpf/hydrawatch.bpf.h $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# only the loader sees the generated skeleton
$(OUTPUT)/agent/source/loader.o: $(OUTPUT)/hydrawatch.skel.h

# the revision is compiled into two objects (and the metrics test): a stamp
# that changes only with it rebuilds them after a commit
REV_STAMP := $(OUTPUT)/.git-rev
$(shell mkdir -p $(OUTPUT) && { echo '$(GIT_REV)' | cmp -s - $(REV_STAMP) || echo '$(GIT_REV)' > $(REV_STAMP); })
$(OUTPUT)/agent/main.o $(OUTPUT)/exporter/metrics.o $(OUTPUT)/tests/test_metrics: $(REV_STAMP)

$(OUTPUT)/%.o: %.c $(HEADERS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(AGENT_CFLAGS) -c $< -o $@

$(OUTPUT)/hydrawatch: $(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(AGENT_CFLAGS) $^ -o $@ $(LIBS)

# hwsynth drives the agent's own pipeline: it links the agent objects
$(OUTPUT)/tools/hwsynth: tests/tools/hwsynth.c $(LIB_OBJS) | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(AGENT_CFLAGS) $< $(LIB_OBJS) -o $@ $(LIBS)

$(OUTPUT)/tools/%: tests/tools/%.c | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE $< -o $@ -lpthread

$(OUTPUT)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(AGENT_CFLAGS) $< $(LIB_OBJS) -o $@ -lcmocka $(LIBS)

# libFuzzer harnesses, built with ASan and UBSan from the parser sources
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -I. -Iagent $(WARNINGS) -Wno-unused-parameter \
	-DHW_VERSION='"fuzz"' -DHW_GIT_REV='"fuzz"'
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZERS := http tls syn flow
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZERS))
fuzz_srcs_http := agent/proto/http.c lib/sha.c lib/hex.c agent/pipeline/identity.c lib/addr.c
fuzz_srcs_tls := agent/proto/tls.c lib/sha.c lib/hex.c
fuzz_srcs_syn := agent/proto/syn.c
fuzz_srcs_flow := $(filter-out agent/main.c agent/source/loader.c agent/config.c \
	agent/source/listeners.c agent/source/cgroup.c agent/agent.c exporter/server.c \
	exporter/metrics.c,$(AGENT_SRCS))

.SECONDEXPANSION:
$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_srcs_$$*) $(HEADERS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(OUTPUT)/fuzz
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(fuzz_srcs_$*) -o $@ -lpcap -lcrypto -lbpf -ljansson \
		-lcurl -lpthread -lm

# long runs, their own target: FUZZ_SECONDS per harness, corpora grown in $(OUTPUT)
fuzz: $(FUZZ_BINS)
	$(Q)./tests/fuzz/run.sh $(OUTPUT) $(FUZZ_SECONDS) $(FUZZERS)

# the short pass `make test` runs: every seed, then a few seconds each
fuzz-smoke: $(FUZZ_BINS)
	$(Q)./tests/fuzz/run.sh $(OUTPUT) $(FUZZ_SMOKE_SECONDS) $(FUZZERS)

# benchmarks: their own target, minutes long, results in tests/bench/RESULTS.md
BENCH_BINS := $(OUTPUT)/tools/hwempty $(OUTPUT)/tools/hwpipe $(OUTPUT)/tools/hwdetect
$(OUTPUT)/tools/hwempty: tests/bench/hwempty.c $(OUTPUT)/empty.skel.h $(OUTPUT)/floor.skel.h | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(AGENT_CFLAGS) $< -o $@ -lbpf -lelf -lz

# hwdetect: the detectors' cost on the real pipeline, in event time
$(OUTPUT)/tools/hwdetect: tests/bench/hwdetect.c $(LIB_OBJS) | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(AGENT_CFLAGS) $< $(LIB_OBJS) -o $@ $(LIBS)

# hwpipe, like hwsynth, drives the agent's own pipeline
$(OUTPUT)/tools/hwpipe: tests/bench/hwpipe.c $(LIB_OBJS) | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(AGENT_CFLAGS) $< $(LIB_OBJS) -o $@ $(LIBS)

bench: deps test-deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS)
	$(Q)python3 tests/bench/run.py $(OUTPUT) $(BENCH_ARGS)

# the farm simulator: sim-deps, eval, demo, sim-smoke (tests/sim/README.md)
include tests/sim/sim.mk
include deploy/package.mk

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./$(OUTPUT)/hydrawatch --trace - $(RUN_ARGS)

unit-test: $(UNIT_BINS)
	$(Q)for t in $(UNIT_BINS); do $$t || exit 1; done

integration-test: deps test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/integration/run.sh $(OUTPUT)

# unit, then integration; the last line adds them up
test: deps test-deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) ./tests/run-all.sh $(OUTPUT)

test-build: all $(UNIT_BINS) $(FUZZ_BINS) $(BENCH_BINS) sim-deps

install: $(OUTPUT)/hydrawatch
	install -D -m 0755 $(OUTPUT)/hydrawatch $(DESTDIR)$(prefix)/sbin/hydrawatch
	install -D -m 0644 deploy/hydrawatch.8 $(DESTDIR)$(prefix)/share/man/man8/hydrawatch.8
	install -d $(DESTDIR)$(prefix)/lib/systemd/system
	sed 's|/usr/local/sbin|$(prefix)/sbin|' deploy/hydrawatch.service \
		> $(DESTDIR)$(prefix)/lib/systemd/system/hydrawatch.service

FORMAT_SRCS := $(wildcard bpf/*.c bpf/*.h lib/*.c lib/*.h agent/*.c agent/*.h agent/*/*.c \
	agent/*/*.h exporter/*.c exporter/*.h tests/unit/*.c tests/tools/*.c tests/fuzz/*.c \
	tests/bench/*.c tests/bench/bpf/*.c)
format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	rm -rf $(OUTPUT)
