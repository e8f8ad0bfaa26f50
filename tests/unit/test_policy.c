// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The guard's policy through BPF_PROG_TEST_RUN: sequences of frames against
 * a configured policy, asserting verdicts and counter deltas.  Time cannot
 * be mocked, so buckets are tested with bursts: at 1 SYN/s nothing refills
 * while a scenario runs (microseconds), so the counts are exact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktbuild.h"
#include "testlib.h"
#include "testpolicy.h"
#include "policy.h"
#include "common.h"
#include "stats.h"
#include "detect.h"
#include "synguard.skel.h"

/* SYN_FROM(addr, overrides...): defaults first, then what a case changes. */
#pragma GCC diagnostic ignored "-Woverride-init"

struct ctx {
	struct synguard *skel;
	int n, failed;
	struct sg_counters before;
};

/* A fresh policy from KEY=VALUE strings, empty lists and source table. */
static void setup(struct ctx *c, const char *const *assign)
{
	struct synguard *s = c->skel;
	struct sg_policy pol;

	test_policy(&pol, assign);
	policy_write(POLICY_FDS(s), &pol);
	clear_map(fd(s->maps.sg_src), sizeof(struct sg_src_key));
	clear_map(fd(s->maps.sg_allow4), sizeof(struct sg_lpm4));
	clear_map(fd(s->maps.sg_deny4), sizeof(struct sg_lpm4));
	clear_map(fd(s->maps.sg_allow6), sizeof(struct sg_lpm6));
	clear_map(fd(s->maps.sg_deny6), sizeof(struct sg_lpm6));
	{
		struct sg_list_sizes none = {};
		__u32 zero = 0;

		bpf_map_update_elem(fd(s->maps.sg_lists), &zero, &none, BPF_ANY);
	}
	clear_map(fd(s->maps.sg_half), sizeof(struct sg_flow_key));
	clear_map(fd(s->maps.sg_flows), sizeof(struct sg_flow_key));
	stats_read(fd(s->maps.sg_stats), fd(s->maps.sg_drops), &c->before);
}

static void list_add(struct ctx *c, bool deny, const char *cidr)
{
	struct sg_cidr k;
	union { struct sg_lpm4 v4; struct sg_lpm6 v6; } key = {};
	struct sg_list_sizes sizes;
	__u64 zero = 0;
	__u32 k0 = 0, idx;
	int map;

	cidr_parse(cidr, &k);
	if (k.family == 4) {
		key.v4.prefixlen = k.prefix;
		memcpy(key.v4.addr, k.addr, 4);
		map = fd(deny ? c->skel->maps.sg_deny4 : c->skel->maps.sg_allow4);
	} else {
		key.v6.prefixlen = k.prefix;
		memcpy(key.v6.addr, k.addr, 16);
		map = fd(deny ? c->skel->maps.sg_deny6 : c->skel->maps.sg_allow6);
	}
	/* As `synguard allow|deny add` does: the program skips a trie counted empty. */
	idx = deny ? (k.family == 4 ? SG_LIST_DENY4 : SG_LIST_DENY6)
		   : (k.family == 4 ? SG_LIST_ALLOW4 : SG_LIST_ALLOW6);
	bpf_map_lookup_elem(fd(c->skel->maps.sg_lists), &k0, &sizes);
	sizes.n[idx]++;
	bpf_map_update_elem(fd(c->skel->maps.sg_lists), &k0, &sizes, BPF_ANY);
	bpf_map_update_elem(map, &key, &zero, BPF_ANY);
}

/* Sends @count copies of @spec; returns how many passed. */
static int send_n(struct ctx *c, const struct pkt_spec *spec, int count)
{
	__u8 frame[PKT_MAX_FRAME];
	int len = pkt_build(spec, frame, sizeof(frame)), passed = 0, i;

	for (i = 0; i < count && len > 0; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len);
		struct sg_counters a, b;

		stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &a);
		if (bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_xdp), &o))
			return -errno;
		stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &b);
		books_check(&a, &b, "a frame of send_n()");
		passed += o.retval == XDP_PASS;
	}
	return len > 0 ? passed : len;
}

static void expect(struct ctx *c, const char *desc, long long got, long long want)
{
	tap_eq(&c->n, &c->failed, desc, got, want);
}

static void diag_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

/* Counter deltas since setup(). */
static long long d_stat(struct ctx *c, enum sg_stat s)
{
	struct sg_counters now;

	stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &now);
	return now.stat[s] - c->before.stat[s];
}

static long long d_reason(struct ctx *c, enum sg_reason r)
{
	struct sg_counters now;

	stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &now);
	return now.reason[r] - c->before.reason[r];
}

#define SYN_FROM(addr, ...) (struct pkt_spec){ .family = strchr(addr, ':') ? 6 : 4, \
	.src = addr, .dst = strchr(addr, ':') ? "2001:2::1" : "198.18.0.1",           \
	.sport = 40000, .dport = 80, .seq = 1000, .tcp_flags = PKT_SYN, __VA_ARGS__ }
#define CFG(...) (const char *const[]){ __VA_ARGS__, NULL }

static void per_source_bucket(struct ctx *c)
{
	setup(c, CFG("src_rate=1", "src_burst=5"));
	expect(c, "bucket: 5 of 20 SYNs from one source pass (burst 5, 1/s)",
	       send_n(c, &SYN_FROM("198.18.1.1"), 20), 5);
	expect(c, "bucket: the other 15 counted as src_rate", d_reason(c, SG_R_SRC_RATE), 15);
	expect(c, "bucket: all 20 checked (src_limited)", d_stat(c, SG_SRC_LIMITED), 20);
	expect(c, "bucket: drop verdicts 15", d_stat(c, SG_DROP), 15);
	expect(c, "bucket: another source has its own bucket",
	       send_n(c, &SYN_FROM("198.18.1.2"), 20), 5);
	expect(c, "bucket: ACKs from the limited source are not limited",
	       send_n(c, &SYN_FROM("198.18.1.1", .tcp_flags = PKT_ACK), 20), 20);
	expect(c, "bucket: SYN-ACKs are not limited",
	       send_n(c, &SYN_FROM("198.18.1.1", .tcp_flags = PKT_SYN | PKT_ACK), 20), 20);
	expect(c, "bucket: RSTs are not limited",
	       send_n(c, &SYN_FROM("198.18.1.1", .tcp_flags = PKT_RST), 20), 20);
}

static void prefixes(struct ctx *c)
{
	setup(c, CFG("src_rate=1", "src_burst=5", "prefix4=24"));
	send_n(c, &SYN_FROM("198.18.2.1"), 3);
	expect(c, "prefix4=24: a neighbour in the /24 shares the bucket",
	       send_n(c, &SYN_FROM("198.18.2.200"), 3), 2);
	expect(c, "prefix4=24: the next /24 does not", send_n(c, &SYN_FROM("198.18.3.1"), 3), 3);

	setup(c, CFG("src_rate=1", "src_burst=4"));
	send_n(c, &SYN_FROM("2001:2:0:1::1"), 3);
	expect(c, "IPv6 default /64: a neighbour in the /64 shares the bucket",
	       send_n(c, &SYN_FROM("2001:2:0:1:ffff::2"), 3), 1);
	expect(c, "IPv6 default /64: the next /64 does not",
	       send_n(c, &SYN_FROM("2001:2:0:2::1"), 3), 3);

	setup(c, CFG("src_rate=1", "src_burst=4", "prefix6=128"));
	send_n(c, &SYN_FROM("2001:2:0:1::1"), 4);
	expect(c, "prefix6=128: every address its own bucket",
	       send_n(c, &SYN_FROM("2001:2:0:1::2"), 4), 4);
}

static void block_time(struct ctx *c)
{
	setup(c, CFG("src_rate=1", "src_burst=2", "block_time=60"));
	expect(c, "block: 2 of 10 pass", send_n(c, &SYN_FROM("198.18.5.5"), 10), 2);
	expect(c, "block: the first over the bucket is src_rate", d_reason(c, SG_R_SRC_RATE), 1);
	expect(c, "block: the rest while blocked are src_blocked",
	       d_reason(c, SG_R_SRC_BLOCKED), 7);
	expect(c, "block: ACKs of a blocked source still pass (established flows live)",
	       send_n(c, &SYN_FROM("198.18.5.5", .tcp_flags = PKT_ACK), 5), 5);
}

static void ports(struct ctx *c)
{
	setup(c, CFG("src_rate=1", "src_burst=1", "ports=443,8000-8001"));
	expect(c, "ports: port 80 is out of scope, 10 of 10 pass",
	       send_n(c, &SYN_FROM("198.18.6.1"), 10), 10);
	expect(c, "ports: out of scope is not checked", d_stat(c, SG_SRC_LIMITED), 0);
	expect(c, "ports: port 443 is limited",
	       send_n(c, &SYN_FROM("198.18.6.1", .dport = 443), 10), 1);
	expect(c, "ports: port 8001 (in a range) is limited",
	       send_n(c, &SYN_FROM("198.18.6.2", .dport = 8001), 10), 1);
	expect(c, "ports: port 8002 is not", send_n(c, &SYN_FROM("198.18.6.2", .dport = 8002), 10), 10);
}

static void lists(struct ctx *c)
{
	setup(c, CFG("src_rate=1", "src_burst=1"));
	list_add(c, false, "198.18.7.0/24");
	list_add(c, false, "2001:2:0:7::/64");
	expect(c, "allow: an allowed IPv4 source skips the bucket",
	       send_n(c, &SYN_FROM("198.18.7.9"), 10), 10);
	expect(c, "allow: an allowed IPv6 source skips the bucket",
	       send_n(c, &SYN_FROM("2001:2:0:7::9"), 10), 10);
	expect(c, "allow: counted as allowed", d_stat(c, SG_ALLOWED), 20);
	expect(c, "allow: none checked", d_stat(c, SG_SRC_LIMITED), 0);
	expect(c, "allow: malformed TCP from an allowed source is still dropped",
	       send_n(c, &SYN_FROM("198.18.7.9", .tcp_flags = PKT_SYN | PKT_FIN), 3), 0);
	expect(c, "allow: ...as syn_fin", d_reason(c, SG_R_SYN_FIN), 3);

	setup(c, NULL);
	list_add(c, true, "198.18.8.8");
	list_add(c, true, "2001:2:0:8::/64");
	list_add(c, false, "198.18.8.0/24");	/* deny wins over allow */
	expect(c, "deny: SYNs from a denied source are dropped",
	       send_n(c, &SYN_FROM("198.18.8.8"), 4), 0);
	expect(c, "deny: so are its ACKs", send_n(c, &SYN_FROM("198.18.8.8", .tcp_flags = PKT_ACK), 4), 0);
	expect(c, "deny: and its UDP", send_n(c, &SYN_FROM("198.18.8.8", .l4_proto = IPPROTO_UDP), 4), 0);
	expect(c, "deny: and its later fragments",
	       send_n(c, &SYN_FROM("198.18.8.8", .frag_off = 100), 4), 0);
	expect(c, "deny: IPv6 /64", send_n(c, &SYN_FROM("2001:2:0:8::77"), 4), 0);
	expect(c, "deny: all 20 counted as deny_list", d_reason(c, SG_R_DENY_LIST), 20);
	expect(c, "deny: the neighbour is only allowed", send_n(c, &SYN_FROM("198.18.8.9"), 4), 4);
	expect(c, "deny: sources not listed pass", send_n(c, &SYN_FROM("198.18.9.9"), 4), 4);
}

static void dry_run(struct ctx *c)
{
	setup(c, CFG("src_rate=1", "src_burst=3", "dry_run=on"));
	list_add(c, true, "198.18.10.10");
	expect(c, "dry-run: every SYN passes", send_n(c, &SYN_FROM("198.18.10.1"), 10), 10);
	expect(c, "dry-run: 7 would-drops by src_rate", d_reason(c, SG_R_SRC_RATE), 7);
	expect(c, "dry-run: denied source passes", send_n(c, &SYN_FROM("198.18.10.10"), 2), 2);
	expect(c, "dry-run: counted as deny_list", d_reason(c, SG_R_DENY_LIST), 2);
	expect(c, "dry-run: would_drop 9", d_stat(c, SG_WOULD_DROP), 9);
	expect(c, "dry-run: drop 0", d_stat(c, SG_DROP), 0);
}

