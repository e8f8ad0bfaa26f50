/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-source SYN limit: a GCRA bucket (gcra.bpf.h) per source prefix,
 * in sg_src.  The table is an LRU hash: a flood from many sources evicts
 * idle ones, and an evicted source simply starts with a full bucket
 * again.  Two CPUs may update one source at once; the race costs at most
 * a SYN or two of accuracy, which a lock on the hot path would not be
 * worth.  In front of it, sg_over remembers per CPU which sources sg_src
 * put over, so that a flood SYN needs neither the clock nor the lookup.
 *
 *   rl_over_slot(fold)		the sg_over slot of a source (hash_fold of it)
 *   rl_over_check(o, cfg, w0, w1, is6, j)
 *				is the source known over?  its drop reason
 *   rl_syn(pkt, cfg, &now, o, stateless)
 *				a SYN through the source's bucket
 *   rl_refund(cfg, key)	a handshake completed: its SYN back
 */
#ifndef SYNGUARD_RATELIMIT_BPF_H
#define SYNGUARD_RATELIMIT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"
#include "parse.bpf.h"
#include "events.bpf.h"
#include "hash.bpf.h"
#include "gcra.bpf.h"
#include "jiffy.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_DEFAULT_SRC_MAX);
	__type(key, struct sg_src_key);
	__type(value, struct sg_src_state);
} sg_src SEC(".maps");


/*
 * A new source's entry: a global, not a stack copy (the 512 bytes of stack
 * the call chain under synguard_xdp shares).
 */
const struct sg_src_state sg_src_fresh = {};

static __always_inline void rl_mask(__u8 *addr, __u32 len, __u32 prefix)
{
	__u32 i;

	for (i = 0; i < 16; i++) {
		if (i >= len || i * 8 >= prefix) {
			if (i < len)
				addr[i] = 0;
		} else if (i * 8 + 8 > prefix) {
			addr[i] &= (__u8)(0xFF << (8 - (prefix - i * 8)));
		}
	}
}

static __always_inline void rl_key(const struct sg_pkt *pkt,
				   const struct sg_config *cfg,
				   struct sg_src_key *key)
{
	if (pkt->l3_proto == ETH_P_IP) {
		__builtin_memcpy(key->addr, &pkt->addr.v4[0], 4);
		key->family = 4;
		key->prefix = cfg->prefix4 > 32 ? 32 : cfg->prefix4;
		rl_mask(key->addr, 4, key->prefix);
	} else {
		__builtin_memcpy(key->addr, &pkt->addr.v6[0], 16);
		key->family = 6;
		key->prefix = cfg->prefix6 > 128 ? 128 : cfg->prefix6;
		rl_mask(key->addr, 16, key->prefix);
	}
}

/*
 * sg_over: sources known to be over their limit, per CPU, so that a flood
 * SYN from one is dropped with neither a clock read nor the sg_src lookup,
 * only an inlined per-CPU array lookup and bpf_jiffies64(), which the
 * verifier inlines.  GCRA in sg_src still
 * decides who goes over; a slot only remembers, until a jiffy horizon,
 * that sg_src said so.  The horizon is rounded down and one 10 ms step
 * short (rl_over_fill), so the slot never drops a SYN that sg_src would
 * admit unless the kernel's jiffies update runs more than 10 ms late.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_OVER_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_over);
} sg_over SEC(".maps");

/* The slot of the source whose words fold to @fold (NULL never happens). */
static __always_inline struct sg_over *rl_over_slot(__u32 fold)
{
	__u32 idx = hash_fib(fold, SG_OVER_BITS) & (SG_OVER_SLOTS - 1);

	return bpf_map_lookup_elem(&sg_over, &idx);
}

/* Is @o the slot of exactly this source? */
static __always_inline bool rl_over_holds(const struct sg_over *o, __u64 w0, __u64 w1, bool is6)
{
	const __u64 *a = (const __u64 *)o->src;

	if (!is6)
		return o->family == 4 && *(const __u32 *)o->src == (__u32)w0;
	return o->family == 6 && a[0] == w0 && a[1] == w1;
}

static __always_inline bool rl_over_is(const struct sg_over *o, const struct sg_pkt *pkt)
{
	__u64 w0, w1;

	parse_src_words(pkt, &w0, &w1);
	return rl_over_holds(o, w0, w1, pkt->l3_proto != ETH_P_IP);
}

/* Does @o say this source is over, under @cfg, at jiffies64 @j? */
static __always_inline bool rl_over_live(const struct sg_over *o, const struct sg_config *cfg,
					 __u64 w0, __u64 w1, bool is6, __u64 j)
{
	return o && o->generation == cfg->generation && rl_over_holds(o, w0, w1, is6) &&
	       j < o->until;
}

/*
 * Is the source of words @w0, @w1 known over its limit at jiffies64 @j?
 * The drop reason sg_src would give, counted as pending in its slot @o;
 * else -1 (ask sg_src).  Both lanes ask this, the express lane from the
 * headers.
 */
static __always_inline int rl_over_check(struct sg_over *o, const struct sg_config *cfg,
					 __u64 w0, __u64 w1, bool is6, __u64 j)
{
	if (!rl_over_live(o, cfg, w0, w1, is6, j))
		return -1;
	o->pending++;
	return o->reason;
}

/* The slot's pending drops into their sg_src entry (lost if it was evicted). */
static __always_inline void rl_over_fold(struct sg_over *o)
{
	struct sg_src_state *st;

	if (!o->pending)
		return;
	st = bpf_map_lookup_elem(&sg_src, &o->key);
	if (st && o->generation) {
		st->syns += o->pending;
		st->dropped += o->pending;
	}
	o->pending = 0;
}

