// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_paths: what each path through synguard_xdp costs, against a
 * trivial XDP_DROP and XDP_PASS program measured on the same frames in the
 * same rounds: absolute figures drift on a shared machine, ratios measured
 * side by side hold.  BPF_PROG_TEST_RUN with a large
 * repeat gives the kernel's average ns per run; each row is the median of
 * several rounds, the programs interleaved within a round.
 *
 * Repeat runs the same frame again and again, so a path that changes state
 * is measured in the state its first run left: a new SYN becomes a
 * retransmitted SYN, a FIN a retransmitted FIN.  The second table measures
 * those first-time paths with distinct frames, each run once.
 *
 * Targets (issue 5 §1) are reported as met or missed, never asserted:
 * benchmarks are not tests.  Prints markdown.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_util.h"
#include "policy.h"
#include "testpolicy.h"
#include "stats.h"
#include "synguard.skel.h"
#include "trivial.skel.h"
#include "sg_reflect.skel.h"
#include "chain_test.skel.h"

#pragma GCC diagnostic ignored "-Woverride-init"

#define MAX_ROUNDS 15

struct bench {
	struct synguard *sg;
	struct trivial *tv;
	struct sg_reflect *rf;
	struct chain_test *ct;
	int xdp, egress, tdrop, tpass, ttx, treflect, tcookie;
	__u32 repeat;
	int rounds;
	__u32 once;		/* distinct frames per round in the run-once table */
	bool min;		/* the repeat table reports the min of the rounds */
	bool cookie_only;	/* -k: the cookie table alone */
	bool chain_only;	/* -t: the chain table alone */
	int missed, wrong;
};

#define CFG(...) (const char *const[]){ __VA_ARGS__, NULL }

/* TCP from a client to the server: SEG(addr, overrides...). */
#define SEG(addr, ...) (struct pkt_spec){ .family = strchr(addr, ':') ? 6 : 4,      \
	.src = addr, .dst = strchr(addr, ':') ? PKT_V6_DST : PKT_V4_DST,            \
	.sport = 40000, .dport = 80, .seq = 1000, .tcp_flags = PKT_SYN, __VA_ARGS__ }

/* A fresh policy, and empty flow and source tables. */
static void setup(struct bench *b, const char *const *assign)
{
	struct synguard *s = b->sg;
	struct sg_policy pol;

	if (test_policy(&pol, assign))
		exit(1);
	policy_write(POLICY_FDS(s), &pol);
	map_clear(bpf_map__fd(s->maps.sg_src));
	map_clear(bpf_map__fd(s->maps.sg_half));
	map_clear(bpf_map__fd(s->maps.sg_flows));
	/* No cookies out: an ACK is not a cookie ACK to check. */
	s->bss->sg_cookie_last_ns = 0;
}

/* CLOCK_MONOTONIC_COARSE: what bpf_ktime_get_coarse_ns() reads. */
static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The policy `synguard attach` writes with nothing set; empty tables. */
static void setup_defaults(struct bench *b)
{
	struct synguard *s = b->sg;
	struct sg_policy pol;

	policy_defaults(&pol);
	policy_attack_defaults_from_host(&pol);
	policy_write(POLICY_FDS(s), &pol);
	map_clear(bpf_map__fd(s->maps.sg_src));
	map_clear(bpf_map__fd(s->maps.sg_half));
	map_clear(bpf_map__fd(s->maps.sg_flows));
	s->bss->sg_cookie_last_ns = 0;
}

static __u32 run_spec(int prog, const struct pkt_spec *spec)
{
	struct frame f;
	__u32 ret = 0;

	frame_build(&f, spec);
	if (frame_run(prog, &f, 1, &ret) < 0) {
		fprintf(stderr, "bench_paths: test run: %s\n", strerror(errno));
		exit(1);
	}
	return ret;
}

/* The server's SYN-ACK to @syn, through the egress program. */
static struct pkt_spec synack_of(const struct pkt_spec *syn)
{
	struct pkt_spec s = *syn;

	s.src = syn->dst;
	s.dst = syn->src;
	s.sport = syn->dport;
	s.dport = syn->sport;
	s.seq = 5000;
	s.ack_seq = syn->seq + 1;
	s.tcp_flags = PKT_SYN | PKT_ACK;
	return s;
}

static struct pkt_spec ack_of(const struct pkt_spec *syn)
{
	struct pkt_spec s = *syn;

	s.seq = syn->seq + 1;
	s.ack_seq = 5001;
	s.tcp_flags = PKT_ACK;
	return s;
}

