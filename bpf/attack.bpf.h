/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attack mode.  When the interface-wide SYN rate or the half-open estimate
 * crosses its threshold, SYNs from sources that completed a handshake
 * recently ("proven", remembered in sg_proven) pass, and the rest are
 * admitted only up to unproven_rate.  It is left with hysteresis: below
 * attack_leave_pct of the thresholds for attack_hold_s.
 *
 * The program only runs when packets come, so the thresholds are checked
 * when a SYN opens a new one-second window; a gap with no SYNs at all is
 * calm from the end of the last window on.
 *
 * During a flood every SYN comes here, so the common answers need neither
 * the clock nor a hash lookup: SYNs are counted per CPU; jiffy horizons
 * say when no window can end yet and when no unproven SYN can be admitted
 * yet; a bitmap of hashes (sg_proven_bits) says when a source is surely
 * not in sg_proven.
 *
 * It learns from flow tracking through the entry program: the half-open
 * estimate (attack_half_open_note) and the proven sources (attack_prove).
 *
 *   attack_syn(cfg, j, &now)		count a SYN; is attack mode on?
 *   attack_peek(cfg, j, &a, &syns)	its state, when no window can end yet
 *   attack_maybe_proven(fold)		false: the source is surely not proven
 *   attack_proven(pkt, cfg, &now)	is it?
 *   attack_refusing(cfg, refuse, j)	is every unproven SYN refused now?
 *   attack_admit(cfg, j, &now)		may this unproven SYN in?
 *   attack_half_open_note(t_ns, created), attack_prove(k, now)
 */
#ifndef SYNGUARD_ATTACK_BPF_H
#define SYNGUARD_ATTACK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"
#include "detect.h"
#include "parse.bpf.h"
#include "stats.bpf.h"
#include "events.bpf.h"
#include "hash.bpf.h"
#include "gcra.bpf.h"
#include "jiffy.bpf.h"

#define SG_PROVEN_MAX 65536

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_attack);
} sg_attack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_HO_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_ho_slot);
} sg_ho SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_PROVEN_MAX);
	__type(key, struct sg_src_key);
	__type(value, __u64);		/* ktime of its last completed handshake */
} sg_proven SEC(".maps");

/*
 * The SYNs attack mode counted on each CPU, ever (SG_ATTACK_SYNS), and the
 * handshakes remote ends completed (SG_ATTACK_DONE): only that CPU writes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} sg_attack_syns SEC(".maps");

/* Maybe in sg_proven: a bit per hash of the source (include/synguard.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_PROVEN_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} sg_proven_bits SEC(".maps");

/* A flow became SYN_RCVD (@created) or left it, in the second of @t_ns. */
static __always_inline void attack_half_open_note(__u64 t_ns, bool created)
{
	__u64 sec = t_ns / NSEC_PER_SEC;
	__u32 idx = sec % SG_HO_SLOTS;
	struct sg_ho_slot *s = bpf_map_lookup_elem(&sg_ho, &idx);

	if (!s)
		return;
	if (s->second != sec) {
		if (!created)
			return;		/* that second is out of every window */
		/* A new second: two CPUs may both reset it; that loses one count. */
		s->second = sec;
		s->created = 0;
		s->resolved = 0;
	}
	__sync_fetch_and_add(created ? &s->created : &s->resolved, 1);
}

static __always_inline __u64 attack_half_open_estimate(__u64 now, __u32 window_s)
{
	__u64 sec = now / NSEC_PER_SEC, sum = 0;
	__u32 i;

	if (window_s > SG_HO_SLOTS)
		window_s = SG_HO_SLOTS;
	for (i = 0; i < SG_HO_SLOTS; i++) {
		__u32 idx = i;
		struct sg_ho_slot *s = bpf_map_lookup_elem(&sg_ho, &idx);

		if (s && sec - s->second < window_s && s->created > s->resolved)
			sum += s->created - s->resolved;
	}
	return sum;
}

static __always_inline void attack_src_key(struct sg_src_key *k, const __u8 *addr,
					   __u8 family)
{
	__builtin_memcpy(k->addr, addr, 16);
	if (family == 4)
		__builtin_memset(k->addr + 4, 0, 12);
	k->family = family;
	k->prefix = family == 4 ? 32 : 128;
}

