/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Events: the rare transitions an operator wants told, as records of the
 * sg_events ring buffer (struct sg_event, include/synguard.h), which
 * `synguard events` reads from its pin.  Never one per packet: attack
 * mode entered and left; a source going over its limit (once per episode,
 * or per block) and back (at its first SYN after a second with its bucket
 * full: a source that went quiet is told released when it comes back); deny-list hits summarised per source and
 * interval; flow insertions failing, per interval; a flow table's LRU
 * evicting (at its first eviction, then per interval) and draining;
 * invalid cookie ACKs above a rate.
 *
 * The callers are hooks of a line or two where the transition happens;
 * what they call here is either an inlined check of per-CPU state (the
 * deny and cookie paths run per packet in a flood) or a global function
 * the verifier checks once, called only on the transition.
 *
 * A flood of a million sources makes a million transitions, so the
 * per-source events pass a token bucket per CPU (SG_EV_RATE, SG_EV_BURST:
 * no cache line shared by the CPUs); what it refuses is counted in
 * events_suppressed.  The others are bounded by what they are.  A ring
 * buffer nobody drains fills up: then events are counted in events_lost.
 */
#ifndef SYNGUARD_EVENTS_BPF_H
#define SYNGUARD_EVENTS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "synguard.h"
#include "parse.bpf.h"
#include "stats.bpf.h"
#include "jiffy.bpf.h"
#include "hash.bpf.h"
#include "flow_table.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SG_EV_RING_BYTES);
} sg_events SEC(".maps");

/* Per CPU: the token bucket and the tallies (struct sg_ev_cpu). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_ev_cpu);
} sg_ev_cpu SEC(".maps");

/* Denied sources' intervals (struct sg_ev_deny). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_EV_DENY_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_ev_deny);
} sg_ev_deny SEC(".maps");

/* The flow tables' eviction episodes (struct sg_ev_table). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_EV_TABLES);
	__type(key, __u32);
	__type(value, struct sg_ev_table);
} sg_ev_table SEC(".maps");

static __always_inline struct sg_ev_cpu *events_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sg_ev_cpu, &zero);
}

/* May one more per-source event go out on this CPU?  Counts a refusal. */
static __always_inline bool events_admit(void)
{
	struct sg_ev_cpu *c = events_cpu();
	__u64 now, t = NSEC_PER_SEC / SG_EV_RATE, tol = (SG_EV_BURST - 1) * t;

	if (!c)
		return false;
	now = bpf_ktime_get_coarse_ns();
	if (c->tat < now)
		c->tat = now;
	if (c->tat - now > tol) {
		stats_inc(SG_EVENTS_SUPPRESSED);
		return false;
	}
	c->tat += t;
	return true;
}