/* SYN in, SYN-ACK out, and with @ack the ACK in: a flow in sg_flows. */
static void handshake(struct bench *b, const struct pkt_spec *syn, bool ack)
{
	struct pkt_spec sa = synack_of(syn), a = ack_of(syn);

	run_spec(b->xdp, syn);
	run_spec(b->egress, &sa);
	if (ack)
		run_spec(b->xdp, &a);
}

static __u64 counter(struct bench *b, enum sg_stat st)
{
	struct sg_counters c;

	stats_read(bpf_map__fd(b->sg->maps.sg_stats), bpf_map__fd(b->sg->maps.sg_drops), &c);
	return c.stat[st];
}

/* The median of the rounds, or with -m their min (a neighbour only adds time). */
static double pick(const struct bench *b, double *v)
{
	double m = v[0];
	int i;

	if (!b->min)
		return bench_median(v, b->rounds);
	for (i = 1; i < b->rounds; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

/*
 * One row of the repeat table: synguard and both trivial programs on the
 * same frame, interleaved, @rounds times; medians.  @target is the ratio
 * the issue asks for (0: none).
 */
static void row(struct bench *b, const char *path, const struct pkt_spec *spec,
		bool drop, double target)
{
	double sg[MAX_ROUNDS], td[MAX_ROUNDS], tp[MAX_ROUNDS], base, m, ratio, median_ratio;
	__u32 ret = 0, want = drop ? XDP_DROP : XDP_PASS;
	struct frame f;
	int r;

	frame_build(&f, spec);
	for (r = 0; r < b->rounds; r++) {
		__u32 got;

		sg[r] = frame_run(b->xdp, &f, b->repeat, &got);
		if (r == 0)
			ret = got;
		td[r] = frame_run(b->tdrop, &f, b->repeat, NULL);
		tp[r] = frame_run(b->tpass, &f, b->repeat, NULL);
		if (sg[r] < 0 || td[r] < 0 || tp[r] < 0) {
			fprintf(stderr, "bench_paths: test run: %s\n", strerror(errno));
			exit(1);
		}
	}
	m = pick(b, sg);
	/* The medians too, beside the min: how much a busy neighbour moved them. */
	base = drop ? bench_median(td, b->rounds) : bench_median(tp, b->rounds);
	median_ratio = base > 0 ? bench_median(sg, b->rounds) / base : 0;
	td[0] = pick(b, td);
	tp[0] = pick(b, tp);
	base = drop ? td[0] : tp[0];
	ratio = base > 0 ? m / base : 0;
	printf("| %s | %s%s | %.1f | %.1f | %.1f | %.2fx %s |", path,
	       ret == XDP_DROP ? "DROP" : ret == XDP_PASS ? "PASS" : "?",
	       ret == want ? "" : " (WRONG)", m, td[0], tp[0], ratio, drop ? "DROP" : "PASS");
	if (b->min)
		printf(" %.2fx |", median_ratio);
	if (ret != want)
		b->wrong++;
	if (target > 0) {
		printf(" ≤ %.1fx | %s |\n", target, ratio <= target ? "met" : "**missed**");
		b->missed += ratio > target;
	} else {
		printf(" | |\n");
	}
}

static void repeat_table(struct bench *b)
{
	struct pkt_spec syn4 = SEG("198.18.1.1"), syn6 = SEG("2001:2:0:1::1");
	struct pkt_spec vsyn = SEG("198.18.1.2", .vlan_tags = 1);
	char addr[32];
	int i;

	printf("### Per path, BPF_PROG_TEST_RUN repeat %u (%s of %d rounds)\n\n",
	       b->repeat, b->min ? "min" : "median", b->rounds);
	printf("ns per packet as the kernel times it (opts.duration).  The ratio is to the "
	       "trivial program with the same verdict, run on the same frame in the same "
	       "rounds.\n\n");
	printf("| path | verdict | synguard ns | trivial DROP ns | trivial PASS ns | ratio |%s target | |\n",
	       b->min ? " ratio of the medians |" : "");
	printf("|---|---|---:|---:|---:|---:|%s---|---|\n", b->min ? "---:|" : "");

	setup(b, NULL);
	{
		/* Warm-up, discarded: the first timed runs of a process run slow. */
		struct frame w;

		frame_build(&w, &SEG("198.18.1.1", .tcp_flags = PKT_SYN | PKT_FIN));
		frame_run(b->xdp, &w, b->repeat, NULL);
		frame_run(b->tdrop, &w, b->repeat, NULL);
		frame_run(b->tpass, &w, b->repeat, NULL);
	}
	row(b, "malformed drop (SYN+FIN), IPv4", &SEG("198.18.1.1", .tcp_flags = PKT_SYN | PKT_FIN),
	    true, 1.3);
	row(b, "malformed drop (SYN+FIN), IPv6",
	    &SEG("2001:2:0:1::1", .tcp_flags = PKT_SYN | PKT_FIN), true, 1.3);
	row(b, "malformed drop (SYN+FIN), IPv4 in VLAN",
	    &SEG("198.18.1.1", .vlan_tags = 1, .tcp_flags = PKT_SYN | PKT_FIN), true, 1.3);

	/* One SYN takes the burst of 1; every SYN after it is over (1/s refills nothing). */
	setup(b, CFG("src_rate=1", "src_burst=1"));
	run_spec(b->xdp, &SEG("198.18.2.1", .sport = 1));
	run_spec(b->xdp, &SEG("2001:2:0:2::1", .sport = 1));
	run_spec(b->xdp, &SEG("198.18.2.2", .vlan_tags = 1, .sport = 1));
	row(b, "flood SYN, per-source limit (src_rate), IPv4", &SEG("198.18.2.1"), true, 1.5);
	row(b, "flood SYN, per-source limit (src_rate), IPv6", &SEG("2001:2:0:2::1"), true, 1.5);
	row(b, "flood SYN, per-source limit (src_rate), IPv4 in VLAN",
	    &SEG("198.18.2.2", .vlan_tags = 1), true, 1.5);

	/* Over the bucket once, then blocked for an hour: the src_blocked drop. */
	setup(b, CFG("src_rate=1", "src_burst=1", "block_time=3600"));
	for (i = 0; i < 2; i++) {
		run_spec(b->xdp, &SEG("198.18.2.1", .sport = 1 + i));
		run_spec(b->xdp, &SEG("2001:2:0:2::1", .sport = 1 + i));
	}
	row(b, "flood SYN, source blocked (src_rate, block_time), IPv4", &SEG("198.18.2.1"),
	    true, 1.5);
	row(b, "flood SYN, source blocked (src_rate, block_time), IPv6", &SEG("2001:2:0:2::1"),
	    true, 1.5);

	/*
	 * The default policy, nothing set (as `synguard attach IFACE`): one
	 * source past its burst of 500 unanswered SYNs, attack detection on.
	 */
	setup_defaults(b);
	for (i = 0; i < 501; i++) {
		run_spec(b->xdp, &SEG("198.18.2.1", .sport = 1 + i));
		run_spec(b->xdp, &SEG("2001:2:0:2::1", .sport = 1 + i));
	}
	row(b, "flood SYN, default policy (src_rate 100/500, attack auto), IPv4",
	    &SEG("198.18.2.1"), true, 0);
	row(b, "flood SYN, default policy (src_rate 100/500, attack auto), IPv6",
	    &SEG("2001:2:0:2::1"), true, 0);

	setup(b, NULL);
	row(b, "SYN admitted: first run inserts, the rest are retransmits (see below)",
	    &SEG("198.18.3.1"), false, 0);

	setup(b, NULL);
	handshake(b, &syn4, true);
	handshake(b, &syn6, true);
	handshake(b, &vsyn, true);
	if (counter(b, SG_FLOW_COMPLETED) < 3)
		fprintf(stderr, "bench_paths: a setup handshake did not complete\n");
	{
		struct pkt_spec a4 = ack_of(&syn4), a6 = ack_of(&syn6), av = ack_of(&vsyn);

		row(b, "established ACK, IPv4", &a4, false, 2.0);
		row(b, "established ACK, IPv6", &a6, false, 2.0);
		row(b, "established ACK, IPv4 in VLAN", &av, false, 2.0);
		/* The last cookie went out 3 min 1 s ago: its ACKs are over. */
		b->sg->bss->sg_cookie_last_ns = coarse_ns() - 181ULL * 1000000000ULL;
		row(b, "established ACK after a cookie, window over, IPv4", &a4, false, 2.0);
		b->sg->bss->sg_cookie_last_ns = 0;
	}
	{
		struct pkt_spec fin = ack_of(&syn4);

		fin.tcp_flags = PKT_FIN | PKT_ACK;
		row(b, "FIN+ACK on an established flow: first run closes, the rest are retransmits",
		    &fin, false, 0);
	}

	/*
	 * Attack mode is judged once per one-second window: a window over
	 * attack_syn_rate, then the first SYN of the next window enters it.
	 */
	/* cookies=never: the unproven SYN is dropped, not answered with a cookie. */
	setup(b, CFG("attack_syn_rate=10", "unproven_rate=0", "cookies=never"));
	for (i = 0; i < 20; i++) {
		snprintf(addr, sizeof(addr), "198.18.4.%d", i + 1);
		run_spec(b->xdp, &SEG(addr));
	}
	usleep(1100 * 1000);
	run_spec(b->xdp, &SEG("198.18.5.1"));
	if (counter(b, SG_ATTACK_ENTERED) < 1)
		fprintf(stderr, "bench_paths: attack mode was not entered\n");
	row(b, "SYN in attack mode, unproven source (unproven_rate=0), IPv4", &SEG("198.18.5.2"),
	    true, 0);
	row(b, "SYN in attack mode, unproven source (unproven_rate=0), IPv6",
	    &SEG("2001:2:0:5::2"), true, 0);
	row(b, "SYN in attack mode, unproven source (unproven_rate=0), IPv4 in VLAN",
	    &SEG("198.18.5.3", .vlan_tags = 1), true, 0);
	printf("\n");
}

/*
 * Distinct frames, one per flow: from 198.19.0.0/16 (inside 198.18.0.0/15),
 * or with @v6 from 2001:2:0:19::/64.
 */
static struct pkt_spec flow_syn(__u32 i, __u32 round, bool v6, char *addr, size_t len)
{
	if (v6)
		snprintf(addr, len, "2001:2:0:19::%x:%x", i / 250 % 250, i % 250 + 1);
	else
		snprintf(addr, len, "198.19.%u.%u", (i / 250) % 250, i % 250 + 1);
	return SEG(addr, .sport = 20000 + round * 10 + i / 62500);
}

/*
 * Each of @n frames run once, through @prog; returns the kernel's total
 * (sum of opts.duration) and the wall time around the loop, in ns.
 */
static void run_once(int prog, const struct frame *f, __u32 n, double *kern, double *wall)
{
	__u64 t0, sum = 0;
	__u32 i;

	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		double d = frame_run(prog, &f[i], 1, NULL);

		if (d < 0) {
			fprintf(stderr, "bench_paths: test run: %s\n", strerror(errno));
			exit(1);
		}
		sum += d;
	}
	*wall = (double)(bench_now_ns() - t0) / n;
	*kern = (double)sum / n;
}

enum once_kind { ONCE_SYN, ONCE_ACK, ONCE_FIN, ONCE_COOKIE };

static void once_row(struct bench *b, enum once_kind kind, bool v6, const char *path)
{
	double sk[MAX_ROUNDS], sw[MAX_ROUNDS], pk[MAX_ROUNDS], pw[MAX_ROUNDS];
	struct frame *f = calloc(b->once, sizeof(*f));
	__u64 done_before, done = 0;
	enum sg_stat st = kind == ONCE_SYN ? SG_FLOW_SYN :
			  kind == ONCE_ACK ? SG_FLOW_COMPLETED :
			  kind == ONCE_COOKIE ? SG_COOKIE_SENT : SG_TCP_FIN;
	char addr[32];
	__u32 i;
	int r;

	if (!f)
		exit(1);
	for (r = 0; r < b->rounds; r++) {
		/* Each cookie SYN is rewritten in place: the same frame twice
		 * would be the SYN-ACK the second time. */
		setup(b, kind == ONCE_COOKIE ? CFG("cookies=always") : NULL);
		for (i = 0; i < b->once; i++) {
			struct pkt_spec syn = flow_syn(i, r, v6, addr, sizeof(addr)), p = syn;

			if (kind == ONCE_ACK) {
				handshake(b, &syn, false);
				p = ack_of(&syn);
			} else if (kind == ONCE_FIN) {
				handshake(b, &syn, true);
				p = ack_of(&syn);
				p.tcp_flags = PKT_FIN | PKT_ACK;
			}
			frame_build(&f[i], &p);
		}
		/* The baseline first: it changes nothing synguard then sees. */
		run_once(b->tpass, f, b->once, &pk[r], &pw[r]);
		done_before = counter(b, st);
		run_once(b->xdp, f, b->once, &sk[r], &sw[r]);
		done += counter(b, st) - done_before;
	}
	sk[0] = bench_median(sk, b->rounds);
	sw[0] = bench_median(sw, b->rounds);
	pk[0] = bench_median(pk, b->rounds);
	pw[0] = bench_median(pw, b->rounds);
	printf("| %s | %u × %d | %llu | %.1f | %.1f | %+.1f | %.0f | %.0f |\n", path, b->once,
	       b->rounds, (unsigned long long)done, sk[0], pk[0], sk[0] - pk[0], sw[0], pw[0]);
	if (done != (__u64)b->once * b->rounds)
		b->wrong++;
	free(f);
}

static void once_table(struct bench *b)
{
	printf("### First-time paths: distinct frames, each run once (repeat 1; median of %d rounds)\n\n",
	       b->rounds);
	printf("\"kernel\" is opts.duration of a repeat-1 run (the program plus the test-run "
	       "timer's own ktime reads); \"wall\" is clock_gettime around the loop of syscalls, "
	       "per frame.  The trivial XDP_PASS program runs the same frames first, so the "
	       "difference is synguard's own cost.  \"done\" counts what synguard's counters "
	       "say happened (hs_started, hs_completed, cookie_sent; for the FIN only its flag "
	       "class, fin, as a first FIN moves a flow to CLOSE_WAIT without a counter of its own): it must "
	       "equal the frames.\n\n");
	printf("| path | frames | done | synguard ns (kernel) | trivial PASS ns (kernel) | "
	       "difference | synguard ns (wall) | trivial PASS ns (wall) |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	once_row(b, ONCE_SYN, false, "new SYN admitted: a half-open flow inserted (sg_half), IPv4");
	once_row(b, ONCE_SYN, true, "new SYN admitted: a half-open flow inserted (sg_half), IPv6");
	once_row(b, ONCE_ACK, false, "ACK completing a handshake: sg_half → sg_flows, IPv4");
	once_row(b, ONCE_ACK, true, "ACK completing a handshake: sg_half → sg_flows, IPv6");
	once_row(b, ONCE_FIN, false, "first FIN+ACK of an established flow, IPv4");
	once_row(b, ONCE_COOKIE, false, "cookie SYN: answered with a SYN cookie SYN-ACK (XDP_TX), IPv4");
	once_row(b, ONCE_COOKIE, true, "cookie SYN: answered with a SYN cookie SYN-ACK (XDP_TX), IPv6");
	printf("\n");
}

/* Linux's SYN options (MSS, SACK_PERM, TS, NOP, WS) and Windows' (no TS). */
static const __u8 opts_ts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x12, 0x34,
				  0, 0, 0, 0, 1, 3, 3, 7 };
static const __u8 opts_nots[12] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 };