/* Through the egress program: what the host sends. */
static int send_out(struct ctx *c, const struct pkt_spec *spec)
{
	__u8 frame[PKT_MAX_FRAME];
	int len = pkt_build(spec, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len);

	if (len < 0)
		return len;
	return bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_egress), &o)
		? -errno : 0;
}

/* A real handshake from @addr to the server: it becomes proven. */
static void handshake(struct ctx *c, const char *addr, __u16 sport)
{
	bool v6 = strchr(addr, ':');

	send_n(c, &SYN_FROM(addr, .sport = sport, .seq = 1000), 1);
	send_out(c, &(struct pkt_spec){ .family = v6 ? 6 : 4,
					.src = v6 ? "2001:2::1" : "198.18.0.1", .dst = addr,
					.sport = 80, .dport = sport, .seq = 5000,
					.ack_seq = 1001, .tcp_flags = PKT_SYN | PKT_ACK });
	send_n(c, &SYN_FROM(addr, .sport = sport, .seq = 1001, .ack_seq = 5001,
			    .tcp_flags = PKT_ACK), 1);
}

static void wait_window(void)
{
	usleep(1100 * 1000);	/* attack mode is judged per one-second window */
}

static void attack_mode(struct ctx *c)
{
	char addr[32];
	int i, passed;

	setup(c, CFG("attack_syn_rate=10", "unproven_rate=0", "attack_hold=1",
		     "cookies=never"));
	handshake(c, "198.18.30.1", 41000);
	expect(c, "attack: a completed handshake proves its source",
	       d_stat(c, SG_FLOW_COMPLETED), 1);
	for (i = 0, passed = 0; i < 20; i++) {
		snprintf(addr, sizeof(addr), "198.18.31.%d", i + 1);
		passed += send_n(c, &SYN_FROM(addr), 1);
	}
	expect(c, "attack: below the threshold's first window, 20 SYNs pass", passed, 20);
	wait_window();
	expect(c, "attack: the next window enters attack mode; an unproven SYN is dropped",
	       send_n(c, &SYN_FROM("198.18.32.1"), 1), 0);
	expect(c, "attack: counted as attack_unproven", d_reason(c, SG_R_ATTACK_UNPROVEN), 1);
	expect(c, "attack: entering is counted", d_stat(c, SG_ATTACK_ENTERED), 1);
	expect(c, "attack: the proven source's SYN passes",
	       send_n(c, &SYN_FROM("198.18.30.1", .sport = 41001), 1), 1);
	expect(c, "attack: counted as attack_proven", d_stat(c, SG_ATTACK_PROVEN), 1);
	expect(c, "attack: ACKs of unproven sources are not judged",
	       send_n(c, &SYN_FROM("198.18.32.1", .tcp_flags = PKT_ACK), 3), 3);

	setup(c, CFG("attack_syn_rate=10", "unproven_rate=1", "unproven_burst=3", "cookies=never",
		     "attack_hold=1"));
	expect(c, "attack: still on after a live policy change",
	       send_n(c, &SYN_FROM("198.18.33.1"), 10), 3);
	expect(c, "attack: unproven_burst 3 admitted", d_stat(c, SG_ATTACK_ADMITTED), 3);

	usleep(2200 * 1000);	/* no SYN for two windows: calm, hold 1 s */
	expect(c, "attack: after the flood and the hold, it leaves; the SYN passes",
	       send_n(c, &SYN_FROM("198.18.34.1"), 1), 1);
	expect(c, "attack: leaving is counted", d_stat(c, SG_ATTACK_LEFT), 1);

	setup(c, CFG("attack_syn_rate=5", "unproven_rate=0", "dry_run=on", "cookies=never"));
	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "198.18.35.%d", i + 1);
		send_n(c, &SYN_FROM(addr), 1);
	}
	wait_window();
	expect(c, "attack dry-run: the unproven SYN passes",
	       send_n(c, &SYN_FROM("198.18.36.1"), 1), 1);
	expect(c, "attack dry-run: counted as a would-drop",
	       d_reason(c, SG_R_ATTACK_UNPROVEN), 1);
}

static void on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "sched_setaffinity %d: %s\n", cpu, strerror(errno));
}

static void any_cpu(void)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < libbpf_num_possible_cpus(); i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static struct sg_attack attack_get(struct ctx *c)
{
	struct sg_attack a = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(fd(c->skel->maps.sg_attack), &zero, &a);
	return a;
}

static void attack_put(struct ctx *c, const struct sg_attack *a)
{
	__u32 zero = 0;

	bpf_map_update_elem(fd(c->skel->maps.sg_attack), &zero, a, BPF_ANY);
}

/*
 * Has a CPU learned a jiffy bound (sg_jiffy: t0, j0, tick_ns per CPU) in
 * [@lo, @hi] ns?
 */
static bool jiffy_learned(struct ctx *c, __u64 lo, __u64 hi)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	__u64 v[3 * 64];
	__u32 zero = 0;

	if (ncpu < 1 || ncpu > 64 || bpf_map_lookup_elem(fd(c->skel->maps.sg_jiffy), &zero, v))
		return false;
	for (i = 0; i < ncpu; i++)
		if (v[3 * i + 2] >= lo && v[3 * i + 2] <= hi)
			return true;
	return false;
}

/*
 * Attack mode @active in a window begun now, no horizons, the SYN sum
 * kept.
 */
static void attack_set(struct ctx *c, bool active)
{
	struct sg_attack a = attack_get(c);

	a.window_ns = mono_ns();
	a.roll_jiffy = 0;
	a.admit_tat = 0;
	a.refuse = 0;
	a.calm_since_ns = 0;
	a.active = active;
	attack_put(c, &a);
}

/* sg_attack_syns of CPU @cpu. */
static __u64 cpu_syns(struct ctx *c, int cpu)
{
	__u64 v[1024] = {};
	__u32 zero = 0;

	if (libbpf_num_possible_cpus() > 1024)
		return 0;
	bpf_map_lookup_elem(fd(c->skel->maps.sg_attack_syns), &zero, v);
	return v[cpu];
}

/* Empties sg_proven and its bitmap, as whoever clears sg_proven must. */
static void proven_clear(struct ctx *c)
{
	static __u32 keys[SG_PROVEN_WORDS];
	static __u64 zeros[SG_PROVEN_WORDS];
	__u32 i, n = SG_PROVEN_WORDS;

	clear_map(fd(c->skel->maps.sg_proven), sizeof(struct sg_src_key));
	for (i = 0; i < n; i++)
		keys[i] = i;
	bpf_map_update_batch(fd(c->skel->maps.sg_proven_bits), keys, zeros, &n, NULL);
}

static struct sg_src_key proven_key(const char *addr)
{
	struct sg_src_key k = {};
	bool v6 = strchr(addr, ':');

	inet_pton(v6 ? AF_INET6 : AF_INET, addr, k.addr);
	k.family = v6 ? 6 : 4;
	k.prefix = v6 ? 128 : 32;
	return k;
}

/* Sets @addr's bit in sg_proven_bits, as attack_prove() hashes it. */
static void proven_bit_set(struct ctx *c, const char *addr)
{
	struct sg_src_key k = proven_key(addr);
	__u32 w[4], bit, word;
	__u64 v = 0;

	memcpy(w, k.addr, sizeof(w));
	bit = ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9E3779B1U) >> 12;
	word = bit >> 6;
	bpf_map_lookup_elem(fd(c->skel->maps.sg_proven_bits), &word, &v);
	v |= 1ULL << (bit & 63);
	bpf_map_update_elem(fd(c->skel->maps.sg_proven_bits), &word, &v, BPF_ANY);
}

static int bits_set(struct ctx *c)
{
	__u64 v;
	__u32 i;
	int n = 0;

	for (i = 0; i < SG_PROVEN_WORDS; i++)
		if (!bpf_map_lookup_elem(fd(c->skel->maps.sg_proven_bits), &i, &v))
			n += __builtin_popcountll(v);
	return n;
}

/*
 * The window's rate is summed over the CPUs' own counters: SYNs sent on
 * each CPU in turn (BPF_PROG_TEST_RUN runs on the caller's CPU).
 */
static void attack_rate_cpus(struct ctx *c)
{
	int ncpu = libbpf_num_possible_cpus(), cpu, i, sent = 0, n;
	struct sg_attack a = {}, b;
	__u64 before[2];
	char addr[32];

	setup(c, CFG("attack_syn_rate=20", "unproven_rate=0", "attack_hold=1",
		     "cookies=never"));
	proven_clear(c);
	attack_put(c, &a);	/* window_ns 0: the first SYN opens a window */
	if (ncpu < 2) {
		printf("# SKIP attack rate across CPUs: one CPU\n");
		return;
	}
	before[0] = cpu_syns(c, 0);
	before[1] = cpu_syns(c, 1);
	/* 20 SYNs, the first opening the window: 7 on CPU 0, 13 on CPU 1. */
	for (cpu = 0; cpu < 2; cpu++) {
		on_cpu(cpu);
		for (i = 0, n = cpu ? 13 : 7; i < n; i++, sent++) {
			snprintf(addr, sizeof(addr), "198.18.40.%d", sent + 1);
			send_n(c, &SYN_FROM(addr), 1);
		}
	}
	any_cpu();
	expect(c, "attack rate: CPU 0 counted its 7 SYNs", cpu_syns(c, 0) - before[0], 7);
	expect(c, "attack rate: CPU 1 counted its 13 SYNs", cpu_syns(c, 1) - before[1], 13);
	b = attack_get(c);
	expect(c, "attack rate: the first SYN opened a window after a gap (rate 0)",
	       b.last_rate, 0);
	expect(c, "attack rate: a roll jiffy ahead (no clock until it)", b.roll_jiffy > 0, 1);
	wait_window();
	on_cpu(0);
	expect(c, "attack rate: 20 SYNs on two CPUs reach attack_syn_rate=20; dropped",
	       send_n(c, &SYN_FROM("198.18.41.1"), 1), 0);
	any_cpu();
	b = attack_get(c);
	expect(c, "attack rate: the window's rate is the sum over the CPUs", b.last_rate, 20);
	expect(c, "attack rate: entered", d_stat(c, SG_ATTACK_ENTERED), 1);
	/* HZ is 100 to 1000 on any machine this runs on. */
	expect(c, "attack rate: a jiffy's length learned from the clock reads (1 to 10 ms)",
	       jiffy_learned(c, 1000000, 10000000), 1);

	/* Within the window no SYN rolls it; the first after 1 s does. */
	send_n(c, &SYN_FROM("198.18.41.2"), 30);
	expect(c, "attack rate: no roll within the window",
	       attack_get(c).window_ns == b.window_ns, 1);
	usleep(1050 * 1000);
	send_n(c, &SYN_FROM("198.18.41.3"), 1);
	a = attack_get(c);
	expect(c, "attack rate: the first SYN 1.05 s later rolls the window",
	       a.window_ns != b.window_ns, 1);
	expect(c, "attack rate: the last window's 31 SYNs", a.last_rate, 31);

	/* 19 of 20: below the threshold; calm for the hold: leaves. */
	for (cpu = 0; cpu < 2; cpu++) {
		on_cpu(cpu);
		for (i = 0; i < (cpu ? 10 : 8); i++) {
			snprintf(addr, sizeof(addr), "198.18.42.%d", cpu * 20 + i + 1);
			send_n(c, &SYN_FROM(addr), 1);
		}
	}
	any_cpu();
	wait_window();
	send_n(c, &SYN_FROM("198.18.43.1"), 1);
	expect(c, "attack rate: 19 SYNs on two CPUs in the next window",
	       attack_get(c).last_rate, 19);
}

/*
 * sg_proven_bits: a clear bit says "not proven" without the lookup; a set
 * bit leaves the answer to sg_proven.
 */
