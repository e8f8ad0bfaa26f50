// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The guard's policy through BPF_PROG_TEST_RUN: sequences of frames against
 * a configured policy, asserting verdicts and counter deltas.  Time cannot
 * be mocked, so buckets are tested with bursts: at 1 SYN/s nothing refills
 * while a scenario runs (microseconds), so the counts are exact.
 */
#include <arpa/inet.h>
#include <errno.h>
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
	synguard__destroy(c.skel);
	printf("1..%d\n%d passed, %d failed\n", c.n, c.n - c.failed, c.failed);
	return c.failed ? 1 : 0;
}
