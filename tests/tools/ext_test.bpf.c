// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What libxdp's dispatcher is made of, in two programs, for ext-probe
 * (tests/integration/38-dispatcher.sh): a root XDP program that calls a
 * global function, as the dispatcher calls its prog0..prog9 stubs, and a
 * BPF_PROG_TYPE_EXT (freplace) program that replaces that function, as
 * each program in the dispatcher does.
 *   ext_root     returns what ext_slot returns: XDP_PASS as built;
 *   ext_drop     freplace of ext_slot: XDP_DROP.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Global and noinline: the verifier checks it apart, and EXT can replace it. */
__attribute__((noinline)) int ext_slot(struct xdp_md *ctx)
{
	/* Read the context, so the function is not taken as constant. */
	return ctx->ingress_ifindex == 0xffffffff ? XDP_ABORTED : XDP_PASS;
}

SEC("xdp")
int ext_root(struct xdp_md *ctx)
{
	return ext_slot(ctx);
}

SEC("freplace/ext_slot")
int ext_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