static void attack_bitmap(struct ctx *c)
{
	struct sg_src_key k;
	__u64 t;

	setup(c, CFG("attack_syn_rate=1000000", "unproven_rate=0", "cookies=never"));
	proven_clear(c);
	attack_set(c, false);
	expect(c, "bitmap: cleared", bits_set(c), 0);
	handshake(c, "198.18.44.1", 42000);
	handshake(c, "2001:2:0:44::1", 42000);
	expect(c, "bitmap: two handshakes completed", d_stat(c, SG_FLOW_COMPLETED), 2);
	expect(c, "bitmap: one bit each", bits_set(c), 2);
	attack_set(c, true);
	expect(c, "bitmap: the proven IPv4 source passes",
	       send_n(c, &SYN_FROM("198.18.44.1", .sport = 42001), 1), 1);
	expect(c, "bitmap: the proven IPv6 source passes",
	       send_n(c, &SYN_FROM("2001:2:0:44::1", .sport = 42001), 1), 1);
	expect(c, "bitmap: an unproven source is dropped",
	       send_n(c, &SYN_FROM("198.18.44.2"), 1), 0);
	expect(c, "bitmap: counted: 2 proven, 1 unproven",
	       d_stat(c, SG_ATTACK_PROVEN) * 10 + d_reason(c, SG_R_ATTACK_UNPROVEN), 21);

	/* Its bit set but its entry gone: sg_proven decides. */
	k = proven_key("198.18.44.1");
	bpf_map_delete_elem(fd(c->skel->maps.sg_proven), &k);
	expect(c, "bitmap: bit set, entry deleted: dropped",
	       send_n(c, &SYN_FROM("198.18.44.1", .sport = 42002), 1), 0);
	t = mono_ns();
	bpf_map_update_elem(fd(c->skel->maps.sg_proven), &k, &t, BPF_ANY);
	expect(c, "bitmap: bit set, entry back: passes",
	       send_n(c, &SYN_FROM("198.18.44.1", .sport = 42003), 1), 1);
	t -= 3600 * 1000000000ULL;	/* longer ago than proven_time */
	bpf_map_update_elem(fd(c->skel->maps.sg_proven), &k, &t, BPF_ANY);
	expect(c, "bitmap: bit set, entry too old: dropped",
	       send_n(c, &SYN_FROM("198.18.44.1", .sport = 42004), 1), 0);

	/* A set bit of a source never proven (a collision): only a lookup. */
	proven_bit_set(c, "198.18.44.3");
	expect(c, "bitmap: a false positive is still dropped",
	       send_n(c, &SYN_FROM("198.18.44.3"), 1), 0);

	/* Both cleared: nobody is proven. */
	proven_clear(c);
	expect(c, "bitmap: cleared with sg_proven", bits_set(c), 0);
	expect(c, "bitmap: the IPv6 source, cleared, is dropped",
	       send_n(c, &SYN_FROM("2001:2:0:44::1", .sport = 42005), 1), 0);
	/* An entry without its bit is not seen: who fills sg_proven sets it. */
	k = proven_key("2001:2:0:44::1");
	t = mono_ns();
	bpf_map_update_elem(fd(c->skel->maps.sg_proven), &k, &t, BPF_ANY);
	expect(c, "bitmap: an entry written without its bit is not seen",
	       send_n(c, &SYN_FROM("2001:2:0:44::1", .sport = 42006), 1), 0);
	proven_bit_set(c, "2001:2:0:44::1");
	expect(c, "bitmap: with its bit, it is",
	       send_n(c, &SYN_FROM("2001:2:0:44::1", .sport = 42007), 1), 1);
	proven_clear(c);
}

/*
 * The refusal horizon never refuses a SYN that GCRA admits: SYNs about
 * every millisecond for 1.5 s at unproven_rate=10, burst 1, against GCRA
 * run here on the times they were sent.  GCRA here follows the program's
 * own admissions (a SYN within microseconds of a boundary may go either
 * way, and would shift every later one): a refusal 0.5 ms or more after
 * the SYN conformed, or an admission 0.5 ms or more before, is a fault.
 */
static void attack_admit_horizon(struct ctx *c)
{
	struct sg_attack a = {}, b;
	__u64 t = 1000000000ULL / 10, tat = 0, now, start, slack = 500000;
	int got = 0, want = 0, late = 0, early = 0, r, i;

	setup(c, CFG("attack_syn_rate=100", "unproven_rate=10", "unproven_burst=1",
		     "cookies=never"));
	proven_clear(c);
	attack_set(c, true);	/* the jiffy's length learned by attack_rate_cpus() */
	start = mono_ns();
	for (i = 0; (now = mono_ns()) - start < 1500000000ULL; i++) {
		r = send_n(c, &SYN_FROM("198.18.45.1", .sport = 10000 + i % 50000), 1);
		got += r;
		want += tat <= now;	/* burst 1: tol 0 */
		if (!r && tat + slack <= now)
			late++;
		if (r && tat > now + slack)
			early++;
		if (r)
			tat = (tat > now ? tat : now) + t;
		usleep(1000);
	}
	printf("# admission horizon: %d SYNs, %d admitted, GCRA here %d, %d refused late, "
	       "%d admitted early\n", i, got, want, late, early);
	expect(c, "admit horizon: the admitted count is GCRA's (within 2)",
	       got >= want - 2 && got <= want + 2, 1);
	expect(c, "admit horizon: no SYN refused 0.5 ms after GCRA admits it", late, 0);
	expect(c, "admit horizon: no SYN admitted 0.5 ms before", early, 0);
	expect(c, "admit horizon: counted as attack_admitted", d_stat(c, SG_ATTACK_ADMITTED), got);
	b = attack_get(c);
	printf("# after it: refuse %llx, roll_jiffy %llu\n", (unsigned long long)b.refuse,
	       (unsigned long long)b.roll_jiffy);
	expect(c, "admit horizon: a refusal left a horizon under this policy",
	       SG_REFUSE_UNTIL(b.refuse) > 0 && SG_REFUSE_GEN(b.refuse) != 0, 1);

	/*
	 * A policy change voids the horizon: rate 1, burst 1 admits one and
	 * refuses for about a second; then burst 2000 at 1000/s admits at once.
	 */
	setup(c, CFG("attack_syn_rate=100", "unproven_rate=1", "unproven_burst=1",
		     "cookies=never"));
	usleep(30 * 1000);	/* the 50/s bucket's last admission is history */
	expect(c, "admit horizon: rate 1: one of 3 admitted",
	       send_n(c, &SYN_FROM("198.18.45.2"), 3), 1);
	b = attack_get(c);
	expect(c, "admit horizon: rate 1: refused for most of a second (a horizon)",
	       SG_REFUSE_UNTIL(b.refuse) > 0, 1);
	setup(c, CFG("attack_syn_rate=100", "unproven_rate=1000", "unproven_burst=2000",
		     "cookies=never"));
	expect(c, "admit horizon: a new policy voids it: admitted at once",
	       send_n(c, &SYN_FROM("198.18.45.3"), 1), 1);
	attack_put(c, &a);
}

