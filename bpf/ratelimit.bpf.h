/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-source SYN limit: a token bucket per source prefix, kept as GCRA
 * (one timestamp per source instead of tokens plus a refill time).  A SYN
 * at time t conforms when tat - t <= (burst - 1) * T, with T = 1s / rate;
 * then tat = max(tat, t) + T.
 *
 * The table is an LRU hash: a flood from many sources evicts idle ones,
 * and an evicted source simply starts with a full bucket again.  Two CPUs
 * may update one source at once; the race costs at most a SYN or two of
 * accuracy, which a lock on the hot path would not be worth.
 */
#ifndef SYNGUARD_RATELIMIT_BPF_H
#define SYNGUARD_RATELIMIT_BPF_H

#define NSEC_PER_SEC 1000000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_DEFAULT_SRC_MAX);
	__type(key, struct sg_src_key);
	__type(value, struct sg_src_state);
} sg_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} sg_ports SEC(".maps");

/* The one clock of the guard, so tests and callers agree on it. */
static __always_inline __u64 rl_now(void)
{
	return bpf_ktime_get_ns();
}

/* Do the flood checks apply to this destination port? */
static __always_inline bool rl_port_in_scope(const struct sg_config *cfg,
					     __be16 dport)
{
	__u16 port = bpf_ntohs(dport);
	__u32 word = port >> 6;
	__u64 *bits;

	if (!(cfg->flags & SG_CFG_PORTS))
		return true;
	bits = bpf_map_lookup_elem(&sg_ports, &word);
	return bits && (*bits & (1ULL << (port & 63)));
}

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

/* A SYN from @pkt's source at @now: -1 if it conforms, else the drop reason. */
static __always_inline int rl_syn(const struct sg_pkt *pkt,
				  const struct sg_config *cfg, __u64 now)
{
	struct sg_src_key key = {};
	struct sg_src_state *st, fresh = {};
	__u64 t, tol;

	rl_key(pkt, cfg, &key);
	st = bpf_map_lookup_elem(&sg_src, &key);
	if (!st) {
		bpf_map_update_elem(&sg_src, &key, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&sg_src, &key);
		if (!st)
			return -1;	/* table full of new sources: fail open */
	}
	st->syns++;
	if (st->blocked_until) {
		if (now < st->blocked_until) {
			st->dropped++;
			return SG_R_SRC_BLOCKED;
		}
		st->blocked_until = 0;
	}
	t = NSEC_PER_SEC / cfg->src_rate;
	tol = (__u64)(cfg->src_burst ? cfg->src_burst - 1 : 0) * t;
	if (st->tat < now)
		st->tat = now;
	if (st->tat - now > tol) {
		st->dropped++;
		if (cfg->block_ns)
			st->blocked_until = now + cfg->block_ns;
		return SG_R_SRC_RATE;
	}
	st->tat += t;
	return -1;
}

#endif /* SYNGUARD_RATELIMIT_BPF_H */