/*
 * One row of the cookie table: @b->once distinct SYNs (each is rewritten
 * in place, so each runs once), through synguard with cookies=always and
 * nothing else on, the trivial XDP_TX program and the trivial reflector;
 * the kernel's ns per run, median of the rounds.  @target: the ratio to
 * XDP_TX asked for (0: none).
 */
static void cookie_row(struct bench *b, bool v6, bool ts, double target)
{
	double sk[MAX_ROUNDS], tk[MAX_ROUNDS], rk[MAX_ROUNDS], ck[MAX_ROUNDS], w, ratio;
	struct frame *f = calloc(b->once, sizeof(*f)), *g = calloc(b->once, sizeof(*g));
	__u64 sent = 0, before;
	__u32 i, tx = 0, retval;
	char addr[32];
	int r;

	if (!f || !g)
		exit(1);
	for (r = 0; r < b->rounds; r++) {
		setup(b, CFG("cookies=always"));
		for (i = 0; i < b->once; i++) {
			struct pkt_spec syn = flow_syn(i, r, v6, addr, sizeof(addr));

			syn.tcp_opts = ts ? opts_ts : opts_nots;
			syn.tcp_opt_len = ts ? sizeof(opts_ts) : sizeof(opts_nots);
			frame_build(&f[i], &syn);
		}
		memcpy(g, f, b->once * sizeof(*f));
		run_once(b->ttx, f, b->once, &tk[r], &w);
		run_once(b->treflect, g, b->once, &rk[r], &w);
		run_once(b->tcookie, g, b->once, &ck[r], &w);
		/* The baseline must answer, not pass: once a round is enough. */
		tx += frame_run(b->tcookie, &g[0], 1, &retval) >= 0 && retval == XDP_TX;
		before = counter(b, SG_COOKIE_SENT);
		run_once(b->xdp, f, b->once, &sk[r], &w);
		sent += counter(b, SG_COOKIE_SENT) - before;
	}
	sk[0] = bench_median(sk, b->rounds);
	tk[0] = bench_median(tk, b->rounds);
	rk[0] = bench_median(rk, b->rounds);
	ck[0] = bench_median(ck, b->rounds);
	ratio = tk[0] > 0 ? sk[0] / tk[0] : 0;
	printf("| %s, %s | %llu / %u | %.1f | %.1f | %.1f | %.1f | %+.1f | %.2fx |",
	       v6 ? "IPv6" : "IPv4",
	       ts ? "timestamps (Linux options, 20 bytes)" : "no timestamps (MSS, WS, SACK; 12 bytes)",
	       (unsigned long long)sent, b->once * b->rounds, sk[0], tk[0], rk[0], ck[0],
	       sk[0] - ck[0], ratio);
	if (target > 0) {
		printf(" ≤ %.1fx | %s |\n", target, ratio <= target ? "met" : "**missed**");
		b->missed += ratio > target;
	} else {
		printf(" | |\n");
	}
	if (sent != (__u64)b->once * b->rounds || tx != (__u32)b->rounds)
		b->wrong++;
	free(f);
	free(g);
}