/* sg_attack_syns[@idx] summed over the CPUs. */
static __u64 attack_count(struct ctx *c, __u32 idx)
{
	__u64 v[1024] = {}, sum = 0;
	int i, n = libbpf_num_possible_cpus();

	if (n > 1024 || bpf_map_lookup_elem(fd(c->skel->maps.sg_attack_syns), &idx, v))
		return 0;
	for (i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* The per-source limit's drops, summed over the CPUs. */
static __u64 src_limited(struct ctx *c)
{
	struct sg_counters now;

	stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &now);
	return now.reason[SG_R_SRC_RATE] + now.reason[SG_R_SRC_BLOCKED];
}

/* Adds @n to CPU 0's sg_attack_syns[@idx]. */
static void attack_count_add(struct ctx *c, __u32 idx, __u64 n)
{
	__u64 v[1024] = {};

	if (libbpf_num_possible_cpus() > 1024 ||
	    bpf_map_lookup_elem(fd(c->skel->maps.sg_attack_syns), &idx, v))
		return;
	v[0] += n;
	bpf_map_update_elem(fd(c->skel->maps.sg_attack_syns), &idx, v, BPF_ANY);
}

/*
 * The auto threshold's arithmetic (include/detect.h) across windows, as
 * attack_evaluate() applies it: learn a calm window, enter at or above
 * the threshold (nothing learned then).  @rate(k) gives window k's
 * unanswered SYNs; returns the first window that enters, or -1.
 */
static int detect_run(__u64 *b, int windows, double (*rate)(int), __u64 *thr_at_enter)
{
	int k;

	for (k = 0; k < windows; k++) {
		__u64 x = (__u64)rate(k), thr = detect_threshold(*b, SG_AUTO_SYN_FLOOR);

		if (x >= thr) {
			*thr_at_enter = thr;
			return k;
		}
		*b = detect_learn(*b, x, SG_AUTO_SYN_FLOOR);
	}
	return -1;
}

static double steady_600(int k) { (void)k; return 600; }
/* 600 a second, rising 10x over the next minute (4% a second). */
static double slow_rise(int k)
{
	double r = 600;
	int i;

	for (i = 0; i < k && i < 60; i++)
		r *= 1.0391;	/* 10^(1/60) */
	return r;
}
/* 600 a second for a minute, then 100x at once. */
static double jump_100x(int k) { return k < 60 ? 600 : 60000; }
/* A flood starting under the floor, growing 50% a second. */
static double fast_ramp(int k)
{
	double r = 100;

	while (k--)
		r *= 1.5;
	return r;
}

static void detector_arithmetic(struct ctx *c)
{
	__u64 b = 0, thr = 0;
	int k;

	expect(c, "detector: with nothing learned the threshold is the floor",
	       detect_threshold(0, SG_AUTO_SYN_FLOOR), SG_AUTO_SYN_FLOOR);
	expect(c, "detector: 8x the baseline above the floor",
	       detect_threshold(500ULL << SG_AUTO_FP_SHIFT, SG_AUTO_SYN_FLOOR), 4000);
	expect(c, "detector: unanswered never below 0", detect_unanswered(5, 9), 0);
	expect(c, "detector: unanswered = SYNs less completions", detect_unanswered(9, 5), 4);
	/* A calm window learns 1/8 of the way. */
	expect(c, "detector: EWMA 1/8 up", detect_learn(0, 800, 1000), (800ULL << 10) / 8);
	expect(c, "detector: EWMA 1/8 down",
	       detect_learn(800ULL << 10, 0, 1000), (800ULL << 10) - (800ULL << 10) / 8);
	/* One window far above the floor and the baseline moves by one step at most. */
	b = 3000ULL << 10;
	expect(c, "detector: a sample is clamped to 2x the baseline (3000 -> 3375, not +1e9/8)",
	       detect_learn(b, 1000000000ULL, 1000) >> 10, 3375);
	expect(c, "detector: no overflow at a huge sample",
	       detect_learn(0, ~0ULL, 1000) >> 10, 125);

	b = 0;
	expect(c, "detector: steady 600/s for 60 s never enters",
	       detect_run(&b, 60, steady_600, &thr), -1);
	expect(c, "detector: ... and learns it (baseline 600 +- 5%)",
	       (b >> 10) >= 570 && (b >> 10) <= 630, 1);
	k = detect_run(&b, 90, slow_rise, &thr);
	expect(c, "detector: a rise to 10x over a minute never enters", k, -1);
	diag_line("detector: after the slow rise, baseline %llu/s, threshold %llu",
		  (unsigned long long)(b >> 10),
		  (unsigned long long)detect_threshold(b, SG_AUTO_SYN_FLOOR));
	expect(c, "detector: ... and is tracked (baseline >= 5000/s after it)", (b >> 10) >= 5000, 1);
	b = 0;
	k = detect_run(&b, 120, jump_100x, &thr);
	expect(c, "detector: a sudden 100x jump enters in its first window", k, 60);
	expect(c, "detector: ... at the learned threshold (8 x 600 = 4800 +- 5%)",
	       thr >= 4560 && thr <= 5040, 1);
	b = 0;
	k = detect_run(&b, 60, fast_ramp, &thr);
	diag_line("detector: a flood from 100/s growing 50%%/s enters in window %d, at %.0f/s "
		  "(threshold %llu)", k, fast_ramp(k), (unsigned long long)thr);
	/* 1000/s by window 6; learning moves the threshold 12.5%/s at most. */
	expect(c, "detector: a flood growing 50%/s from under the floor enters by window 12",
	       k >= 6 && k <= 12, 1);
}

/*
 * The program's roll: sg_attack set from userspace as a window about to
 * end, then one SYN.  Windows are real seconds (BPF_PROG_TEST_RUN cannot
 * fake time); putting the state in place stands for them.
 */
static void attack_window_due(struct ctx *c, __u64 syns, __u64 done, __u64 baseline,
			      bool active)
{
	struct sg_attack a = attack_get(c);

	a.window_ns = mono_ns() - 1050000000ULL;	/* 1.05 s ago: due, no gap */
	a.roll_jiffy = 0;
	a.admit_tat = 0;
	a.refuse = 0;
	a.calm_since_ns = 0;
	a.active = active;
	a.why = 0;
	a.learned = 0;
	a.baseline_fp = baseline;
	/* As if @syns SYNs and @done completions came in the window (on CPU 0). */
	a.limited_base = src_limited(c);
	a.syns_base = attack_count(c, SG_ATTACK_SYNS);
	a.done_base = attack_count(c, SG_ATTACK_DONE);
	attack_count_add(c, SG_ATTACK_SYNS, syns);
	attack_count_add(c, SG_ATTACK_DONE, done);
	attack_put(c, &a);
}

static void detector_program(struct ctx *c)
{
	struct sg_attack a;
	__u64 done0;

	setup(c, CFG("attack_syn_rate=auto", "attack_half_open=off", "unproven_rate=0",
		     "cookies=never", "attack_hold=1"));
	attack_set(c, false);
	done0 = attack_count(c, SG_ATTACK_DONE);
	handshake(c, "198.18.40.1", 42000);
	expect(c, "detector: a remote end's completed handshake is counted as answered",
	       attack_count(c, SG_ATTACK_DONE) - done0, 1);

	/* 3000 SYNs, 2900 answered: 100 unanswered, calm; learned. */
	attack_window_due(c, 3000, 2900, 0, false);
	send_n(c, &SYN_FROM("198.18.41.1"), 1);
	a = attack_get(c);
	expect(c, "detector: the window's SYNs", a.last_rate, 3000);
	expect(c, "detector: its unanswered SYNs", a.unanswered, 100);
	expect(c, "detector: a busy calm window does not enter (3000 SYN/s, 100 unanswered)",
	       a.active, 0);
	expect(c, "detector: the threshold in force is the floor", a.syn_threshold,
	       SG_AUTO_SYN_FLOOR);
	expect(c, "detector: the calm window learned (EWMA of 100)", a.baseline_fp,
	       detect_learn(0, 100, SG_AUTO_SYN_FLOOR));
	expect(c, "detector: learned windows counted", a.learned, 1);

	/* A learned baseline of 500: threshold 4000; 3999 unanswered stays calm. */
	attack_window_due(c, 3999, 0, 500ULL << SG_AUTO_FP_SHIFT, false);
	send_n(c, &SYN_FROM("198.18.41.2"), 1);
	a = attack_get(c);
	expect(c, "detector: 3999 unanswered under the learned 4000: calm", a.active, 0);
	expect(c, "detector: the threshold in force, 8 x 500", a.syn_threshold, 4000);

	/* 4000 unanswered: enters, by the SYN rate, and learns nothing. */
	attack_window_due(c, 4000, 0, 500ULL << SG_AUTO_FP_SHIFT, false);
	expect(c, "detector: the window that reaches it enters; an unproven SYN dropped",
	       send_n(c, &SYN_FROM("198.18.41.3"), 1), 0);
	a = attack_get(c);
	expect(c, "detector: on", a.active, 1);
	expect(c, "detector: why: the SYN rate", a.why, SG_WHY_SYN_RATE);
	expect(c, "detector: entering learns nothing", a.baseline_fp, 500ULL << SG_AUTO_FP_SHIFT);

	/* Hysteresis: under the threshold but not under half of it stays on. */
	attack_window_due(c, 2500, 0, 500ULL << SG_AUTO_FP_SHIFT, true);
	send_n(c, &SYN_FROM("198.18.41.4"), 1);
	a = attack_get(c);
	expect(c, "detector: 2500 unanswered (over 50% of 4000): stays on", a.active, 1);
	expect(c, "detector: ... not calm", a.calm_since_ns, 0);
	expect(c, "detector: nothing learned while on", a.baseline_fp, 500ULL << SG_AUTO_FP_SHIFT);
	/* Calm (1999 < 2000) starts the hold; still on until attack_hold passes. */
	attack_window_due(c, 1999, 0, 500ULL << SG_AUTO_FP_SHIFT, true);
	send_n(c, &SYN_FROM("198.18.41.5"), 1);
	a = attack_get(c);
	expect(c, "detector: 1999 unanswered (under 50%): calm, the hold begins",
	       a.active == 1 && a.calm_since_ns != 0, 1);
	expect(c, "detector: nothing learned during the hold", a.baseline_fp,
	       500ULL << SG_AUTO_FP_SHIFT);

	/* Answered SYNs are not a flood: 50000 SYNs, all completed. */
	attack_window_due(c, 50000, 50000, 0, false);
	send_n(c, &SYN_FROM("198.18.41.6"), 1);
	a = attack_get(c);
	expect(c, "detector: 50000 SYN/s all answered (a NAT gateway) does not enter",
	       a.active, 0);

	/* A flood the per-source limit stops is not in the window's rate. */
	setup(c, CFG("attack_syn_rate=auto", "attack_half_open=off", "src_rate=1",
		     "src_burst=1", "cookies=never"));
	attack_window_due(c, 0, 0, 0, false);
	send_n(c, &SYN_FROM("198.18.41.8"), 1);		/* rolls; a new window */
	{
		__u64 s0 = attack_count(c, SG_ATTACK_SYNS);

		expect(c, "detector: one source, 6 SYNs, a burst of 1: 5 dropped",
		       send_n(c, &SYN_FROM("198.18.41.9"), 6), 1);
		a = attack_get(c);
		a.window_ns = mono_ns() - 1050000000ULL;
		a.roll_jiffy = 0;
		attack_put(c, &a);
		send_n(c, &SYN_FROM("198.18.41.10"), 1);
		a = attack_get(c);
		expect(c, "detector: every SYN counted (6, and the one that rolls)",
		       attack_count(c, SG_ATTACK_SYNS) - s0, 7);
		/* The window: the SYN that opened it and the 6, less the 5 dropped. */
		expect(c, "detector: the window's rate is what passed the per-source limit (2)",
		       a.last_rate, 2);
	}

	/* Half-open: a set threshold, why says so. */
	setup(c, CFG("attack_syn_rate=auto", "attack_half_open=1", "unproven_rate=0",
		     "cookies=never", "half_open_timeout=5"));
	attack_window_due(c, 0, 0, 0, false);
	handshake(c, "198.18.40.2", 42001);	/* the completed one resolves its slot */
	send_n(c, &SYN_FROM("198.18.40.3", .sport = 42002), 1);
	send_out(c, &(struct pkt_spec){ .family = 4, .src = "198.18.0.1", .dst = "198.18.40.3",
					.sport = 80, .dport = 42002, .seq = 5000,
					.ack_seq = 1001, .tcp_flags = PKT_SYN | PKT_ACK });
	attack_window_due(c, 1, 0, 0, false);
	send_n(c, &SYN_FROM("198.18.41.7"), 1);
	a = attack_get(c);
	expect(c, "detector: one half-open flow over attack_half_open=1 enters", a.active, 1);
	expect(c, "detector: why: half-open", a.why, SG_WHY_HALF_OPEN);
	attack_set(c, false);
}

/*
 * src_rate counts a source's unanswered SYNs: a completed handshake gives
 * its SYN back.  In attack mode it limits proven sources too.
 */
static void src_refund(struct ctx *c)
{
	int passed;

	setup(c, CFG("src_rate=1", "src_burst=2"));
	handshake(c, "198.18.42.1", 43000);
	handshake(c, "198.18.42.1", 43001);
	handshake(c, "198.18.42.1", 43002);
	expect(c, "refund: three handshakes from a source with a burst of 2 all complete",
	       d_stat(c, SG_FLOW_COMPLETED), 3);
	passed = send_n(c, &SYN_FROM("198.18.42.1", .sport = 43010), 1) +
		 send_n(c, &SYN_FROM("198.18.42.1", .sport = 43011), 1);
	expect(c, "refund: the bucket is full again after them: 2 unanswered SYNs pass",
	       passed, 2);
	expect(c, "refund: the third unanswered SYN is over",
	       send_n(c, &SYN_FROM("198.18.42.1", .sport = 43012), 1), 0);

	setup(c, CFG("src_rate=1", "src_burst=3", "attack_syn_rate=1000000",
		     "unproven_rate=0", "cookies=never"));
	proven_clear(c);
	handshake(c, "198.18.42.2", 43100);
	attack_set(c, true);
	/* Its handshake's SYN was given back: the whole burst of 3, then over. */
	passed = send_n(c, &SYN_FROM("198.18.42.2", .sport = 43101), 5);
	expect(c, "proven allowance: in attack mode a proven source's flood is limited (3 of 5)",
	       passed, 3);
	expect(c, "proven allowance: passed as proven", d_stat(c, SG_ATTACK_PROVEN), 3);
	expect(c, "proven allowance: the rest dropped by src_rate", d_reason(c, SG_R_SRC_RATE), 2);
	attack_set(c, false);
}

/* Runs @spec once; its XDP verdict. */
static int run1(struct ctx *c, const struct pkt_spec *spec)
{
	__u8 frame[PKT_MAX_FRAME];
	int len = pkt_build(spec, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len);

	if (len <= 0 || bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_xdp), &o))
		return -1;
	return o.retval;
}

static long long src_entries(struct ctx *c)
{
	struct sg_src_key k, next;
	long long n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd(c->skel->maps.sg_src), prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* One TAP line: ok if @cond; @got shown either way. */
static void expect_in(struct ctx *c, const char *desc, long long got, long long lo, long long hi)
{
	bool in = got >= lo && got <= hi;

	c->n++;
	c->failed += !in;
	printf("%sok %d - %s (%lld, in [%lld, %lld])\n", in ? "" : "not ", c->n, desc, got, lo,
	       hi);
}

/* @n SYNs from @n distinct sources of 198.19.0.0/16: how many got @verdict. */
static int distinct_syns(struct ctx *c, int n, int verdict)
{
	char addr[32];
	int i, tx = 0;

	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "198.19.%d.%d", i / 250, i % 250 + 1);
		tx += run1(c, &SYN_FROM(addr)) == verdict;
	}
	return tx;
}

/*
 * A SYN answered with a cookie leaves no state, so one such SYN in
 * SG_SRC_SAMPLE (16), at random, goes through sg_src for 16: a spoofed
 * flood's new sources do not churn the LRU table, and a source that keeps
 * sending is limited within a few dozen SYNs.  SYNs that reach
 * the stack still enter it each time.  Bounds: 1000 new sources enter
 * about 62.5 (binomial, sd 7.7): [25, 110] is five sd either side.  A
 * lone source with a burst of 5 is answered until the second sample on
 * each CPU (sg_over is per CPU), at least its first SYN: on 2 CPUs a sum
 * of 4 geometric counts, mean 64, over 300 about once in 100,000.
 */
static void src_sample(struct ctx *c)
{
	const char *const always[] = { "src_rate=1", "src_burst=5", "cookies=always",
				       "attack_syn_rate=off", "attack_half_open=off", NULL };
	long long n;
	int tx, i;

	setup(c, always);
	c->skel->bss->sg_cookie_last_ns = 0;
	expect(c, "cookies=always: 1000 SYNs of 1000 new sources all answered",
	       distinct_syns(c, 1000, XDP_TX), 1000);
	n = src_entries(c);
	expect_in(c, "cookies=always: one new source in 16 of 1000 enters sg_src", n, 25, 110);

	setup(c, always);
	for (tx = 0, i = 0; i < 1000; i++)
		tx += run1(c, &SYN_FROM("198.19.7.7", .sport = 30000 + i)) == XDP_TX;
	expect_in(c, "cookies=always: a lone source's flood is limited (of 1000 answered)",
		  tx, 1, 300);
	expect(c, "cookies=always: the rest dropped by src_rate or its sg_over slot",
	       d_reason(c, SG_R_SRC_RATE), 1000 - tx);
	expect(c, "cookies=always: the lone source has its entry", src_entries(c), 1);

	setup(c, CFG("src_rate=1", "src_burst=5", "attack_syn_rate=off",
		     "attack_half_open=off"));
	tx = distinct_syns(c, 300, XDP_PASS);
	expect(c, "cookies=attack, no attack: 300 SYNs of new sources passed", tx, 300);
	expect(c, "cookies=attack, no attack: every one entered sg_src", src_entries(c), 300);

	setup(c, CFG("src_rate=1", "src_burst=5", "attack_syn_rate=1000000",
		     "unproven_rate=0", "cookies=attack"));
	proven_clear(c);
	attack_set(c, true);
	c->skel->bss->sg_cookie_last_ns = 0;
	expect(c, "attack mode, cookies: 1000 SYNs of 1000 new sources all answered",
	       distinct_syns(c, 1000, XDP_TX), 1000);
	n = src_entries(c);
	expect_in(c, "attack mode, cookies: one new source in 16 of 1000 enters sg_src", n, 25, 110);
	attack_set(c, false);

	setup(c, CFG("src_rate=1", "src_burst=5", "attack_syn_rate=1000000",
		     "unproven_rate=1000000", "unproven_burst=1000000", "cookies=never"));
	attack_set(c, true);
	tx = distinct_syns(c, 300, XDP_PASS);
	expect(c, "attack mode, cookies=never: 300 SYNs of new sources admitted", tx, 300);
	expect(c, "attack mode, cookies=never: every one entered sg_src", src_entries(c), 300);
	attack_set(c, false);
}

