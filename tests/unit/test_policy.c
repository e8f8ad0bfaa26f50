// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The guard's policy through BPF_PROG_TEST_RUN: sequences of frames against
 * a configured policy, asserting verdicts and counter deltas.  Time cannot
 * be mocked, so buckets are tested with bursts: at 1 SYN/s nothing refills
 * while a scenario runs (microseconds), so the counts are exact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktbuild.h"
#include "policy.h"
#include "stats.h"
#include "synguard.skel.h"

/* SYN_FROM(addr, overrides...): defaults first, then what a case changes. */
#pragma GCC diagnostic ignored "-Woverride-init"

struct ctx {
	struct synguard *skel;
	int n, failed;
	struct sg_counters before;
};

static int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static void clear_map(int map_fd, size_t key_size)
{
	__u8 key[64], next[64];

	while (!bpf_map_get_next_key(map_fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(map_fd, key))
			break;
	}
}

/* A fresh policy from KEY=VALUE strings, empty lists and source table. */
static void setup(struct ctx *c, const char *const *assign)
{
	struct synguard *s = c->skel;
	struct sg_policy pol;

	policy_defaults(&pol);
	for (; assign && *assign; assign++)
		if (policy_set(&pol, *assign))
			fprintf(stderr, "bad assignment %s\n", *assign);
	policy_write(fd(s->maps.sg_config), fd(s->maps.sg_ports), &pol);
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

		if (bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_xdp), &o))
			return -errno;
		passed += o.retval == XDP_PASS;
	}
	return len > 0 ? passed : len;
}

static void expect(struct ctx *c, const char *desc, long long got, long long want)
{
	c->n++;
	if (got == want) {
		printf("ok %d - %s\n", c->n, desc);
		return;
	}
	c->failed++;
	printf("not ok %d - %s\n#   got %lld, want %lld\n", c->n, desc, got, want);
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
	send_n(c, &SYN_FROM(addr, .sport = sport, .seq = 1000), 1);
	send_out(c, &(struct pkt_spec){ .family = 4, .src = "198.18.0.1", .dst = addr,
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
		snprintf(desc, sizeof(desc), "flood SYN IPv%d, attack detection on", f ? 6 : 4);
		lane_case(c, desc, SYN_FROM(src[f]), XDP_DROP, false);
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
	/* While SYN cookies may be out, every ACK is sg_decide's to check. */
	setup(c, CFG("src_rate=off"));
	establish(c, ACK_FROM(src[0], .sport = 45000));
	lane_case(c, "established ACK, before cookies", ACK_FROM(src[0], .sport = 45000),
		  XDP_PASS, true);
	c->skel->bss->sg_cookie_last_ns = 1;
	lane_case(c, "established ACK, cookies sent once", ACK_FROM(src[0], .sport = 45000),
		  XDP_PASS, false);
	c->skel->bss->sg_cookie_last_ns = 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * sg_over's horizon against GCRA itself, over 2.5 s of SYNs every
 * millisecond from one source at src_rate=20 (one each 50 ms), on one
 * CPU: the jiffy bound is learned after the first second (sg_tick), the
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
	    !bpf_map_lookup_elem(fd(c->skel->maps.sg_tick), &zero, tick)) {
		/* struct sg_tick per CPU: t0, j0, tick_ns; CPU 0's */
		for (i = 0; i < 4; i++)
			known |= tick[2] >= 1e9 / hz[i] && tick[2] <= 1.02e9 / hz[i];
		snprintf(what, sizeof(what), "jiffy horizon: learned a jiffy of %llu ns "
			 "(within 2%% over 1e9/HZ, HZ 100, 250, 300 or 1000)",
			 (unsigned long long)tick[2]);
		expect(c, what, known, 1);
	} else {
		expect(c, "jiffy horizon: sg_tick read", 0, 1);
	}
}

int main(void)
{
	struct ctx c = {};

	setvbuf(stdout, NULL, _IOLBF, 0);
	c.skel = synguard__open_and_load();
	if (!c.skel) {
		printf("not ok 1 - load synguard: %s\n0 passed, 1 failed\n", strerror(errno));
		return 1;
	}
	per_source_bucket(&c);
	prefixes(&c);
	block_time(&c);
	ports(&c);
	lists(&c);
	dry_run(&c);
	off(&c);
	attack_mode(&c);
	express_lane(&c);
	jiffy_horizon(&c);
	synguard__destroy(c.skel);
	printf("1..%d\n%d passed, %d failed\n", c.n, c.n - c.failed, c.failed);
	return c.failed ? 1 : 0;
}