static void cookie_table(struct bench *b)
{
	printf("### Cookie SYN (issue 18): distinct SYNs, each run once (repeat 1; median of %d rounds)\n\n",
	       b->rounds);
	printf("synguard with cookies=always and nothing else on (no per-source table, no attack "
	       "detection): each SYN answered with a cookie SYN-ACK, XDP_TX.  Beside it, on copies "
	       "of the same frames: a trivial program that only returns XDP_TX, and the trivial "
	       "reflector (tests/tools/sg_reflect.bpf.c: swap, SYN-ACK flags, no cookie) and the "
	       "cookie reflector (the same with the kernel's cookie as its seq: the least a cookie "
	       "answer costs; \"beyond it\" is synguard's own share).  ns: "
	       "opts.duration of a repeat-1 run (the program plus the test-run timer's own ktime "
	       "reads, the same for all four).  \"answered\": cookie_sent / frames.\n\n");
	printf("| cookie SYN | answered | synguard ns | trivial XDP_TX ns | reflector ns | "
	       "cookie reflector ns | beyond it | ratio to XDP_TX | target | |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
	cookie_row(b, false, true, 3.0);
	cookie_row(b, false, false, 0);
	cookie_row(b, true, true, 0);
	cookie_row(b, true, false, 0);
	printf("\n");
}

/*
 * sg_src full of @n sources from 198.18.0.0/16 (not the measured ones'),
 * as a long many-source flood leaves it.
 */
static void src_fill(struct bench *b, __u32 n)
{
	struct sg_src_state st = {};
	struct sg_src_key k = { .family = 4, .prefix = 32 };
	int fd = bpf_map__fd(b->sg->maps.sg_src);
	__u32 i;

	for (i = 0; i < n; i++) {
		k.addr[0] = 198;
		k.addr[1] = 18;
		k.addr[2] = i >> 8;
		k.addr[3] = i;
		bpf_map_update_elem(fd, &k, &st, BPF_ANY);
	}
}

/*
 * One row of the flood table: @b->once SYNs of new sources (each run
 * once), through synguard under @assign with sg_src already full; the
 * kernel's ns per run, median of the rounds.
 */
static void flood_row(struct bench *b, const char *path, const char *const *assign)
{
	double sk[MAX_ROUNDS], w;
	struct frame *f = calloc(b->once, sizeof(*f));
	__u64 sent = 0, before;
	char addr[32];
	__u32 i;
	int r;

	if (!f)
		exit(1);
	for (r = 0; r < b->rounds; r++) {
		setup(b, assign);
		src_fill(b, SG_DEFAULT_SRC_MAX);
		for (i = 0; i < b->once; i++) {
			struct pkt_spec syn = flow_syn(i, r, false, addr, sizeof(addr));

			syn.tcp_opts = opts_ts;
			syn.tcp_opt_len = sizeof(opts_ts);
			frame_build(&f[i], &syn);
		}
		before = counter(b, SG_COOKIE_SENT);
		run_once(b->xdp, f, b->once, &sk[r], &w);
		sent += counter(b, SG_COOKIE_SENT) - before;
	}
	printf("| %s | %llu / %u | %.1f |\n", path, (unsigned long long)sent,
	       b->once * b->rounds, bench_median(sk, b->rounds));
	if (sent != (__u64)b->once * b->rounds)
		b->wrong++;
	free(f);
}

static void flood_table(struct bench *b)
{
	printf("### Cookie SYN of a many-source flood, under the per-source limit "
	       "(repeat 1; median of %d rounds)\n\n", b->rounds);
	printf("Distinct IPv4 SYNs with Linux's options, each run once, with sg_src already "
	       "full (%u sources of 198.18.0.0/16, as a long spoofed flood leaves it): every "
	       "measured source is new to it.  cookies=always; src_rate and src_burst as "
	       "`attach` sets them (100, 500) or off.\n\n", SG_DEFAULT_SRC_MAX);
	printf("| cookie SYN | answered | synguard ns |\n|---|---:|---:|\n");
	flood_row(b, "default src_rate (sampled: 1 SYN in 16 through sg_src)",
		  CFG("cookies=always"));
	flood_row(b, "src_rate off (no per-source table)", CFG("cookies=always", "src_rate=off"));
	printf("\n");
}

/*
 * The chain slot (issue 15): the tail call's cost per frame.  One
 * established ACK (IPv4), synguard's pass path, through four programs in
 * the same rounds, interleaved: synguard with its sg_next slot empty (the
 * direct attach; the frame falls through, chain_empty counted); synguard
 * with the trivial XDP_PASS program in sg_next (attach --then: a tail
 * call, no chain_empty); synguard in slot 0 of a root's program array
 * (attach --into: tests/tools/chain_test.bpf.c's chain_root counts and
 * tail-calls it, chain_bare only tail-calls); and the trivial XDP_PASS
 * program alone.  The counters
 * prove each took its path: chain_empty rises by every empty-slot run and
 * by no filled-slot one, and the root never fell through.
 */
static void chain_table(struct bench *b)
{
	double v[5][MAX_ROUNDS], w[5][MAX_ROUNDS], m[5], mw[5];
	struct pkt_spec syn = SEG("198.18.6.1"), ack;
	int next = bpf_map__fd(b->sg->maps.sg_next);
	int slots = bpf_map__fd(b->ct->maps.root_slots);
	int progs[5] = { b->xdp, b->xdp, bpf_program__fd(b->ct->progs.chain_root),
			 bpf_program__fd(b->ct->progs.chain_bare), b->tpass };
	static const char *const names[5] = {
		"synguard, slot empty (direct attach)",
		"synguard, then trivial XDP_PASS in sg_next (attach --then)",
		"root that counts, then synguard in its slot (attach --into)",
		"bare root (a tail call alone), then synguard in its slot (attach --into)",
		"trivial XDP_PASS alone",
	};
	__u64 empty = 0, e0, fell = 0;
	__u32 zero = 0, ret[5] = {}, k = 3;
	struct frame f;
	int r, i;

	setup(b, NULL);
	handshake(b, &syn, true);
	ack = ack_of(&syn);
	frame_build(&f, &ack);
	if (bpf_map_update_elem(slots, &zero, &b->xdp, BPF_ANY)) {
		fprintf(stderr, "bench_paths: synguard into the root's slot: %s\n", strerror(errno));
		exit(1);
	}
	for (r = 0; r < b->rounds; r++) {
		for (i = 0; i < 5; i++) {
			__u32 got = 0;
			__u64 t0;

			/* Filled only for row 1: the other synguard rows fall through. */
			if (i == 1 && bpf_map_update_elem(next, &zero, &b->tpass, BPF_ANY)) {
				fprintf(stderr, "bench_paths: filling sg_next: %s\n", strerror(errno));
				exit(1);
			}
			e0 = counter(b, SG_CHAIN_EMPTY);
			t0 = bench_now_ns();
			v[i][r] = frame_run(progs[i], &f, b->repeat, &got);
			w[i][r] = (double)(bench_now_ns() - t0) / b->repeat;
			if (v[i][r] < 0) {
				fprintf(stderr, "bench_paths: test run: %s\n", strerror(errno));
				exit(1);
			}
			if (i == 1) {
				bpf_map_delete_elem(next, &zero);
				empty += counter(b, SG_CHAIN_EMPTY) - e0;	/* must stay 0 */
			} else if (i == 0) {
				if (counter(b, SG_CHAIN_EMPTY) - e0 != b->repeat)
					b->wrong++;
			}
			if (r == 0)
				ret[i] = got;
		}
	}
	bpf_map_delete_elem(slots, &zero);
	bpf_map_lookup_elem(bpf_map__fd(b->ct->maps.chain_counts), &k, &fell);
	for (i = 0; i < 5; i++) {
		m[i] = pick(b, v[i]);
		mw[i] = pick(b, w[i]);
	}
	printf("### The chain slot (issue 15): the tail call's cost (repeat %u, %s of %d rounds)\n\n",
	       b->repeat, b->min ? "min" : "median", b->rounds);
	printf("An established ACK, IPv4 (synguard's pass path), through each program in the same "
	       "rounds.  \"then\": sg_next holds the trivial XDP_PASS program (`attach --then`), "
	       "a tail call, and chain_empty is not counted; \"into\": a root "
	       "(tests/tools/chain_test.bpf.c's chain_root; chain_bare without its atomic count) "
	       "tail-calls synguard in slot 0 of its array (`attach --into`).  The kernel's ns are whole (opts.duration is "
	       "divided by the repeat); \"wall\" is clock_gettime around the one test-run syscall, "
	       "divided by the repeat: the syscall's own cost spread over the repeat's runs, the "
	       "fraction kept.  Difference: to the direct attach.  chain_empty "
	       "counted in the \"then\" runs: %llu (must be 0); the root fell through: %llu times "
	       "(must be 0).\n\n", (unsigned long long)empty, (unsigned long long)fell);
	printf("| path | verdict | ns | difference | ns (wall) | difference (wall) |\n"
	       "|---|---|---:|---:|---:|---:|\n");
	for (i = 0; i < 5; i++)
		printf("| %s | %s | %.1f | %+.1f | %.2f | %+.2f |\n", names[i],
		       ret[i] == XDP_PASS ? "PASS" : "?", m[i], m[i] - m[0], mw[i], mw[i] - mw[0]);
	printf("\n");
	for (i = 0; i < 5; i++)
		if (ret[i] != XDP_PASS)
			b->wrong++;
	if (empty || fell)
		b->wrong++;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-r REPEAT] [-n ROUNDS] [-m] [-o ONCE] [-c CPU] [-k] [-t]\n"
		"  -r  BPF_PROG_TEST_RUN repeat per measurement (1000000)\n"
		"  -n  rounds, the median is reported (5, at most %d)\n"
		"  -m  the repeat table reports the min of the rounds, not the median\n"
		"  -o  distinct frames per round in the run-once table (20000)\n"
		"  -c  CPU to run on (0)\n"
		"  -k  the cookie SYN table alone\n"
		"  -t  the chain slot table alone\n", prog, MAX_ROUNDS);
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench b = { .repeat = 1000000, .rounds = 5, .once = 20000 };
	int opt, cpu = 0;

	while ((opt = getopt(argc, argv, "r:n:o:c:mkth")) != -1) {
		switch (opt) {
		case 'r': b.repeat = strtoul(optarg, NULL, 10); break;
		case 'n': b.rounds = atoi(optarg); break;
		case 'm': b.min = true; break;
		case 'k': b.cookie_only = true; break;
		case 't': b.chain_only = true; break;
		case 'o': b.once = strtoul(optarg, NULL, 10); break;
		case 'c': cpu = atoi(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (!b.repeat || b.rounds < 1 || b.rounds > MAX_ROUNDS || !b.once || b.once > 60000)
		usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_pin_cpu(cpu);
	b.sg = synguard__open_and_load();
	b.tv = trivial__open_and_load();
	b.rf = sg_reflect__open_and_load();
	b.ct = chain_test__open_and_load();
	if (!b.sg || !b.tv || !b.rf || !b.ct) {
		fprintf(stderr, "bench_paths: cannot load the programs: %s\n", strerror(errno));
		return 1;
	}
	b.xdp = bpf_program__fd(b.sg->progs.synguard_xdp);
	b.egress = bpf_program__fd(b.sg->progs.synguard_egress);
	b.tdrop = bpf_program__fd(b.tv->progs.trivial_drop);
	b.tpass = bpf_program__fd(b.tv->progs.trivial_pass);
	b.ttx = bpf_program__fd(b.rf->progs.sg_tx);
	b.treflect = bpf_program__fd(b.rf->progs.sg_reflect);
	b.tcookie = bpf_program__fd(b.rf->progs.sg_cookie_reflect);

	printf("## Part 1: per-path cost (bench_paths, CPU %d)\n\n", cpu);
	if (!b.cookie_only && !b.chain_only) {
		repeat_table(&b);
		once_table(&b);
	}
	if (!b.chain_only) {
		cookie_table(&b);
		flood_table(&b);
	}
	if (!b.cookie_only)
		chain_table(&b);
	printf("Targets: %d missed.%s\n\n", b.missed,
	       b.wrong ? "  SOME ROWS DID NOT TAKE THEIR PATH (WRONG verdict or done count)." : "");
	synguard__destroy(b.sg);
	trivial__destroy(b.tv);
	sg_reflect__destroy(b.rf);
	chain_test__destroy(b.ct);
	return b.wrong ? 1 : 0;
}