/* An address folded to 32 bits (IPv4: itself), hashed to a bit of sg_proven_bits. */
static __always_inline __u32 attack_bit(__u32 fold)
{
	return hash_fib(fold, 20);
}

static __always_inline __u64 *attack_bits_word(__u32 bit)
{
	__u32 word = (bit >> 6) & (SG_PROVEN_WORDS - 1);

	return bpf_map_lookup_elem(&sg_proven_bits, &word);
}

/*
 * The remote end @k (its exact address) completed a handshake it opened,
 * at @now: proven, and counted as answered (the detector's
 * SG_ATTACK_DONE).
 */
static __always_inline void attack_prove(const struct sg_src_key *k, __u64 now)
{
	__u32 bit, idx = SG_ATTACK_DONE;
	__u64 *bits, w0, w1;

	bits = bpf_map_lookup_elem(&sg_attack_syns, &idx);
	if (bits)
		(*bits)++;
	__builtin_memcpy(&w0, k->addr, 8);
	__builtin_memcpy(&w1, k->addr + 8, 8);
	bit = attack_bit(hash_fold(w0, w1));
	/* The bit first: a reader that finds the entry finds the bit. */
	bits = attack_bits_word(bit);
	if (bits && !(*bits & (1ULL << (bit & 63))))
		__sync_fetch_and_or(bits, 1ULL << (bit & 63));
	bpf_map_update_elem(&sg_proven, k, &now, BPF_ANY);
}

/*
 * May the source whose address words fold to @fold be proven?  False:
 * surely not, with neither the sg_proven lookup nor the clock.  (The
 * array lookup does not fail: its index is masked to the array.)
 */
static __always_inline bool attack_maybe_proven(__u32 fold)
{
	__u32 bit = attack_bit(fold);
	__u64 *bits = attack_bits_word(bit);

	return bits && (*bits & (1ULL << (bit & 63)));
}

/*
 * Is @pkt's source proven?  A clear bit in sg_proven_bits says no with
 * neither the sg_proven lookup nor the clock; *@now is the clock, 0 until
 * read (here only for a source found in sg_proven).
 */
static __always_inline bool attack_proven(const struct sg_pkt *pkt,
					  const struct sg_config *cfg, __u64 *now)
{
	struct sg_src_key k = {};
	__u64 *t, w0, w1;

	parse_src_words(pkt, &w0, &w1);
	if (!attack_maybe_proven(hash_fold(w0, w1)))
		return false;
	if (pkt->l3_proto == ETH_P_IP)
		attack_src_key(&k, (const __u8 *)&pkt->addr.v4[0], 4);
	else
		attack_src_key(&k, (const __u8 *)&pkt->addr.v6[0], 6);
	t = bpf_map_lookup_elem(&sg_proven, &k);
	if (!t)
		return false;
	if (!*now)
		*now = sg_now();
	return *now - *t < cfg->proven_ns;
}

static __always_inline void attack_log(struct sg_attack *a, __u64 now, bool entering)
{
	__u32 i = a->log_next % SG_ATTACK_LOG;

	a->log_ns[i] = (now & ~1ULL) | entering;
	a->log_next = i + 1;
	stats_inc(entering ? SG_ATTACK_ENTERED : SG_ATTACK_LEFT);
}

/*
 * At a new window: enter, stay or leave.  A set attack_syn_rate judges
 * every SYN past the per-source limit; auto judges the unanswered ones
 * against the learned threshold (include/detect.h), learning only while
 * calm.
 */
