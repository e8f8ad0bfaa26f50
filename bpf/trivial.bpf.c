// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The baselines the benchmarks measure synguard against, in the same run:
 * the cheapest XDP programs there are.  Absolute BPF_PROG_TEST_RUN times
 * drift on shared machines; a ratio to these holds.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int trivial_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int trivial_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
