# bpf/bpf.mk — the XDP program, its skeleton, its tests and benchmark.
# Included at the end of the top-level Makefile (uses B, WARN, INC).
#
#   $(B)/mldagent.bpf.o    the XDP program (clang -target bpf)
#   $(B)/mldagent.skel.h   bpftool gen skeleton ... name mldagent
#                          (struct mldagent, mldagent__open_and_load(), ...)
#   $(B)/empty.bpf.o       an XDP_PASS-only program, the benchmark baseline
#   $(BPF_TEST_BIN)        BPF_PROG_TEST_RUN tests of the program (needs root)
#   $(BPF_BENCH_BIN)       ns/packet of the program vs the empty one (needs root)

BPF_CLANG   ?= clang
BPFTOOL     ?= bpftool
BPF_CFLAGS  := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	-I/usr/include/x86_64-linux-gnu -Iinclude
BPF_HDR     := include/mldagent_abi.h include/mld_wire.h
BPF_LIBS    := -lbpf -lelf -lz

BPF_TEST_BIN  := $(B)/test-xdp
BPF_BENCH_BIN := $(B)/bench-xdp

.PHONY: bpf test-xdp bench-xdp
bpf: $(B)/mldagent.skel.h $(B)/empty.skel.h

$(B)/%.bpf.o: bpf/%.bpf.c $(BPF_HDR) | $(B)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/mldagent.skel.h: $(B)/mldagent.bpf.o
	$(BPFTOOL) gen skeleton $< name mldagent > $@.tmp && mv $@.tmp $@

$(B)/empty.skel.h: $(B)/empty.bpf.o
	$(BPFTOOL) gen skeleton $< name empty_xdp > $@.tmp && mv $@.tmp $@

$(BPF_TEST_BIN): tests/bpf/test_xdp.c tests/bpf/frames.h $(B)/mldagent.skel.h $(BPF_HDR)
	$(CC) $(WARN) -O1 -g $(SAN) $(INC) -I$(B) $< -o $@ $(BPF_LIBS)

$(BPF_BENCH_BIN): tests/bench/bench_xdp.c tests/bpf/frames.h $(B)/mldagent.skel.h \
		$(B)/empty.skel.h $(BPF_HDR)
	$(CC) $(WARN) -O2 -g $(INC) -I$(B) $< -o $@ $(BPF_LIBS)

test-xdp: $(BPF_TEST_BIN)
	$(BPF_TEST_BIN)

bench-xdp: $(BPF_BENCH_BIN)
	$(BPF_BENCH_BIN)