static void off(struct ctx *c)
{
	setup(c, CFG("src_rate=off"));
	expect(c, "src_rate=off: no limit", send_n(c, &SYN_FROM("198.18.11.1"), 50), 50);
	expect(c, "src_rate=off: nothing checked", d_stat(c, SG_SRC_LIMITED), 0);
}

/*
 * The express lane (bpf/express.bpf.h) against the general path.  Each
 * frame goes in three times: untagged and with one 802.1Q tag (both in
 * reach of the express lane) and with two tags (only the general path
 * parses those).  The verdicts must agree and every counter must move the
 * same, but `vlan` (not for the untagged one) and `express`, which shows
 * which lane judged the frame: @express says whether the lane must.
 */
static void lane_case(struct ctx *c, const char *desc, struct pkt_spec spec,
		      int want_verdict, bool express)
{
	const char *lane[3] = { "untagged", "one tag", "two tags" };
	struct sg_counters d[3], a, b;
	__u8 frame[PKT_MAX_FRAME];
	int verdict[3], i, j, len, bad = 0;
	char what[160];

	for (i = 0; i < 3; i++) {
		spec.vlan_tags = i;
		len = pkt_build(&spec, frame, sizeof(frame));
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len);

		stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &a);
		if (len <= 0 ||
		    bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_xdp), &o))
			verdict[i] = -1;
		else
			verdict[i] = o.retval;
		stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &b);
		books_check(&a, &b, desc);
		for (j = 0; j < SG_STAT_MAX; j++)
			d[i].stat[j] = b.stat[j] - a.stat[j];
		for (j = 0; j < SG_REASON_MAX; j++)
			d[i].reason[j] = b.reason[j] - a.reason[j];
	}
	for (i = 0; i < 3; i++) {
		snprintf(what, sizeof(what), "express lane: %s, %s: verdict", desc, lane[i]);
		expect(c, what, verdict[i], want_verdict);
		snprintf(what, sizeof(what), "express lane: %s, %s: %s", desc, lane[i],
			 i < 2 && express ? "the express lane judged it" : "the general path judged it");
		expect(c, what, d[i].stat[SG_EXPRESS], i < 2 && express);
	}
	/*
	 * The same counters moved, whichever lane: 0 against 1 tag, 1 against
	 * 2.  (Where the general path judges all three, what they change may
	 * differ: a first SYN, then its retransmissions.)
	 */
	for (i = 0; i < 2 && express; i++) {
		for (j = 0; j < SG_STAT_MAX; j++) {
			if (j == SG_EXPRESS || (i == 0 && j == SG_VLAN))
				continue;
			if (d[i].stat[j] != d[i + 1].stat[j]) {
				printf("#   %s: stat %d: %llu against %llu with %s\n", lane[i], j,
				       (unsigned long long)d[i].stat[j],
				       (unsigned long long)d[i + 1].stat[j], lane[i + 1]);
				bad++;
			}
		}
		for (j = 0; j < SG_REASON_MAX; j++) {
			if (d[i].reason[j] != d[i + 1].reason[j]) {
				printf("#   %s: reason %d: %llu against %llu with %s\n", lane[i], j,
				       (unsigned long long)d[i].reason[j],
				       (unsigned long long)d[i + 1].reason[j], lane[i + 1]);
				bad++;
			}
		}
	}
	if (express) {
		snprintf(what, sizeof(what), "express lane: %s: the same counters in all three",
			 desc);
		expect(c, what, bad, 0);
	}
	snprintf(what, sizeof(what), "express lane: %s: frames counted once each", desc);
	expect(c, what, d[0].stat[SG_FRAMES] + d[1].stat[SG_FRAMES] + d[2].stat[SG_FRAMES], 3);
}

/* sg_attack_syns summed over the CPUs. */
static __u64 syns_sum(struct ctx *c)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < libbpf_num_possible_cpus(); i++)
		n += cpu_syns(c, i);
	return n;
}

/* @addr proven just now: its sg_proven entry and its bit. */
static void proven_mark(struct ctx *c, const char *addr)
{
	struct sg_src_key k = proven_key(addr);
	__u64 t = mono_ns();

	bpf_map_update_elem(fd(c->skel->maps.sg_proven), &k, &t, BPF_ANY);
	proven_bit_set(c, addr);
}

#define ACK_FROM(addr, ...) SYN_FROM(addr, .tcp_flags = PKT_ACK, .seq = 1001, \
					 .ack_seq = 5000, __VA_ARGS__)

/* @spec's SYN in, the host's SYN-ACK out (tc egress), the ACK in: established. */
static void establish(struct ctx *c, struct pkt_spec spec)
{
	struct pkt_spec out = spec;
	__u8 frame[PKT_MAX_FRAME];
	int len;

	spec.vlan_tags = 2;
	spec.tcp_flags = PKT_SYN;
	spec.seq = 1000;
	spec.ack_seq = 0;
	send_n(c, &spec, 1);
	out.src = spec.dst, out.dst = spec.src;
	out.sport = spec.dport, out.dport = spec.sport;
	out.tcp_flags = PKT_SYN | PKT_ACK;
	out.seq = 4999;
	out.ack_seq = 1001;
	len = pkt_build(&out, frame, sizeof(frame));
	if (len > 0) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len);

		bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_egress), &o);
	}
	spec.tcp_flags = PKT_ACK;
	spec.seq = 1001;
	spec.ack_seq = 5000;
	send_n(c, &spec, 2);	/* completes, then fills this CPU's sg_ack slot */
}

