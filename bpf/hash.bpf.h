/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The hash of the per-CPU caches and bitmaps (sg_over, sg_ack,
 * sg_proven_bits): Fibonacci hashing of a 32-bit fold.  Each table indexes
 * with the top bits of the product, the bits that mix every input bit.
 *
 *   hash_fold(w0, w1)	two 64-bit words (an address as it lies in memory)
 *			folded to 32 bits
 *   hash_fib(x, bits)	@x hashed to @bits bits
 */
#ifndef SYNGUARD_HASH_BPF_H
#define SYNGUARD_HASH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static __always_inline __u32 hash_fold(__u64 w0, __u64 w1)
{
	return (__u32)w0 ^ (__u32)(w0 >> 32) ^ (__u32)w1 ^ (__u32)(w1 >> 32);
}

/* 2^32 / phi: consecutive inputs land far apart (Knuth, TAOCP 6.4). */
static __always_inline __u32 hash_fib(__u32 x, __u32 bits)
{
	return (x * 0x9E3779B1U) >> (32 - bits);
}

#endif /* SYNGUARD_HASH_BPF_H */
