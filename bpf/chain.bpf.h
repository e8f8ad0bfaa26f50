/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The chain slot: the XDP program that runs after synguard on the frames
 * it passes (`synguard attach --then`, `synguard chain`).  One entry of a
 * program array, pinned with the attachment: the kernel empties a program
 * array when its last user reference (fd or pin) goes, though the program
 * still uses it.  Filled and emptied by userspace; the kernel swaps the
 * pointer in one store, so a frame runs the old program or the new one.
 *
 * Only from the entry program, only on XDP_PASS: XDP_DROP and XDP_TX end
 * the chain.  Never from a subprogram: a tail call there needs its
 * callers' frames under 256 bytes, and the cookie path's are not.
 *
 *   chain_next(ctx, v)	synguard's final verdict @v, handed on if a pass
 */
#ifndef SYNGUARD_CHAIN_BPF_H
#define SYNGUARD_CHAIN_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"
#include "stats.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sg_next SEC(".maps");

/*
 * @v: synguard's verdict.  On XDP_PASS, hands the frame to the program in
 * sg_next and never returns if there is one; else counts chain_empty, so
 * that what was passed on is pass - chain_empty.
 */
static __always_inline int chain_next(struct xdp_md *ctx, int v)
{
	if (v != XDP_PASS)
		return v;
	bpf_tail_call(ctx, &sg_next, 0);
	stats_inc(SG_CHAIN_EMPTY);
	return XDP_PASS;
}

#endif /* SYNGUARD_CHAIN_BPF_H */