static void express_lane(struct ctx *c)
{
	static const struct { const char *name; __u8 flags; enum sg_reason r; } bad[] = {
		{ "SYN+FIN", PKT_SYN | PKT_FIN, SG_R_SYN_FIN },
		{ "SYN+RST", PKT_SYN | PKT_RST, SG_R_SYN_RST },
		{ "FIN+RST", PKT_FIN | PKT_RST | PKT_ACK, SG_R_FIN_RST },
		{ "no flags", 0, SG_R_NO_FLAGS },
		{ "FIN without ACK", PKT_FIN, SG_R_NO_ACK },
	};
	static const char *const src[] = { "198.18.40.1", "2001:2::40:1" };
	char desc[96];
	__u64 syns;
	__u32 i, f;

	for (f = 0; f < 2; f++) {
		/* Malformed flags: dropped, counted under their reason; dry-run passes. */
		setup(c, CFG("src_rate=off"));
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(desc, sizeof(desc), "%s IPv%d", bad[i].name, f ? 6 : 4);
			lane_case(c, desc, SYN_FROM(src[f], .tcp_flags = bad[i].flags), XDP_DROP, true);
			snprintf(desc, sizeof(desc), "%s IPv%d: 3 counted as its reason",
				 bad[i].name, f ? 6 : 4);
			expect(c, desc, d_reason(c, bad[i].r), 3);
		}
		setup(c, CFG("dry_run=on"));
		snprintf(desc, sizeof(desc), "SYN+FIN IPv%d, dry-run", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .tcp_flags = PKT_SYN | PKT_FIN), XDP_PASS, true);

		/* A source sg_over knows is over: 2 SYNs through the general path first. */
		setup(c, CFG("src_rate=1", "src_burst=1"));
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
		snprintf(desc, sizeof(desc), "flood SYN IPv%d (src_rate)", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_DROP, true);
		snprintf(desc, sizeof(desc), "flood SYN IPv%d: ECN setup SYN", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .tcp_flags = PKT_SYN | PKT_ECE | PKT_CWR),
			  XDP_DROP, true);
		snprintf(desc, sizeof(desc), "flood SYN IPv%d: 1 admitted, 7 src_rate", f ? 6 : 4);
		expect(c, desc, d_reason(c, SG_R_SRC_RATE) * 10 + d_stat(c, SG_PASS), 71);
		snprintf(desc, sizeof(desc), "flood SYN IPv%d: another port, same source", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .dport = 8080), XDP_DROP, true);

		setup(c, CFG("src_rate=1", "src_burst=1", "block_time=60"));
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
		snprintf(desc, sizeof(desc), "blocked source IPv%d", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_DROP, true);
		snprintf(desc, sizeof(desc), "blocked source IPv%d: src_blocked", f ? 6 : 4);
		expect(c, desc, d_reason(c, SG_R_SRC_BLOCKED), 3);

		setup(c, CFG("src_rate=1", "src_burst=1", "dry_run=on"));
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
		snprintf(desc, sizeof(desc), "flood SYN IPv%d, dry-run", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_PASS, true);

		/* What the lane must leave to the general path. */
		setup(c, CFG("src_rate=1", "src_burst=1", "ports=443"));
		send_n(c, &SYN_FROM(src[f], .dport = 443, .vlan_tags = 2), 2);
		snprintf(desc, sizeof(desc), "SYN IPv%d to a port out of scope", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_PASS, false);
		setup(c, CFG("src_rate=1", "src_burst=1"));
		snprintf(desc, sizeof(desc), "SYN IPv%d, source not over", f ? 6 : 4);
		expect(c, desc, send_n(c, &SYN_FROM(src[f], .sport = 41000), 1), 1);
		expect(c, "  ...judged by the general path", d_stat(c, SG_EXPRESS), 0);
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
		list_add(c, false, f ? "2001:2::40:0/112" : "198.18.40.0/24");
		snprintf(desc, sizeof(desc), "SYN IPv%d over its limit but allow-listed", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .sport = 42000), XDP_PASS, false);
		setup(c, CFG("src_rate=1", "src_burst=1"));
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
		list_add(c, true, f ? "2001:2::99:0/112" : "198.18.99.0/24");
		snprintf(desc, sizeof(desc), "flood SYN IPv%d, a deny list of others", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_DROP, false);
		setup(c, CFG("src_rate=1", "src_burst=1", "attack_syn_rate=100000",
			     "cookies=never"));
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
		syns = syns_sum(c);
		snprintf(desc, sizeof(desc), "flood SYN IPv%d, attack detection on", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_DROP, true);
		snprintf(desc, sizeof(desc), "flood SYN IPv%d, attack detection on: 3 SYNs in its rate",
			 f ? 6 : 4);
		expect(c, desc, syns_sum(c) - syns, 3);

		/* Attack mode surely refusing unproven SYNs, no per-source limit. */
		for (i = 0; i < 2; i++) {
			const char *rate = i ? "unproven_rate=1" : "unproven_rate=0";

			setup(c, CFG("attack_syn_rate=1000000", rate, "unproven_burst=1",
				     "cookies=never"));
			proven_clear(c);
			attack_set(c, true);
			/* The general path reads the clock: a roll horizon (and a refusal one). */
			send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
			syns = syns_sum(c);
			snprintf(desc, sizeof(desc), "unproven SYN IPv%d in attack mode, %s", f ? 6 : 4,
				 rate);
			lane_case(c, desc, SYN_FROM(src[f]), XDP_DROP, true);
			snprintf(desc, sizeof(desc), "unproven SYN IPv%d, %s: 3 SYNs in its rate, "
				 "attack_unproven", f ? 6 : 4, rate);
			expect(c, desc, (syns_sum(c) - syns) * 10 + d_reason(c, SG_R_ATTACK_UNPROVEN),
			       i ? 34 : 35);
		}
		/* A proven source's SYN is sg_proven's to judge. */
		proven_mark(c, src[f]);
		snprintf(desc, sizeof(desc), "proven SYN IPv%d in attack mode", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .sport = 46000), XDP_PASS, false);
		proven_clear(c);
		/* A window due to end needs the clock (unproven_rate=1, a fresh bucket). */
		attack_set(c, true);
		snprintf(desc, sizeof(desc), "unproven SYN IPv%d, the window due: admitted", f ? 6 : 4);
		expect(c, desc, send_n(c, &SYN_FROM(src[f]), 1), 1);
		expect(c, "  ...judged by the general path (2 express before it)",
		       d_stat(c, SG_EXPRESS), 2);
		/* Cookies answer unproven SYNs: XDP_TX from the general path. */
		setup(c, CFG("attack_syn_rate=1000000", "unproven_rate=0", "cookies=attack"));
		attack_set(c, true);
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 1);
		snprintf(desc, sizeof(desc), "unproven SYN IPv%d in attack mode, cookies", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_TX, false);
		c->skel->bss->sg_cookie_last_ns = 0;
		/* A source over its limit sending what filter_tcp drops first. */
		setup(c, CFG("src_rate=1", "src_burst=1"));
		send_n(c, &SYN_FROM(src[f], .vlan_tags = 2), 2);
		snprintf(desc, sizeof(desc), "SYN IPv%d from port 0, source over", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .sport = 0), XDP_DROP, false);
		snprintf(desc, sizeof(desc), "SYN IPv%d to port 0, source over", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .dport = 0), XDP_DROP, false);
		snprintf(desc, sizeof(desc), "IPv%d: 6 port_zero, not src_rate", f ? 6 : 4);
		expect(c, desc, d_reason(c, SG_R_PORT_ZERO) * 10 + d_reason(c, SG_R_SRC_RATE), 61);
		send_n(c, &SYN_FROM(src[f], .src = f ? "2001:2::1" : "198.18.0.1", .vlan_tags = 2), 2);
		snprintf(desc, sizeof(desc), "land SYN IPv%d, source over", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f], .src = f ? "2001:2::1" : "198.18.0.1",
					    .sport = 80), XDP_DROP, false);
		snprintf(desc, sizeof(desc), "IPv%d: 3 land", f ? 6 : 4);
		expect(c, desc, d_reason(c, SG_R_LAND), 3);
		snprintf(desc, sizeof(desc), "ACK IPv%d from a martian source", f ? 6 : 4);
		lane_case(c, desc, ACK_FROM(f ? "::1" : "127.0.0.9", .dst = f ? "2001:2::1" : "198.18.0.1"),
			  XDP_DROP, false);

		/* ACKs of an established flow. */
		setup(c, CFG("src_rate=off"));
		establish(c, ACK_FROM(src[f], .sport = 43000 + f));
		snprintf(desc, sizeof(desc), "IPv%d handshake: completed", f ? 6 : 4);
		expect(c, desc, d_stat(c, SG_FLOW_COMPLETED), 1);
		snprintf(desc, sizeof(desc), "established ACK IPv%d", f ? 6 : 4);
		lane_case(c, desc, ACK_FROM(src[f], .sport = 43000 + f), XDP_PASS, true);
		snprintf(desc, sizeof(desc), "established ACK IPv%d with 100 bytes of data", f ? 6 : 4);
		lane_case(c, desc, ACK_FROM(src[f], .sport = 43000 + f, .payload_len = 100,
					    .tcp_flags = PKT_ACK | PKT_PSH), XDP_PASS, true);
		snprintf(desc, sizeof(desc), "ACK IPv%d of another flow", f ? 6 : 4);
		lane_case(c, desc, ACK_FROM(src[f], .sport = 44000 + f), XDP_PASS, false);
		snprintf(desc, sizeof(desc), "FIN+ACK IPv%d of the established flow", f ? 6 : 4);
		lane_case(c, desc, ACK_FROM(src[f], .sport = 43000 + f,
					    .tcp_flags = PKT_ACK | PKT_FIN), XDP_PASS, false);
	}
	/*
	 * While SYN cookies may be out (SG_COOKIE_LIFE_NS, 3 minutes after the
	 * last went out, by the coarse clock), every ACK is sg_decide's to
	 * check; after that the express lane's again.  The clock is moved by
	 * moving the time of the last cookie.
	 */
	setup(c, CFG("src_rate=off"));
	establish(c, ACK_FROM(src[0], .sport = 45000));
	lane_case(c, "established ACK, before cookies", ACK_FROM(src[0], .sport = 45000),
		  XDP_PASS, true);
	/* No socket behind it in this netns: checked as a cookie, invalid. */
	c->skel->bss->sg_cookie_last_ns = coarse_ns() - 1000000000ULL;
	lane_case(c, "established ACK, last cookie 1 s ago", ACK_FROM(src[0], .sport = 45000),
		  XDP_DROP, false);
	expect(c, "  ...cookies may still be out: the mark stays",
	       c->skel->bss->sg_cookie_last_ns != 0, 1);
	c->skel->bss->sg_cookie_last_ns = coarse_ns() - 181ULL * 1000000000ULL;
	{
		long long express = d_stat(c, SG_EXPRESS);

		expect(c, "established ACK, last cookie 3 min 1 s ago: passed",
		       send_n(c, &ACK_FROM(src[0], .sport = 45000), 1), 1);
		expect(c, "  ...by the general path, which clears the mark",
		       (d_stat(c, SG_EXPRESS) - express) * 10 + !!c->skel->bss->sg_cookie_last_ns, 0);
	}
	lane_case(c, "established ACK, the cookie window over", ACK_FROM(src[0], .sport = 45000),
		  XDP_PASS, true);
	c->skel->bss->sg_cookie_last_ns = 0;
}

/*
 * sg_over's horizon against GCRA itself, over 2.5 s of SYNs every
 * millisecond from one source at src_rate=20 (one each 50 ms), on one
 * CPU: the jiffy bound is learned after the first second (sg_jiffy), the
 * slots then cover most of each 50 ms, and never a SYN that GCRA, run
 * here on the send times (CLOCK_MONOTONIC is the program's clock), would
 * admit.
 */
static void jiffy_horizon(struct ctx *c)
{
	static const double hz[] = { 100, 250, 300, 1000 };
	__u64 t, start, tat = 0, T = 50000000ULL, tick[64] = {}, cached;
	int admitted = 0, sim = 0, ncpu = libbpf_num_possible_cpus(), i;
	bool known = false;
	cpu_set_t one, was;
	__u32 zero = 0;
	char what[128];

	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	setup(c, CFG("src_rate=20", "src_burst=1"));
	for (start = mono_ns(); (t = mono_ns()) - start < 2500000000ULL; usleep(1000)) {
		/* GCRA with burst 1: conforms when tat <= t, then tat = max(tat, t) + T */
		if (tat <= t) {
			sim++;
			tat = (tat > t ? tat : t) + T;
		}
		admitted += send_n(c, &SYN_FROM("198.18.41.1"), 1);
	}
	sched_setaffinity(0, sizeof(was), &was);
	snprintf(what, sizeof(what), "jiffy horizon: %d admitted, GCRA on the send times %d (+-1)",
		 admitted, sim);
	expect(c, what, admitted >= sim - 1 && admitted <= sim + 1, 1);
	cached = d_stat(c, SG_EXPRESS);
	snprintf(what, sizeof(what), "jiffy horizon: %llu of %lld drops cached (more than half)",
		 (unsigned long long)cached, d_reason(c, SG_R_SRC_RATE));
	expect(c, what, cached * 2 > (__u64)d_reason(c, SG_R_SRC_RATE), 1);
	if (ncpu > 0 && ncpu <= 8 &&
	    !bpf_map_lookup_elem(fd(c->skel->maps.sg_jiffy), &zero, tick)) {
		/* struct sg_jiffy per CPU: t0, j0, tick_ns; CPU 0's */
		for (i = 0; i < 4; i++)
			known |= tick[2] >= 1e9 / hz[i] && tick[2] <= 1.02e9 / hz[i];
		snprintf(what, sizeof(what), "jiffy horizon: learned a jiffy of %llu ns "
			 "(within 2%% over 1e9/HZ, HZ 100, 250, 300 or 1000)",
			 (unsigned long long)tick[2]);
		expect(c, what, known, 1);
	} else {
		expect(c, "jiffy horizon: sg_jiffy read", 0, 1);
	}
}

/*
 * A policy is published whole: written into the slot not in force, then
 * sg_policy_cur flips.  P1 = {ports=80, src_rate=off}, P2 = {ports=81,
 * src_rate=1}: under either, a SYN to port 80 passes; only a frame that saw
 * P2's config with P1's port set (half of each) drops it.
 */
#define PUBLISH_CFG(ports, rate) CFG("attack_syn_rate=off", "attack_half_open=off", \
				     "cookies=never", ports, rate, "src_burst=1")

struct publisher {
	struct synguard *skel;
	volatile bool stop;
	int writes;
};

static void *publish_loop(void *arg)
{
	struct publisher *w = arg;
	struct sg_policy p[2];
	const char *const *cfg[2] = { PUBLISH_CFG("ports=80", "src_rate=off"),
				      PUBLISH_CFG("ports=81", "src_rate=1") };
	int i;

	for (i = 0; i < 2; i++) {
		const char *const *a;

		policy_defaults(&p[i]);
		for (a = cfg[i]; *a; a++)
			policy_set(&p[i], *a);
	}
	while (!w->stop)
		policy_write(POLICY_FDS(w->skel), &p[w->writes++ & 1]);
	return NULL;
}

static void policy_publish(struct ctx *c)
{
	struct publisher w = { .skel = c->skel };
	const char *const *a;
	struct sg_policy next;
	struct sg_config cur;
	__u32 zero = 0, slot, other, k, i;
	int dropped80 = 0, sent = 0;
	pthread_t th;
	__u64 t0;

	/* The slot not in force is written without a frame seeing it. */
	setup(c, PUBLISH_CFG("ports=80", "src_rate=off"));
	bpf_map_lookup_elem(fd(c->skel->maps.sg_policy_cur), &zero, &slot);
	bpf_map_lookup_elem(fd(c->skel->maps.sg_config), &slot, &cur);
	expect(c, "publish: the slot in force holds its generation's parity",
	       cur.generation & 1, slot);
	policy_defaults(&next);
	for (a = PUBLISH_CFG("ports=80", "src_rate=1"); *a; a++)
		policy_set(&next, *a);
	next.cfg.generation = cur.generation + 1;
	other = slot ^ 1;
	bpf_map_update_elem(fd(c->skel->maps.sg_config), &other, &next.cfg, BPF_ANY);
	for (i = 0; i < SG_PORT_WORDS; i++) {
		k = other * SG_PORT_WORDS + i;
		bpf_map_update_elem(fd(c->skel->maps.sg_ports), &k, &next.ports[i], BPF_ANY);
	}
	expect(c, "publish: a policy written but not flipped to changes nothing",
	       send_n(c, &SYN_FROM("198.18.12.1"), 5), 5);
	bpf_map_update_elem(fd(c->skel->maps.sg_policy_cur), &zero, &other, BPF_ANY);
	expect(c, "publish: the flip puts it in force (src_rate=1, burst 1)",
	       send_n(c, &SYN_FROM("198.18.12.2"), 5), 1);

	/* Policies published while frames run: never half of each. */
	setup(c, PUBLISH_CFG("ports=80", "src_rate=off"));
	pthread_create(&th, NULL, publish_loop, &w);
	for (t0 = mono_ns(); mono_ns() - t0 < 1000000000ULL; sent++) {
		/* Port 81 keeps the source over its limit under P2. */
		send_n(c, &SYN_FROM("198.18.12.3", .dport = 81), 1);
		dropped80 += 1 - send_n(c, &SYN_FROM("198.18.12.3"), 1);
	}
	w.stop = true;
	pthread_join(th, NULL);
	printf("# %d policies published while %d SYN pairs ran\n", w.writes, sent);
	expect(c, "publish: no SYN to port 80 saw P2's config with P1's ports",
	       dropped80, 0);
	expect(c, "publish: the publisher really ran (>= 20 policies)", w.writes >= 20, 1);
}