static __always_inline void attack_evaluate(struct sg_attack *a,
					    const struct sg_config *cfg,
					    __u64 now, __u64 calm_from)
{
	__u64 pct = cfg->attack_leave_pct, rate = a->last_rate, thr = cfg->attack_syn_rate;
	bool autos = cfg->flags & SG_CFG_AUTO_SYN_RATE;
	__u32 why = 0;
	bool calm;

	if (autos) {
		rate = a->unanswered;
		thr = detect_threshold(a->baseline_fp, cfg->attack_syn_rate);
	}
	a->syn_threshold = thr;
	if (thr && rate >= thr)
		why |= SG_WHY_SYN_RATE;
	if (cfg->attack_half_open && a->half_open_est >= cfg->attack_half_open)
		why |= SG_WHY_HALF_OPEN;
	if (why)
		a->why = why;
	calm = (!thr || rate * 100 < thr * pct) &&
	       (!cfg->attack_half_open ||
		a->half_open_est * 100 < cfg->attack_half_open * pct);
	if (!a->active) {
		if (why) {
			a->active = 1;
			a->calm_since_ns = 0;
			attack_log(a, now, true);
			events_attack(a, cfg, rate, 1);
		} else if (autos) {
			a->baseline_fp = detect_learn(a->baseline_fp, rate,
						      cfg->attack_syn_rate);
			a->learned++;
		}
		return;
	}
	if (!calm) {
		a->calm_since_ns = 0;
		return;
	}
	if (!a->calm_since_ns)
		a->calm_since_ns = calm_from;
	if (now - a->calm_since_ns >= cfg->attack_hold_s * NSEC_PER_SEC) {
		a->active = 0;
		a->calm_since_ns = 0;
		attack_log(a, now, false);
		events_attack(a, cfg, rate, 0);
	}
}

struct attack_sum {
	__u64 sum;
	__u64 done;
	__u64 limited;
};

/* bpf_loop: adds CPU @cpu's counts of sg_attack_syns; stops past the last CPU. */
static long attack_sum_cpu(__u64 cpu, void *ctx)
{
	struct attack_sum *s = ctx;
	struct sg_reason_vals *r;
	__u32 idx = SG_ATTACK_SYNS;
	__u64 *n = bpf_map_lookup_percpu_elem(&sg_attack_syns, &idx, (__u32)cpu);

	if (!n)
		return 1;
	s->sum += *n;
	idx = SG_ATTACK_DONE;
	n = bpf_map_lookup_percpu_elem(&sg_attack_syns, &idx, (__u32)cpu);
	if (n)
		s->done += *n;
	idx = 0;
	r = bpf_map_lookup_percpu_elem(&sg_drops, &idx, (__u32)cpu);
	if (r)
		s->limited += r->n[SG_R_SRC_RATE] + r->n[SG_R_SRC_BLOCKED];
	return 0;
}

/*
 * A new window at @now (jiffies64 @j read before it); the last began at
 * @ws.  Only the CPU that moved window_ns from @ws to @now comes here.
 * Once a second, so a call (its frame is not synguard_xdp's: the stack
 * budget, with bpf_loop's 24 bytes when the verifier inlines it).
 */
static __attribute__((noinline)) void attack_roll(struct sg_attack *a, const struct sg_config *cfg,
					__u64 j, __u64 ws, __u64 now)
{
	/* A gap of a whole window or more had no SYNs: calm since. */
	bool gap = now - ws >= 2 * NSEC_PER_SEC;
	__u64 calm_from = gap ? ws + NSEC_PER_SEC : now;
	struct attack_sum s = {};

	/* Every CPU's count; this SYN is counted after, in the new window. */
	bpf_loop(SG_MAX_CPUS, attack_sum_cpu, &s, 0);
	/*
	 * The SYNs past the per-source limit: a flood that limit stops (one
	 * address) is no reason for attack mode.
	 */
	a->last_rate = gap || s.sum < a->syns_base ? 0 : s.sum - a->syns_base;
	a->last_rate = detect_unanswered(a->last_rate, gap || s.limited < a->limited_base ?
					 0 : s.limited - a->limited_base);
	a->unanswered = detect_unanswered(a->last_rate, gap || s.done < a->done_base ?
					  0 : s.done - a->done_base);
	a->syns_base = s.sum;
	a->done_base = s.done;
	a->limited_base = s.limited;
	jiffy_learn(now, j);
	a->half_open_est = cfg->attack_half_open ?
		attack_half_open_estimate(now, cfg->half_open_s) : 0;
	attack_evaluate(a, cfg, now, calm_from);
	a->roll_jiffy = jiffy_horizon(j, NSEC_PER_SEC);
}

/*
 * Attack mode's state for a SYN at jiffies64 @j, if no window can end
 * yet (no clock needed): *@a, and *@syns, this CPU's count to add the SYN
 * to; both NULL when attack detection is off.  -1: a window may end, the
 * clock is due (attack_syn()).
 */
static __always_inline int attack_peek(const struct sg_config *cfg, __u64 j,
				       struct sg_attack **a, __u64 **syns)
{
	__u32 zero = 0;

