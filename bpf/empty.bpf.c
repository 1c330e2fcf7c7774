// SPDX-License-Identifier: BSD-2-Clause
/* The empty XDP program: the baseline every XDP benchmark is measured
 * against (tests/bench/bench_xdp.c). Built with the same flags and the same
 * section type (xdp.frags) as the real program, so the two see the same
 * BPF_PROG_TEST_RUN set-up cost. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int empty_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