/* KEY=VALUE in, what `config show` prints for KEY out; NULL: refused. */
static const struct key_case {
	const char *set, *shown;
} key_cases[] = {
	{ "dry_run=yes", "on" }, { "dry_run=0", "off" }, { "dry_run=maybe", NULL },
	{ "unparsed=pass", "pass" }, { "unparsed=off", NULL },
	{ "src_rate=off", "off" }, { "src_rate=4294967295", "4294967295" },
	{ "src_rate=0", NULL }, { "src_rate=4294967296", NULL }, { "src_rate=-1", NULL },
	{ "src_rate=", NULL }, { "src_rate=auto", NULL }, { "src_burst=off", NULL },
	{ "prefix4=0", "0" }, { "prefix4=33", NULL }, { "prefix6=128", "128" },
	{ "prefix6=129", NULL },
	{ "block_time=0", "0" }, { "block_time=1234.5678", "1234.5678" },
	{ "block_time=.5", "0.5" }, { "block_time=0.000000001", "0.000000001" },
	{ "block_time=0.0000000004", NULL }, { "block_time=86401", NULL },
	{ "block_time=off", NULL },
	{ "ports=443,80,81,82", "80-82,443" }, { "ports=1-65535", "1-65535" },
	{ "ports=all", "all" }, { "ports=90-80", NULL }, { "ports=80,", NULL },
	{ "ports=0", NULL },
	{ "attack_syn_rate=auto", "auto" }, { "attack_syn_rate=off", "off" },
	{ "attack_syn_rate=5000", "5000" }, { "attack_half_open=auto", "auto" },
	{ "attack_half_open=0", NULL },
	{ "attack_hold=3600", "3600" }, { "attack_hold=3601", NULL },
	{ "attack_leave_pct=100", "100" }, { "attack_leave_pct=101", NULL },
	{ "unproven_rate=0", "0" }, { "unproven_rate=off", NULL },
	{ "unproven_burst=0", NULL },
	{ "proven_time=2592000", "2592000" }, { "proven_time=2592001", NULL },
	{ "proven_time=1.5", NULL },
	{ "half_open_timeout=86400", "86400" }, { "time_wait_timeout=0", NULL },
	{ "cookies=always", "always" }, { "cookies=Always", NULL },
	{ "cookie_mss4=536", "536" }, { "cookie_mss4=535", NULL },
	{ "cookie_mss6=65475", "65475" }, { "cookie_mss6=65476", NULL },
	{ "cookie_wscale=14", "14" }, { "cookie_wscale=15", NULL },
};

/* Every key, none at its default. */
static const char *const every_key[] = {
	"dry_run=on", "unparsed=pass", "src_rate=123", "src_burst=77", "prefix4=24",
	"prefix6=48", "block_time=2.5", "ports=80,443,8000-8100", "attack_syn_rate=5000",
	"attack_half_open=off", "attack_hold=9", "attack_leave_pct=30", "unproven_rate=0",
	"unproven_burst=3", "proven_time=60", "half_open_timeout=30", "time_wait_timeout=10",
	"cookies=always", "cookie_mss4=1400", "cookie_mss6=1380", "cookie_wscale=9", NULL
};

/* policy_print()'s or policy_print_json()'s output, malloc'd. */
static char *policy_text(const struct sg_policy *p, bool json)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (json)
		policy_print_json(p, NULL, f);
	else
		policy_print(p, f);
	fclose(f);
	return s;
}

/* The value of KEY's line in policy_print()'s output @text, or "". */
static const char *shown_value(const char *text, const char *key, char *buf, size_t len)
{
	size_t n = strlen(key);
	const char *l;

	for (l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, n) && l[n] == '=') {
			snprintf(buf, len, "%.*s", (int)strcspn(l + n + 1, "\n"), l + n + 1);
			return buf;
		}
	return "";
}

/*
 * Every key's parse and print through its descriptor: values taken and
 * shown, values refused with one message naming the key, the policy as it
 * was; and a policy with every key set reads back from its own print.
 */
static void policy_keys_text(struct ctx *c)
{
	char desc[160], got[128], key[POLICY_KEY_NAME_MAX], line[512], scratch[512];
	struct sg_policy p, was, back;
	const struct key_case *kc;
	const struct policy_key *k;
	const char *const *a;
	char *text, *text2;
	int saved, rc, bad = 0, lines;
	FILE *err = tmpfile();

	for (kc = key_cases; kc < key_cases + sizeof(key_cases) / sizeof(key_cases[0]); kc++) {
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(kc->set, "="), kc->set);
		policy_defaults(&p);
		was = p;
		fflush(stderr);
		saved = dup(2);
		rewind(err);
		if (ftruncate(fileno(err), 0))
			break;
		dup2(fileno(err), 2);
		rc = policy_set(&p, kc->set);
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		rewind(err);
		line[0] = '\0';
		for (lines = 0; fgets(lines ? scratch : line, sizeof(line), err); )
			lines++;
		if (kc->shown) {
			text = policy_text(&p, false);
			snprintf(desc, sizeof(desc), "keys: %s shows %s=%s", kc->set, key, kc->shown);
			if (rc || strcmp(shown_value(text, key, got, sizeof(got)), kc->shown) ||
			    !policy_key_set(&p, key)) {
				printf("not ok %d - %s\n#   rc %d, shown '%s'\n", ++c->n, desc, rc, got);
				c->failed++;
			} else {
				printf("ok %d - %s\n", ++c->n, desc);
			}
			free(text);
			continue;
		}
		snprintf(desc, sizeof(desc), "keys: %s refused, one message naming %s, policy as it was",
			 kc->set, key);
		snprintf(got, sizeof(got), "synguard: %s takes ", key);
		if (rc != -EINVAL || lines != 1 || strncmp(line, got, strlen(got)) ||
		    memcmp(&p, &was, sizeof(p))) {
			printf("not ok %d - %s\n#   rc %d, %d lines on stderr: %.*s\n", ++c->n, desc,
			       rc, lines, (int)strcspn(line, "\n"), line);
			c->failed++;
		} else {
			printf("ok %d - %s\n", ++c->n, desc);
		}
	}
	fclose(err);

	/* A number after auto is no longer auto; auto after a number is. */
	policy_defaults(&p);
	policy_set(&p, "attack_syn_rate=5000");
	text = policy_text(&p, false);
	expect(c, "keys: attack_syn_rate=5000 after auto clears auto",
	       !strcmp(shown_value(text, "attack_syn_rate", got, sizeof(got)), "5000") &&
	       p.cfg.attack_syn_rate == 5000 && !(p.cfg.flags & SG_CFG_AUTO_SYN_RATE), 1);
	free(text);
	policy_set(&p, "attack_syn_rate=auto");
	expect(c, "keys: attack_syn_rate=auto after a number: the floor and the flag",
	       p.cfg.attack_syn_rate == SG_AUTO_SYN_FLOOR && (p.cfg.flags & SG_CFG_AUTO_SYN_RATE), 1);
	policy_set(&p, "proven_time=7");
	expect(c, "keys: proven_time=7 is kept in nanoseconds", p.cfg.proven_ns, 7000000000LL);

	/* Every key away from its default, printed, read back line by line. */
	policy_defaults(&p);
	for (a = every_key; *a; a++)
		bad |= policy_set(&p, *a);
	text = policy_text(&p, false);
	policy_defaults(&was);
	text2 = policy_text(&was, false);
	for (k = policy_keys, lines = 0; k->name; k++)
		lines += !strcmp(shown_value(text, k->name, got, sizeof(got)),
				 shown_value(text2, k->name, line, sizeof(line)));
	expect(c, "keys: every key set away from its default (keys left at it)", lines, 0);
	free(text2);
	policy_defaults(&back);
	for (char *l = text, *nl; (nl = strchr(l, '\n')); l = nl + 1) {
		*nl = '\0';
		bad |= policy_set(&back, l);
		*nl = '\n';
	}
	text2 = policy_text(&back, false);
	expect(c, "keys: a policy's print reads back to the same print", !bad && !strcmp(text, text2), 1);
	free(text);
	free(text2);
	text = policy_text(&p, true);
	text2 = policy_text(&back, true);
	expect(c, "keys: ...and to the same --json", !strcmp(text, text2), 1);
	diag_line("policy with every key set: %.*s", (int)strcspn(text, "\n"), text);
	free(text);
	free(text2);
}

/* policy_print_changes()'s line from @old to @new, malloc'd. */
static char *changes_text(const struct sg_policy *old, const struct sg_policy *new, bool json)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	policy_print_changes(old, new, json, f);
	fclose(f);
	return s;
}

/* `config set`'s one line: what changed, as `config show` spells it. */
static void policy_changes(struct ctx *c)
{
	struct sg_policy old, new;
	char *s;

	policy_defaults(&old);
	new = old;
	policy_set(&new, "block_time=30");
	policy_set(&new, "src_rate=200");
	policy_set(&new, "dry_run=off");	/* as it was: not a change */
	s = changes_text(&old, &new, false);
	expect(c, "changes: two keys, in the table's order, one line",
	       !strcmp(s, "src_rate 100 -> 200, block_time 0 -> 30\n"), 1);
	diag_line("config set's line: %.*s", (int)strcspn(s, "\n"), s);
	free(s);
	s = changes_text(&old, &new, true);
	expect(c, "changes: --json, one object of old and new values",
	       !strcmp(s, "{\"src_rate\":{\"old\":\"100\",\"new\":\"200\"},"
			  "\"block_time\":{\"old\":\"0\",\"new\":\"30\"}}\n"), 1);
	free(s);
	s = changes_text(&old, &old, false);
	expect(c, "changes: none says \"no change\"", !strcmp(s, "no change\n"), 1);
	free(s);
	s = changes_text(&old, &old, true);
	expect(c, "changes: none, --json: {}", !strcmp(s, "{}\n"), 1);
	free(s);
	/* auto whose value the host changed is still auto: nothing to say. */
	new = old;
	new.cfg.attack_half_open = old.cfg.attack_half_open + 1;
	policy_set(&new, "ports=443");
	s = changes_text(&old, &new, false);
	expect(c, "changes: what show prints, not the fields (auto stays auto)",
	       !strcmp(s, "ports all -> 443\n"), 1);
	free(s);
}

/* --- events (bpf/events.bpf.h) ------------------------------------------- */

/* Everything the buffer holds into @l, consumed. */
static void ev_drain(struct ctx *c, struct ev_log *l)
{
	ev_read(fd(c->skel->maps.sg_events), l);
}

/* setup(), an empty buffer and full token buckets on every CPU. */
static void ev_setup(struct ctx *c, const char *const *assign, struct ev_log *l)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sg_ev_cpu zero[ncpu > 0 ? ncpu : 1];
	__u32 k = 0;

	setup(c, assign);
	memset(zero, 0, sizeof(zero));
	bpf_map_update_elem(fd(c->skel->maps.sg_ev_cpu), &k, zero, BPF_ANY);
	ev_drain(c, l);
}