/* A zeroed record of @type, stamped; NULL (counted) when the buffer is full. */
static __always_inline struct sg_event *events_reserve(__u32 type)
{
	struct sg_event *e = bpf_ringbuf_reserve(&sg_events, sizeof(*e), 0);

	if (!e) {
		stats_inc(SG_EVENTS_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	return e;
}

static __always_inline void events_submit(struct sg_event *e)
{
	stats_inc(SG_EVENTS);
	bpf_ringbuf_submit(e, 0);
}

/* Attack mode entered (@entering) or left; @rate is the SYN rate judged. */
__attribute__((noinline)) int events_attack(const struct sg_attack *a,
					    const struct sg_config *cfg,
					    __u64 rate, __u32 entering)
{
	struct sg_event *e;

	if (!a || !cfg)
		return 0;
	e = events_reserve(entering ? SG_EV_ATTACK_ENTER : SG_EV_ATTACK_LEAVE);
	if (!e)
		return 0;
	e->v[0] = rate;
	e->v[1] = a->syn_threshold;
	e->v[2] = a->half_open_est;
	e->v[3] = cfg->attack_half_open;
	e->aux = a->why;
	e->aux2 = cfg->attack_leave_pct;
	events_submit(e);
	return 0;
}

/* A source's transition @type at @now (ktime), through the token bucket. */
__attribute__((noinline)) int events_src(__u32 type, const struct sg_src_key *key,
					 const struct sg_src_state *st,
					 const struct sg_config *cfg, __u64 now)
{
	struct sg_event *e;

	if (!key || !st || !cfg || !events_admit())
		return 0;
	e = events_reserve(type);
	if (!e)
		return 0;
	__builtin_memcpy(e->addr, key->addr, sizeof(e->addr));
	e->family = key->family;
	e->prefix = key->prefix;
	e->v[0] = st->syns;
	e->v[1] = st->dropped;
	if (type == SG_EV_SRC_RELEASED)
		e->v[2] = now - st->limited_ns;
	else if (type == SG_EV_SRC_BLOCKED)
		e->v[2] = cfg->block_ns;
	e->aux = cfg->src_rate;
	e->aux2 = cfg->src_burst;
	events_submit(e);
	return 0;
}

/* sg_src dropped a SYN of @st: a new episode unless one is on. */
static __always_inline void events_src_over(const struct sg_config *cfg,
					    const struct sg_src_key *key,
					    struct sg_src_state *st, __u64 now)
{
	if (st->limited_ns)
		return;
	st->limited_ns = now;
	events_src(cfg->block_ns ? SG_EV_SRC_BLOCKED : SG_EV_SRC_LIMITED, key, st, cfg, now);
}

/*
 * A SYN of @st, its block (if any) over: released once its bucket has been
 * full for a second (tat a second behind now), so a flood that conforms
 * now and then (a SYN each time the bucket has one) stays one episode.
 */
static __always_inline void events_src_calm(const struct sg_config *cfg,
					    const struct sg_src_key *key,
					    struct sg_src_state *st, __u64 now)
{
	if (!st->limited_ns || st->tat + NSEC_PER_SEC > now)
		return;
	events_src(SG_EV_SRC_RELEASED, key, st, cfg, now);
	st->limited_ns = 0;
}

/* Does slot @d hold the source of words @w0, @w1 (as sg_over's: rl_src_words)? */
static __always_inline bool events_deny_holds(const struct sg_ev_deny *d, __u64 w0,
					      __u64 w1, __u32 family)
{
	const __u64 *a = (const __u64 *)d->src;

	return d->family == family && a[0] == w0 && a[1] == w1;
}

/*
 * A new deny interval in slot @d for the source @w0, @w1: tells its
 * entry's hits since this source's last event (if @d still holds it),
 * restarts.  @total is its entry's hits ever.
 */
__attribute__((noinline)) int events_deny_open(struct sg_ev_deny *d, __u64 w0, __u64 w1,
					       __u32 family, __u64 total)
{
	struct sg_event *e;
	__u64 prev, j = bpf_jiffies64();

	if (!d)
		return 0;
	prev = events_deny_holds(d, w0, w1, family) && total > d->total ? total - d->total : 0;
	__builtin_memcpy(d->src, &w0, 8);
	__builtin_memcpy(d->src + 8, &w1, 8);
	d->family = family;
	d->total = total;
	/* The jiffy's length is learned from the clock reads (jiffy.bpf.h). */
	jiffy_learn(bpf_ktime_get_ns(), j);
	d->until = j + SG_EV_DENY_INTERVAL_NS / jiffy_ns();
	if (!events_admit())
		return 0;
	e = events_reserve(SG_EV_DENY_HITS);
	if (!e)
		return 0;
	__builtin_memcpy(e->addr, d->src, 16);
	e->family = family;
	e->prefix = family == 4 ? 32 : 128;
	e->v[0] = prev;
	e->v[1] = total;
	e->v[2] = SG_EV_DENY_INTERVAL_NS;
	events_submit(e);
	return 0;
}

/* A deny-list hit of @pkt's source; @total is its entry's hit count. */
static __always_inline void events_deny(const struct sg_pkt *pkt, const __u64 *total)
{
	__u32 i, family = pkt->l3_proto == ETH_P_IP ? 4 : 6;
	struct sg_ev_deny *d;
	__u64 w0, w1 = 0;

	if (family == 4) {
		w0 = pkt->addr.v4[0];
	} else {
		__builtin_memcpy(&w0, &pkt->addr.v6[0], 8);
		__builtin_memcpy(&w1, (const __u8 *)&pkt->addr.v6[0] + 8, 8);
	}
	i = hash_fib(hash_fold(w0, w1), SG_EV_DENY_BITS) & (SG_EV_DENY_SLOTS - 1);
	d = bpf_map_lookup_elem(&sg_ev_deny, &i);
	if (!d)
		return;
	if (bpf_jiffies64() < d->until && events_deny_holds(d, w0, w1, family))
		return;
	events_deny_open(d, w0, w1, family, *total);
}

/*
 * An insertion into the flow table failed: told at the first of an
 * interval, with the failures of the interval before.
 */
__attribute__((noinline)) int events_flow_full(void)
{
	struct sg_ev_cpu *c = events_cpu();
	struct sg_event *e;
	__u64 now = bpf_ktime_get_coarse_ns(), prev;

	if (!c)
		return 0;
	if (now < c->full_until) {
		c->full_n++;
		return 0;
	}
	prev = c->full_n;
	c->full_n = 1;
	c->full_until = now + SG_EV_FULL_INTERVAL_NS;
	e = events_reserve(SG_EV_FLOW_TABLE_FULL);
	if (!e)
		return 0;
	e->v[0] = prev;
	e->v[1] = SG_EV_FULL_INTERVAL_NS;
	events_submit(e);
	return 0;
}

__attribute__((noinline)) int events_cookie_emit(__u64 n, __u64 prev)
{
	struct sg_event *e = events_reserve(SG_EV_COOKIE_INVALID);

	if (!e)
		return 0;
	e->v[0] = n;
	e->v[1] = prev;
	e->aux = SG_EV_COOKIE_INVALID_RATE;
	events_submit(e);
	return 0;
}

/* An ACK with no valid cookie: told when this CPU's second reaches the rate. */
static __always_inline void events_cookie_invalid(void)
{
	struct sg_ev_cpu *c = events_cpu();
	__u64 sec;

	if (!c)
		return;
	sec = bpf_ktime_get_coarse_ns() / NSEC_PER_SEC;
	if (c->ci_sec != sec) {
		c->ci_prev = c->ci_sec + 1 == sec ? c->ci_n : 0;
		c->ci_sec = sec;
		c->ci_n = 0;
	}
	if (++c->ci_n == SG_EV_COOKIE_INVALID_RATE)
		events_cookie_emit(c->ci_n, c->ci_prev);
}

/*
 * Flow tables evicting.  An LRU hash never fails an insertion for want of
 * room: it evicts, silently, and counts nothing of it anywhere we can
 * read.  But it keeps the kernel's count of the map's elements per CPU
 * (struct bpf_map.elem_count, since 6.6), and the eviction is done by the
 * inserting CPU, within its bpf_map_update_elem(): prealloc_lru_pop()
 * counts the new entry up, htab_lru_map_delete_node() each evicted one
 * down.  Read this CPU's count before and after the insertion, nothing
 * else on this CPU runs between (the programs do not nest), and what went
 * missing was evicted: exact, for two probe reads of a per-CPU word.  (The
 * fullness of the table would not do: the LRU evicts in batches into a
 * CPU's free list while other CPUs' free lists hold room, so a table
 * evicts below max_entries and may sit at it without evicting.)
 */
static __always_inline struct bpf_map *events_table_map(__u32 t)
{
	return t == SG_EV_TBL_FLOWS ? (struct bpf_map *)&sg_flows : (struct bpf_map *)&sg_half;
}

/* @p's value as a number: the verifier does no arithmetic on map pointers. */
static __always_inline __u64 events_addr(const void *p)
{
	__u64 a = 0;

	bpf_probe_read_kernel(&a, sizeof(a), &p);
	return a;
}

/*
 * The address of this CPU's word of @m's element count, found once per
 * CPU and table: struct bpf_map.elem_count is a per-CPU pointer, and
 * this CPU's offset is where sg_ev_cpu's value is for this CPU less its
 * per-CPU base (struct bpf_array.pptrs[0]).  (bpf_this_cpu_ptr() wants
 * a pointer the kernel's BTF marks per-CPU, which elem_count's is not,
 * and a ksym such as this_cpu_off needs kallsyms of data symbols.)
 */
static __always_inline __u64 events_elems_at(struct sg_ev_cpu *c, __u32 t)
{
	struct bpf_map *m = events_table_map(t);
	__u64 cnt, base, map, tm;
	__u32 id = m->id;

	t &= SG_EV_TABLES - 1;
	if (c->elems_at[t] && c->elems_id[t] == id)
		return c->elems_at[t];
	/* A kernel without them (the count is 6.6's): no eviction events. */
	if (!bpf_core_field_exists(struct bpf_map, elem_count) ||
	    !bpf_core_field_exists(struct bpf_array, pptrs))
		return 0;
	map = events_addr(&sg_ev_cpu);
	tm = events_addr(m);
	if (bpf_probe_read_kernel(&base, sizeof(base),
				  (void *)(map + bpf_core_field_offset(struct bpf_array, pptrs))) ||
	    bpf_probe_read_kernel(&cnt, sizeof(cnt),
				  (void *)(tm + bpf_core_field_offset(struct bpf_map, elem_count))) ||
	    !base || !cnt)
		return 0;
	c->elems_at[t] = cnt + (events_addr(c) - base);
	c->elems_id[t] = id;
	return c->elems_at[t];
}

/* This CPU's word of the element count at @at (0: unknown, reads 0). */
static __always_inline __s64 events_elems(__u64 at)
{
	__s64 n = 0;

	if (at)
		bpf_probe_read_kernel(&n, sizeof(n), (void *)at);
	return n;
}

struct events_evicted_sum {
	__u64 n;
	__u32 t;
};

/* bpf_loop: adds CPU @cpu's evictions of the table; stops past the last CPU. */
static long events_evicted_cpu(__u64 cpu, void *ctx)
{
	struct events_evicted_sum *s = ctx;
	struct sg_ev_cpu *c;
	__u32 zero = 0;

	c = bpf_map_lookup_percpu_elem(&sg_ev_cpu, &zero, (__u32)cpu);
	if (!c)
		return 1;
	s->n += c->evicted[s->t & (SG_EV_TABLES - 1)];
	return 0;
}

/*
 * Table @t's interval is over: the CPU that moves its end tells what the
 * CPUs evicted in it (an episode begins or goes on), or, when they evicted
 * nothing, that the episode ended.  Once an interval: a call.
 */
static __always_inline int events_table_tick(__u32 t)
{
	struct events_evicted_sum sum = { .t = t };
	__u64 now = bpf_ktime_get_coarse_ns(), until, d;
	struct sg_ev_table *s;
	struct sg_event *e;
	struct bpf_map *m;

	t &= SG_EV_TABLES - 1;
	s = bpf_map_lookup_elem(&sg_ev_table, &t);
	if (!s)
		return 0;
	until = s->until;
	if (now < until ||
	    __sync_val_compare_and_swap(&s->until, until, now + SG_EV_EVICT_INTERVAL_NS) != until)
		return 0;
	bpf_loop(SG_MAX_CPUS, events_evicted_cpu, &sum, 0);
	d = sum.n > s->told ? sum.n - s->told : 0;
	if (!d && !s->on)
		return 0;
	s->told = sum.n;
	if (d && !s->on) {
		s->on = 1;
		s->since = now;
		s->base = sum.n - d;
	} else if (!d) {
		s->on = 0;
	}
	e = events_reserve(d ? SG_EV_FLOW_TABLE_EVICTING : SG_EV_FLOW_TABLE_DRAINED);
	if (!e)
		return 0;
	m = events_table_map(t);
	e->aux = t;
	e->v[0] = d ? d : sum.n - s->base;
	e->v[1] = bpf_map_sum_elem_count(m);
	e->v[2] = m->max_entries;
	e->v[3] = d ? SG_EV_EVICT_INTERVAL_NS : now - s->since;
	events_submit(e);
	return 0;
}

/*
 * bpf_map_update_elem(@m, @k, @v, @flags) of the flow table @t, its
 * evictions counted.  BPF_ANY is tried as BPF_NOEXIST first, so that a
 * new entry is known to be new: one more element, less those evicted.
 */
#define SG_EEXIST 17	/* errno's EEXIST: the BPF side has no errno.h */

static __always_inline long events_table_update(void *m, __u32 t, const void *k,
						const void *v, __u64 flags)
{
	struct sg_ev_cpu *c = events_cpu();
	__u64 at = c ? events_elems_at(c, t) : 0;
	__s64 before = events_elems(at), evicted;
	struct sg_ev_table *s;
	long err, fresh = 1;

	err = bpf_map_update_elem(m, k, v, flags == BPF_ANY ? BPF_NOEXIST : flags);
	if (err == -SG_EEXIST && flags == BPF_ANY) {
		fresh = 0;
		err = bpf_map_update_elem(m, k, v, BPF_ANY);
	}
	/* A failed insertion may have evicted too (the LRU pops room first). */
	evicted = at ? before + (err ? 0 : fresh) - events_elems(at) : 0;
	if (evicted > 0 && c)
		c->evicted[t & (SG_EV_TABLES - 1)] += evicted;
	s = bpf_map_lookup_elem(&sg_ev_table, &t);
	if (s && (evicted > 0 || s->on) && bpf_ktime_get_coarse_ns() >= s->until)
		events_table_tick(t);
	return err;
}

/*
 * bpf_map_update_elem(@flags) of sg_half and sg_flows, their evictions
 * counted.  BPF_ANY is tried as BPF_NOEXIST first, so that a new entry is
 * known to be new: one more element, less those evicted.  Global: its
 * stack is not the XDP program's (the budget is 512 bytes in all).
 */
__attribute__((noinline)) int events_half_update(const struct sg_flow_key *k,
						 const struct sg_flow *v, __u64 flags)
{
	if (!k || !v)
		return -1;
	return events_table_update(&sg_half, SG_EV_TBL_HALF, k, v, flags);
}

__attribute__((noinline)) int events_flows_update(const struct sg_flow_key *k,
						  const struct sg_conn *v, __u64 flags)
{
	if (!k || !v)
		return -1;
	return events_table_update(&sg_flows, SG_EV_TBL_FLOWS, k, v, flags);
}

#endif /* SYNGUARD_EVENTS_BPF_H */
