# mldagent — top-level build. `make check` runs every test; `make bench` the
# benchmarks; `make deps` installs missing Debian packages (as root).
CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
INC     := -Iinclude -Iuser
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
B       := build
.DEFAULT_GOAL := all
PY      := /usr/bin/python3

# The sans-IO protocol engine (no sockets, clocks or randomness).
ENGINE_SRC := user/mld_engine.c user/mld_table.c user/mld_packet.c user/mld_srcset.c user/mld_info.c
ENGINE_HDR := $(wildcard user/*.h include/*.h)
ENGINE_OBJ := $(ENGINE_SRC:user/%.c=$(B)/%.o)
ENGINE_SAN_OBJ := $(ENGINE_SRC:user/%.c=$(B)/san/%.o)

# Daemon-side modules that are unit-tested with the engine (config parser).
CONFIG_SRC := $(wildcard user/config.c)
CONFIG_SAN_OBJ := $(CONFIG_SRC:user/%.c=$(B)/san/%.o)

TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(B)/san/t_%.o)

# Debian packages the build, the tests and the demo need.
DEB_PKGS := gcc make libc6-dev clang clang-format llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	libxdp-dev xdp-tools libyaml-dev iproute2 tshark python3 python3-yaml python3-scapy netsniff-ng

# The daemon and its control client.
DAEMON_SRC := user/mldagent.c user/agent_bpf.c user/agent_link.c user/agent_ctl.c user/config.c
DAEMON_OBJ := $(DAEMON_SRC:user/%.c=$(B)/d_%.o)

# The XDP program, its skeleton, BPF_PROG_TEST_RUN tests and benchmark.
include bpf/bpf.mk
# End-to-end tests in network namespaces (E2E_CMD, target e2e).
-include tests/e2e/e2e.mk
# Conformance against real MLD peers (target conformance; run by check).
-include tests/conformance/conformance.mk

.PHONY: all check bench clean deps demo fuzz format
all: $(B)/libmldengine.a $(B)/mldagent $(B)/mldctl

$(B)/d_%.o: user/%.c $(ENGINE_HDR) $(B)/mldagent.skel.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(INC) -I$(B) -c $< -o $@

$(B)/mldagent: $(DAEMON_OBJ) $(B)/libmldengine.a
	$(CC) $(CFLAGS) -o $@ $^ -lbpf -lelf -lz -lyaml

$(B)/mldctl: user/mldctl.c | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ $<

$(B)/%.o: user/%.c $(ENGINE_HDR) | $(B)
	$(CC) $(WARN) $(CFLAGS) $(INC) -c $< -o $@

$(B)/san/%.o: user/%.c $(ENGINE_HDR) | $(B)/san
	$(CC) $(WARN) -O1 -g $(SAN) $(INC) -c $< -o $@

$(B)/san/t_%.o: tests/%.c tests/harness.h $(ENGINE_HDR) | $(B)/san
	$(CC) $(WARN) -O1 -g $(SAN) $(INC) -Itests -c $< -o $@

$(B)/libmldengine.a: $(ENGINE_OBJ)
	ar rcs $@ $^

$(B)/test-engine: $(TEST_OBJ) $(ENGINE_SAN_OBJ) $(CONFIG_SAN_OBJ)
	$(CC) $(SAN) -o $@ $^ -lyaml

$(B)/bench-engine: tests/bench/bench_engine.c $(B)/libmldengine.a
	$(CC) $(WARN) -O2 -g $(INC) $< $(B)/libmldengine.a -o $@

$(B) $(B)/san:
	mkdir -p $@

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: missing Debian packages:$$missing (run 'make deps' as root)"; exit 1; fi; \
	echo "deps: installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null

check: deps $(B)/test-engine $(BPF_TEST_BIN) $(B)/mldagent $(B)/mldctl
	@$(PY) tests/run.py

bench: $(B)/bench-engine $(BPF_BENCH_BIN)
	$(B)/bench-engine
	$(BPF_BENCH_BIN)

demo: deps $(B)/mldagent $(B)/mldctl
	@bash tests/lab/demo.sh

# libFuzzer on the engine's input path (tests/fuzz/README.md); FUZZ_SECONDS=60.
FUZZ_SECONDS ?= 60
$(B)/fuzz-input: tests/fuzz/fuzz_input.c $(ENGINE_SRC) $(ENGINE_HDR) | $(B)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-std=c11 -D_GNU_SOURCE $(INC) tests/fuzz/fuzz_input.c $(ENGINE_SRC) -o $@
fuzz: $(B)/fuzz-input
	$(PY) tests/fuzz/gen_seeds.py $(B)/fuzz-seeds
	mkdir -p $(B)/fuzz-corpus
	cd $(B) && ./fuzz-input -max_total_time=$(FUZZ_SECONDS) -dict=../tests/fuzz/mld.dict \
		-max_len=4096 -print_final_stats=1 fuzz-corpus fuzz-seeds

# Style: .clang-format; `make check` fails on any drift.
format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)