static void events_sources(struct ctx *c)
{
	static struct ev_log l;
	const struct sg_event *e;
	struct sg_src_key key = { .addr = { 198, 18, 50, 1 }, .family = 4, .prefix = 32 };
	struct sg_src_state st;

	ev_setup(c, CFG("src_rate=1", "src_burst=2"), &l);
	send_n(c, &SYN_FROM("198.18.50.1"), 20);
	ev_drain(c, &l);
	expect(c, "events: 18 drops of one source, one src_limited", ev_count(&l, SG_EV_SRC_LIMITED), 1);
	expect(c, "events: ...and nothing else", l.n, 1);
	e = ev_first(&l, SG_EV_SRC_LIMITED);
	expect(c, "events: src_limited at its first drop: syns 3, dropped 1",
	       e ? (long long)(e->v[0] * 10 + e->v[1]) : -1, 31);
	expect(c, "events: ...the source, as its sg_src key",
	       e ? e->family * 1000 + e->prefix + !memcmp(e->addr, key.addr, 16) * 100000 : -1,
	       104032);
	expect(c, "events: ...the limit (src_rate, src_burst)",
	       e ? (long long)e->aux * 10 + e->aux2 : -1, 12);
	expect(c, "events: counted in events", d_stat(c, SG_EVENTS), 1);

	/* Its bucket full again (tat behind now): the next SYN releases it. */
	{
		/* ...and no sg_over slot of any CPU remembers it over. */
		int ncpu = libbpf_num_possible_cpus();
		struct sg_over none[ncpu > 0 ? ncpu : 1];
		__u32 k;

		memset(none, 0, sizeof(none));
		for (k = 0; k < SG_OVER_SLOTS; k++)
			bpf_map_update_elem(fd(c->skel->maps.sg_over), &k, none, BPF_ANY);
	}
	bpf_map_lookup_elem(fd(c->skel->maps.sg_src), &key, &st);
	st.tat = 0;
	bpf_map_update_elem(fd(c->skel->maps.sg_src), &key, &st, BPF_EXIST);
	expect(c, "events: a SYN after it calmed passes", send_n(c, &SYN_FROM("198.18.50.1"), 1), 1);
	ev_drain(c, &l);
	e = ev_first(&l, SG_EV_SRC_RELEASED);
	expect(c, "events: one src_released", ev_count(&l, SG_EV_SRC_RELEASED) * 10 + l.n, 11);
	/* sg_over's 17 pending drops went with its slots, cleared above. */
	expect(c, "events: ...with its syns (4) and drops (1) in sg_src",
	       e ? (long long)(e->v[0] * 100 + e->v[1]) : -1, 401);
	send_n(c, &SYN_FROM("198.18.50.1"), 5);
	ev_drain(c, &l);
	expect(c, "events: over again: a new episode, one src_limited",
	       ev_count(&l, SG_EV_SRC_LIMITED) * 10 + l.n, 11);

	ev_setup(c, CFG("src_rate=1", "src_burst=1", "block_time=60"), &l);
	send_n(c, &SYN_FROM("2001:2::50:1"), 20);
	ev_drain(c, &l);
	e = ev_first(&l, SG_EV_SRC_BLOCKED);
	expect(c, "events: a blocked source, once per block", ev_count(&l, SG_EV_SRC_BLOCKED) * 10 + l.n, 11);
	expect(c, "events: ...with block_ns, as its /64",
	       e ? (long long)(e->v[2] / 1000000000ULL) * 1000 + e->prefix : -1, 60064);
}

/*
 * 300 sources over their limit in a moment: the token bucket (burst 100
 * per CPU) lets about 100 through on this CPU, the rest are counted.
 */
static void events_rate_limit(struct ctx *c)
{
	static struct ev_log l;
	char a[32];
	long long w, sup;
	int i, total = 0;

	ev_setup(c, CFG("src_rate=1", "src_burst=1", "prefix4=32"), &l);
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof(a), "198.18.%d.%d", 60 + i / 200, 1 + i % 200);
		send_n(c, &SYN_FROM(a), 2);
	}
	ev_drain(c, &l);
	for (i = 0; i < l.n; i++)
		total += l.e[i].type == SG_EV_SRC_LIMITED;
	w = d_stat(c, SG_EVENTS);
	sup = d_stat(c, SG_EVENTS_SUPPRESSED);
	diag_line("300 limited sources: %lld events, %lld suppressed, %d read", w, sup, l.n);
	expect(c, "rate limit: every transition written or suppressed", w + sup, 300);
	expect(c, "rate limit: what was written was read", total, w);
	expect(c, "rate limit: at least the burst written", w >= SG_EV_BURST, 1);
	expect(c, "rate limit: at most a burst per CPU (+1 a refill) written",
	       w <= (long long)(SG_EV_BURST + 2) * libbpf_num_possible_cpus(), 1);
	expect(c, "rate limit: nothing lost", d_stat(c, SG_EVENTS_LOST), 0);
}

/* A denied source: one event at its first hit, then one an interval. */
static void events_deny(struct ctx *c)
{
	static struct ev_log l;
	const struct sg_event *e;
	struct sg_ev_deny d;
	__u32 i;

	ev_setup(c, CFG("src_rate=off"), &l);
	list_add(c, true, "198.18.70.0/24");
	send_n(c, &SYN_FROM("198.18.70.5"), 10);
	send_n(c, &SYN_FROM("198.18.70.5", .tcp_flags = PKT_ACK), 5);
	ev_drain(c, &l);
	e = ev_first(&l, SG_EV_DENY_HITS);
	expect(c, "deny events: 15 hits in the interval, one deny_hits",
	       ev_count(&l, SG_EV_DENY_HITS) * 10 + l.n, 11);
	expect(c, "deny events: ...the exact source, the entry's hits ever (1 at the first)",
	       e ? (long long)(e->prefix * 10 + e->v[1] + (e->addr[3] == 5) * 1000) : -1, 1321);
	/* The interval over: the slot's end moved back. */
	for (i = 0; i < SG_EV_DENY_SLOTS; i++) {
		if (bpf_map_lookup_elem(fd(c->skel->maps.sg_ev_deny), &i, &d) || d.family != 4 ||
		    d.src[2] != 70)
			continue;
		d.until = 0;
		bpf_map_update_elem(fd(c->skel->maps.sg_ev_deny), &i, &d, BPF_ANY);
	}
	send_n(c, &SYN_FROM("198.18.70.5"), 3);
	ev_drain(c, &l);
	e = ev_first(&l, SG_EV_DENY_HITS);
	expect(c, "deny events: after the interval, one more", l.n, 1);
	expect(c, "deny events: ...the entry's hits since the last (15), ever (16)",
	       e ? (long long)(e->v[0] * 100 + e->v[1]) : -1, 1516);
	send_n(c, &SYN_FROM("198.18.70.6"), 1);
	ev_drain(c, &l);
	expect(c, "deny events: another source of the entry has its own",
	       ev_count(&l, SG_EV_DENY_HITS), 1);
}

/* The buffer's records into @l: one of @type and nothing else (@desc); it. */
static const struct sg_event *ev_only(struct ctx *c, struct ev_log *l, __u32 type,
				      const char *desc)
{
	ev_drain(c, l);
	expect(c, desc, ev_count(l, type) * 10 + l->n, 11);
	return ev_first(l, type);
}

/*
 * Attack mode entered and left: one event each, with the window's rate,
 * the thresholds and why.  A calm SYN first (after two windows without:
 * attack mode off whatever came before), then 20 more in its window.
 */
static void events_attack(struct ctx *c)
{
	static struct ev_log l;
	const struct sg_event *e;
	char addr[32];
	int i;

	ev_setup(c, CFG("attack_syn_rate=10", "unproven_rate=0", "attack_hold=1",
			"cookies=never", "src_rate=off"), &l);
	usleep(2200 * 1000);
	send_n(c, &SYN_FROM("198.18.80.1"), 1);
	ev_drain(c, &l);
	expect(c, "attack events: a calm start: no attack_enter",
	       ev_count(&l, SG_EV_ATTACK_ENTER), 0);
	for (i = 0; i < 20; i++) {
		snprintf(addr, sizeof(addr), "198.18.81.%d", i + 1);
		send_n(c, &SYN_FROM(addr), 1);
	}
	ev_drain(c, &l);
	expect(c, "attack events: 21 SYNs in the window, not judged yet: none", l.n, 0);
	wait_window();
	send_n(c, &SYN_FROM("198.18.82.1"), 3);
	e = ev_only(c, &l, SG_EV_ATTACK_ENTER,
		    "attack events: the next window: one attack_enter, nothing else");
	expect(c, "attack events: ...the window's rate (21), the SYN threshold (10)",
	       e ? (long long)(e->v[0] * 1000 + e->v[1]) : -1, 21010);
	expect(c, "attack events: ...why (syn_rate) and leave_pct (50)",
	       e ? (long long)(e->aux * 1000 + e->aux2) : -1, SG_WHY_SYN_RATE * 1000 + 50);
	usleep(2200 * 1000);	/* no SYN for two windows: calm, hold 1 s */
	send_n(c, &SYN_FROM("198.18.82.2"), 1);
	e = ev_only(c, &l, SG_EV_ATTACK_LEAVE,
		    "attack events: after the hold, one attack_leave, nothing else");
	expect(c, "attack events: ...the calm window's rate (0), the threshold (10)",
	       e ? (long long)(e->v[0] * 1000 + e->v[1]) : -1, 10);
	send_n(c, &SYN_FROM("198.18.82.3"), 1);
	ev_drain(c, &l);
	expect(c, "attack events: off: no more", l.n, 0);
}

/*
 * Pin directory names (pin_name(), user/common.c): bpffs refuses a '.',
 * so each is written "::"; a single ':' starts IFACE:new or IFACE:up.
 */
static void pin_names(struct ctx *c)
{
	char buf[64], small[8];

	expect(c, "pin name: eth0.100 is written eth0::100",
	       !pin_name(buf, sizeof(buf), "eth0.100") && !strcmp(buf, "eth0::100"), 1);
	expect(c, "pin name: a name without a dot is itself",
	       !pin_name(buf, sizeof(buf), "srv0") && !strcmp(buf, "srv0"), 1);
	expect(c, "pin name: ..x is ::::x",
	       !pin_name(buf, sizeof(buf), "..x") && !strcmp(buf, "::::x"), 1);
	expect(c, "pin name: too long for the buffer, refused",
	       pin_name(small, sizeof(small), "a.b.c.d"), -ENAMETOOLONG);
	expect(c, "pin name: fits exactly", !pin_name(small, sizeof(small), "ab.cd") &&
	       !strcmp(small, "ab::cd"), 1);
	pin_name_decode(buf, sizeof(buf), "eth0::100");
	expect(c, "pin name decoded: eth0::100 is eth0.100", !strcmp(buf, "eth0.100"), 1);
	pin_name_decode(buf, sizeof(buf), "eth0::100:new");
	expect(c, "pin name decoded: eth0::100:new keeps its suffix", !strcmp(buf, "eth0.100:new"), 1);
	pin_name_decode(small, sizeof(small), "abcdefghij::k");
	expect(c, "pin name decoded: truncated to the buffer", strlen(small), sizeof(small) - 1);
	expect(c, "pin suffix: none in eth0::100", pin_suffix("eth0::100") == NULL, 1);
	expect(c, "pin suffix: :new in eth0::100:new",
	       pin_suffix("eth0::100:new") && !strcmp(pin_suffix("eth0::100:new"), ":new"), 1);
	expect(c, "pin suffix: :up in srv0:up",
	       pin_suffix("srv0:up") && !strcmp(pin_suffix("srv0:up"), ":up"), 1);
	expect(c, "pin suffix: none in ::::x", pin_suffix("::::x") == NULL, 1);
	/* A netns name may hold ':': never one that would read back wrong. */
	expect(c, "pin name: ns:1 is itself",
	       !pin_name(buf, sizeof(buf), "ns:1") && !strcmp(buf, "ns:1"), 1);
	expect(c, "pin name: x::y refused (it would read back as x.y)",
	       pin_name(buf, sizeof(buf), "x::y"), -EINVAL);
	expect(c, "pin name: x:.y refused", pin_name(buf, sizeof(buf), "x:.y"), -EINVAL);
	expect(c, "pin name: x.:y refused", pin_name(buf, sizeof(buf), "x.:y"), -EINVAL);
}

int main(void)
{
	struct ctx c = {};

	setvbuf(stdout, NULL, _IOLBF, 0);
	c.skel = synguard__open_and_load();
	if (!c.skel)
		return tap_load_failed();
	pin_names(&c);
	policy_keys_text(&c);
	policy_changes(&c);
	per_source_bucket(&c);
	prefixes(&c);
	block_time(&c);
	ports(&c);
	lists(&c);
	dry_run(&c);
	off(&c);
	attack_mode(&c);
	attack_rate_cpus(&c);
	attack_bitmap(&c);
	attack_admit_horizon(&c);
	detector_arithmetic(&c);
	detector_program(&c);
	src_refund(&c);
	src_sample(&c);
	express_lane(&c);
	jiffy_horizon(&c);
	policy_publish(&c);
	events_sources(&c);
	events_rate_limit(&c);
	events_deny(&c);
	events_attack(&c);
	synguard__destroy(c.skel);
	c.failed += !books_report(++c.n);
	printf("1..%d\n%d passed, %d failed\n", c.n, c.n - c.failed, c.failed);
	return c.failed ? 1 : 0;
}