	*a = NULL;
	*syns = NULL;
	if (!cfg->attack_syn_rate && !cfg->attack_half_open)
		return 0;
	*a = bpf_map_lookup_elem(&sg_attack, &zero);
	*syns = bpf_map_lookup_elem(&sg_attack_syns, &zero);
	if (!*a || !*syns || j >= (*a)->roll_jiffy)
		return -1;
	return 0;
}

/*
 * Counts a SYN into the interface-wide rate; is attack mode on?  @j is
 * jiffies64, read before any clock read of this frame; *@now is the
 * clock, 0 until read: read here only once jiffies reach roll_jiffy, when
 * the window may have ended.  (The per-source limit's drops are taken off
 * at the window's end, attack_roll: counting only what passed it here
 * would keep a pointer live across that check, and the verifier would
 * walk every path after it twice.)
 */
static __always_inline bool attack_syn(const struct sg_config *cfg, __u64 j, __u64 *now)
{
	__u32 zero = 0;
	struct sg_attack *a = bpf_map_lookup_elem(&sg_attack, &zero);
	__u64 *syns = bpf_map_lookup_elem(&sg_attack_syns, &zero);
	__u64 ws, t, h;

	if (!a || !syns)
		return false;
	if (j >= a->roll_jiffy) {
		t = sg_now();
		*now = t;
		jiffy_learn(t, j);
		ws = a->window_ns;
		if ((__s64)(t - ws) < 0) {
			/* Another CPU began a window after this clock read. */
		} else if (t - ws >= NSEC_PER_SEC) {
			/* One CPU rolls the window; the others count into the new one. */
			if (__sync_val_compare_and_swap(&a->window_ns, ws, t) == ws)
				attack_roll(a, cfg, j, ws, t);
		} else {
			h = jiffy_horizon(j, ws + NSEC_PER_SEC - t);
			if (h > a->roll_jiffy)
				a->roll_jiffy = h;
		}
	}
	(*syns)++;
	return a->active;
}

/*
 * Does attack mode refuse every unproven SYN at jiffies64 @j, with no
 * clock read: unproven_rate 0, or a refusal horizon of this policy
 * (@refuse, struct sg_attack's; attack_admit sets it) not yet passed?
 * Both lanes ask it.
 */
static __always_inline bool attack_refusing(const struct sg_config *cfg, __u64 refuse, __u64 j)
{
	if (!cfg->unproven_rate)
		return true;
	return SG_REFUSE_GEN(refuse) == (cfg->generation & 0xFFFFFF) &&
	       j < SG_REFUSE_UNTIL(refuse);
}

/*
 * Attack mode: may this unproven SYN in?  A global GCRA bucket.  Every CPU
 * hits the one entry during a flood, so its timestamp moves by
 * compare-and-swap: a lost race retries instead of admitting twice.
 *
 * A refusal at now means none before tat - tol (drops leave tat alone,
 * admissions only move it later): a jiffy horizon (jiffy_horizon) ahead
 * of that, under the policy generation, refuses the next ones with no
 * clock read.  @j and *@now as for attack_syn().
 */
static __always_inline bool attack_admit(const struct sg_config *cfg, __u64 j, __u64 *now)
{
	__u32 zero = 0, i;
	struct sg_attack *a = bpf_map_lookup_elem(&sg_attack, &zero);
	__u64 old, tat, r, h;
	struct gcra g;

	if (!a)
		return false;
	r = a->refuse;
	if (attack_refusing(cfg, r, j))
		return false;
	if (!*now)
		*now = sg_now();
	g = gcra_of(cfg->unproven_rate, cfg->unproven_burst);
	for (i = 0; i < 4; i++) {
		old = a->admit_tat;
		tat = old;
		gcra_catch_up(&tat, *now);
		if (gcra_over(&g, tat, *now)) {
			h = jiffy_horizon(j, tat - g.tol - *now);
			if (h > j && (h > SG_REFUSE_UNTIL(r) ||
				      SG_REFUSE_GEN(r) != (cfg->generation & 0xFFFFFF)))
				a->refuse = SG_REFUSE(h, cfg->generation);
			return false;
		}
		if (__sync_val_compare_and_swap(&a->admit_tat, old, tat + g.t) == old)
			return true;
	}
	return false;	/* lost to other CPUs four times: the bucket is busy */
}

#endif /* SYNGUARD_ATTACK_BPF_H */
