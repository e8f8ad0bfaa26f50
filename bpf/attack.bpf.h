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
 */
#ifndef SYNGUARD_ATTACK_BPF_H
#define SYNGUARD_ATTACK_BPF_H

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

/* The remote end of a flow completed a handshake it opened: proven. */
static __always_inline void attack_prove(const struct sg_flow_key *fk, __u64 now)
{
	struct sg_src_key k = {};

	attack_src_key(&k, fk->remote, fk->family);
	bpf_map_update_elem(&sg_proven, &k, &now, BPF_ANY);
}

static __always_inline bool attack_proven(const struct sg_pkt *pkt,
					  const struct sg_config *cfg, __u64 now)
{
	struct sg_src_key k = {};
	__u64 *t;

	if (pkt->l3_proto == ETH_P_IP)
		attack_src_key(&k, (const __u8 *)&pkt->addr.v4[0], 4);
	else
		attack_src_key(&k, (const __u8 *)&pkt->addr.v6[0], 6);
	t = bpf_map_lookup_elem(&sg_proven, &k);
	return t && now - *t < cfg->proven_ns;
}

static __always_inline void attack_log(struct sg_attack *a, __u64 now, bool entering)
{
	__u32 i = a->log_next % SG_ATTACK_LOG;

	a->log_ns[i] = (now & ~1ULL) | entering;
	a->log_next = i + 1;
	stats_inc(entering ? SG_ATTACK_ENTERED : SG_ATTACK_LEFT);
}

/* At a new window: enter, stay or leave. */
static __always_inline void attack_evaluate(struct sg_attack *a,
					    const struct sg_config *cfg,
					    __u64 now, __u64 calm_from)
{
	__u64 pct = cfg->attack_leave_pct;
	bool over, calm;

	over = (cfg->attack_syn_rate && a->last_rate >= cfg->attack_syn_rate) ||
	       (cfg->attack_half_open && a->half_open_est >= cfg->attack_half_open);
	calm = (!cfg->attack_syn_rate ||
		a->last_rate * 100 < cfg->attack_syn_rate * pct) &&
	       (!cfg->attack_half_open ||
		a->half_open_est * 100 < cfg->attack_half_open * pct);
	if (!a->active) {
		if (over) {
			a->active = 1;
			a->calm_since_ns = 0;
			attack_log(a, now, true);
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
	}
}

/* Counts a SYN into the interface-wide rate; is attack mode on? */
static __always_inline bool attack_syn(const struct sg_config *cfg, __u64 now)
{
	__u32 zero = 0;
	struct sg_attack *a = bpf_map_lookup_elem(&sg_attack, &zero);

	if (!a)
		return false;
	if (now - a->window_ns >= NSEC_PER_SEC) {
		/* A gap of a whole window or more had no SYNs: calm since. */
		bool gap = now - a->window_ns >= 2 * NSEC_PER_SEC;
		__u64 calm_from = gap ? a->window_ns + NSEC_PER_SEC : now;

		a->last_rate = gap ? 0 : a->window_syns;
		a->window_ns = now;
		a->window_syns = 0;
		a->half_open_est = cfg->attack_half_open ?
			attack_half_open_estimate(now, cfg->half_open_s) : 0;
		attack_evaluate(a, cfg, now, calm_from);
	}
	__sync_fetch_and_add(&a->window_syns, 1);
	return a->active;
}

/*
 * Attack mode: may this unproven SYN in?  A global GCRA bucket.  Every CPU
 * hits the one entry during a flood, so its timestamp moves by
 * compare-and-swap: a lost race retries instead of admitting twice.
 */
static __always_inline bool attack_admit(const struct sg_config *cfg, __u64 now)
{
	__u32 zero = 0, i;
	struct sg_attack *a = bpf_map_lookup_elem(&sg_attack, &zero);
	__u64 t, tol, old, tat;

	if (!a || !cfg->unproven_rate)
		return false;
	t = NSEC_PER_SEC / cfg->unproven_rate;
	tol = (__u64)(cfg->unproven_burst ? cfg->unproven_burst - 1 : 0) * t;
	for (i = 0; i < 4; i++) {
		old = a->admit_tat;
		tat = old < now ? now : old;
		if (tat - now > tol)
			return false;
		if (__sync_val_compare_and_swap(&a->admit_tat, old, tat + t) == old)
			return true;
	}
	return false;	/* lost to other CPUs four times: the bucket is busy */
}

#endif /* SYNGUARD_ATTACK_BPF_H */