/*
 * sg_src dropped a SYN from @pkt's source at @now (ktime), and will drop
 * every SYN from it before @admit_ns with reason @r: remember that in the
 * slot, until a jiffy that surely begins before @admit_ns.  With L the
 * bound on a jiffy's length (jiffy_ns(): learned, else 10 ms) and
 * k = (admit_ns - now) / L, jiffy j + k - 1 begins at most (k - 1)
 * jiffies after now: a slot live while jiffies < j + k - 1 ends at least
 * one L before @admit_ns.
 */
static __always_inline void rl_over_fill(struct sg_over *o, const struct sg_pkt *pkt,
					 const struct sg_config *cfg,
					 const struct sg_src_key *key, __u64 now,
					 __u64 admit_ns, int r)
{
	__u64 k, j;

	if (!o || admit_ns <= now)
		return;
	j = bpf_jiffies64();
	jiffy_learn(now, j);
	k = (admit_ns - now) / jiffy_ns();
	if (k < 2)
		return;
	rl_over_fold(o);
	__builtin_memcpy(o->src, &pkt->addr.v6[0], 16);
	o->key = *key;
	o->generation = cfg->generation;
	o->family = pkt->l3_proto == ETH_P_IP ? 4 : 6;
	o->reason = r;
	o->until = j + k - 1;
}

/*
 * A SYN from @pkt's source: -1 if it conforms, else the drop reason.  @o
 * is the source's sg_over slot, which rl_over_check found not live for
 * it: a drop fills it.  *@now is the clock, read here if still 0 and
 * needed.
 *
 * @stateless: the SYN will be answered with a SYN cookie, which leaves no
 * state behind.  Such SYNs are metered by sampling: one in SG_SRC_SAMPLE,
 * at random, goes through the source's bucket for SG_SRC_SAMPLE SYNs, the
 * rest pass with no lookup.  A spoofed many-source flood touches sg_src
 * for one SYN in SG_SRC_SAMPLE instead of missing, inserting and evicting
 * for each, which cost more than the cookie (BENCHMARKS.md part 6); a
 * source that keeps sending is still metered at its rate, on average,
 * and once over, sg_over drops its every SYN.  Its syns count is then an
 * estimate (a multiple of SG_SRC_SAMPLE); its drops are exact.
 */
#define SG_SRC_SAMPLE 16

static __always_inline int rl_syn(const struct sg_pkt *pkt,
				  const struct sg_config *cfg, __u64 *now,
				  struct sg_over *o, bool stateless)
{
	struct sg_src_key key = {};
	struct sg_src_state *st;
	struct gcra g;
	__u32 w = 1;

	if (stateless) {
		if (bpf_get_prandom_u32() % SG_SRC_SAMPLE)
			return -1;
		w = SG_SRC_SAMPLE;
	}
	rl_key(pkt, cfg, &key);
	/* This source's own drops from the slot first, so sg_src is whole. */
	if (o && o->pending && rl_over_is(o, pkt))
		rl_over_fold(o);
	st = bpf_map_lookup_elem(&sg_src, &key);
	if (!st) {
		bpf_map_update_elem(&sg_src, &key, &sg_src_fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&sg_src, &key);
		if (!st)
			return -1;	/* table full of new sources: fail open */
	}
	if (!*now)
		*now = sg_now();
	st->syns += w;
	if (st->blocked_until) {
		if (*now < st->blocked_until) {
			st->dropped++;
			rl_over_fill(o, pkt, cfg, &key, *now, st->blocked_until,
				     SG_R_SRC_BLOCKED);
			return SG_R_SRC_BLOCKED;
		}
		st->blocked_until = 0;
	}
	g = gcra_of(cfg->src_rate, cfg->src_burst);
	events_src_calm(cfg, &key, st, *now);
	gcra_catch_up(&st->tat, *now);
	if (gcra_over(&g, st->tat, *now)) {
		st->dropped++;
		events_src_over(cfg, &key, st, *now);
		if (cfg->block_ns) {
			st->blocked_until = *now + cfg->block_ns;
			rl_over_fill(o, pkt, cfg, &key, *now, st->blocked_until,
				     SG_R_SRC_BLOCKED);
		} else {
			rl_over_fill(o, pkt, cfg, &key, *now, st->tat - g.tol, SG_R_SRC_RATE);
		}
		return SG_R_SRC_RATE;
	}
	st->tat += g.t * w;
	return -1;
}

/*
 * The remote end @key (its exact address, as sg_proven keys it: masked
 * here to the policy's prefix) completed a handshake: its SYN back to its
 * bucket.  What src_rate limits is a source's unanswered SYNs, so a host
 * whose connections complete (a NAT gateway, a proven client) is never
 * limited however fast it opens them, and a flood from any address, a
 * proven one included, is.  A source already full stays full: rl_syn()
 * starts a bucket behind now at now.
 */
static __always_inline void rl_refund(const struct sg_config *cfg, struct sg_src_key *key)
{
	struct sg_src_state *st;
	__u64 t;

	if (key->family == 4) {
		key->prefix = cfg->prefix4 > 32 ? 32 : cfg->prefix4;
		rl_mask(key->addr, 4, key->prefix);
	} else {
		key->prefix = cfg->prefix6 > 128 ? 128 : cfg->prefix6;
		rl_mask(key->addr, 16, key->prefix);
	}
	st = bpf_map_lookup_elem(&sg_src, key);
	if (!st)
		return;
	t = gcra_of(cfg->src_rate, 0).t;
	if (st->tat > t)
		st->tat -= t;
}

#endif /* SYNGUARD_RATELIMIT_BPF_H */
