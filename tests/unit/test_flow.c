// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Flow tracking through BPF_PROG_TEST_RUN on both programs: a simulated
 * host whose arriving segments go through synguard_xdp (SG_DIR_IN) and
 * whose sent segments go through synguard_egress (SG_DIR_OUT).  Each
 * scenario plays one TCP conversation and asserts the flow's map and
 * state (RFC 9293, as the local end is in it) and the FLOW_* counters.
 *
 * Where synguard and the RFC disagree the test asserts the RFC: the 3-way
 * handshake and its simultaneous-open variant (RFC 9293 3.5, figures 6
 * and 8), the close (3.6, figures 12 and 13), TCP Fast Open (RFC 7413 3).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktbuild.h"
#include "testlib.h"
#include "flows.h"
#include "stats.h"
#include "synguard.skel.h"
#include "flow_walk.skel.h"

struct ctx {
	struct synguard *skel;
	int n, failed;
	struct sg_counters before;
	__u64 hist_before[SG_HIST_MAX];
};

/* One connection, seen from the simulated host (the local end). */
struct conn {
	const char *local, *remote;
	__u16 lport, rport;
};

#define V4_CONN(rport) (struct conn){ "198.18.0.1", "198.18.0.2", 80, rport }
#define V6_CONN(rport) (struct conn){ "2001:2::1", "2001:2::2", 80, rport }

/* Client (remote) and server (local) ISNs of a passive open. */
#define C_ISN 1000U
#define S_ISN 5000U

#define F_SYN PKT_SYN
#define F_SYNACK (PKT_SYN | PKT_ACK)
#define F_ACK PKT_ACK
#define F_FIN (PKT_FIN | PKT_ACK)
#define F_RST PKT_RST

static int family(const struct conn *k)
{
	return strchr(k->local, ':') ? 6 : 4;
}

static void hist_read(struct ctx *c, __u64 *total)
{
	int ncpu = libbpf_num_possible_cpus(), i, h, b;
	__u64 *vals = calloc(ncpu, sizeof(*vals));
	__u32 key;

	for (h = 0; h < SG_HIST_MAX; h++) {
		total[h] = 0;
		for (b = 0; b < SG_HIST_BUCKETS; b++) {
			key = h * SG_HIST_BUCKETS + b;
			if (!vals || bpf_map_lookup_elem(fd(c->skel->maps.sg_hist), &key, vals))
				continue;
			for (i = 0; i < ncpu; i++)
				total[h] += vals[i];
		}
	}
	free(vals);
}

/* Empty flow tables, and counters read for the deltas of one scenario. */
static void setup(struct ctx *c)
{
	clear_map(fd(c->skel->maps.sg_half), sizeof(struct sg_flow_key));
	clear_map(fd(c->skel->maps.sg_flows), sizeof(struct sg_flow_key));
	stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &c->before);
	hist_read(c, c->hist_before);
}

/*
 * One segment: SG_DIR_IN arrives from the remote end through XDP,
 * SG_DIR_OUT leaves the host through the tc egress program.  Returns the
 * program's return value, or -errno.
 */
static int seg(struct ctx *c, const struct conn *k, int dir, __u8 flags, __u32 seq,
	       __u32 ack, unsigned int payload)
{
	struct pkt_spec s = {
		.family = family(k), .tcp_flags = flags, .seq = seq,
		.ack_seq = (flags & PKT_ACK) ? ack : 0, .payload_len = payload,
	};
	__u8 frame[PKT_MAX_FRAME];
	struct bpf_program *prog;
	int len;

	if (dir == SG_DIR_IN) {
		s.src = k->remote, s.dst = k->local;
		s.sport = k->rport, s.dport = k->lport;
		prog = c->skel->progs.synguard_xdp;
	} else {
		s.src = k->local, s.dst = k->remote;
		s.sport = k->lport, s.dport = k->rport;
		prog = c->skel->progs.synguard_egress;
	}
	len = pkt_build(&s, frame, sizeof(frame));
	if (len < 0)
		return len;
	{
		/* The egress program needs no ctx: the kernel builds the skb. */
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len);
		struct sg_counters a, b;

		stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &a);
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
			return -errno;
		if (dir == SG_DIR_IN) {
			stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &b);
			books_check(&a, &b, "a segment of seg()");
		}
		return o.retval;
	}
}

#define IN(c, k, ...) seg(c, k, SG_DIR_IN, __VA_ARGS__)
#define OUT(c, k, ...) seg(c, k, SG_DIR_OUT, __VA_ARGS__)

/* The key as flow_key() builds it: local end first, ports in network order. */
static void flow_key(const struct conn *k, struct sg_flow_key *key)
{
	int af = family(k) == 6 ? AF_INET6 : AF_INET;

	memset(key, 0, sizeof(*key));
	inet_pton(af, k->local, key->local);
	inet_pton(af, k->remote, key->remote);
	key->lport = htons(k->lport);
	key->rport = htons(k->rport);
	key->family = family(k);
}

/*
 * Where the flow is: "half:STATE", "flows:STATE", "none", or "both"; its
 * sg_half entry in @half, its sg_flows entry in @est (each may be NULL).
 */
static const char *where(struct ctx *c, const struct conn *k, struct sg_flow *half,
			 struct sg_conn *est)
{
	static char buf[64];
	struct sg_flow_key key;
	struct sg_flow h;
	struct sg_conn f;
	bool in_half, in_flows;

	flow_key(k, &key);
	in_half = !bpf_map_lookup_elem(fd(c->skel->maps.sg_half), &key, &h);
	in_flows = !bpf_map_lookup_elem(fd(c->skel->maps.sg_flows), &key, &f);
	if (in_half && in_flows)
		return "both";
	if (!in_half && !in_flows)
		return "none";
	if (half && in_half)
		*half = h;
	if (est && in_flows)
		*est = f;
	if (in_half)
		snprintf(buf, sizeof(buf), "half:%s",
			 h.state < SG_TCP_STATE_MAX ? state_names[h.state] : "?");
	else
		snprintf(buf, sizeof(buf), "flows:%s",
			 f.state < SG_TCP_STATE_MAX ? state_names[f.state] : "?");
	return buf;
}

static void expect(struct ctx *c, const char *desc, long long got, long long want)
{
	tap_eq(&c->n, &c->failed, desc, got, want);
}

static void expect_at(struct ctx *c, const char *desc, const struct conn *k,
		      const char *want)
{
	const char *got = where(c, k, NULL, NULL);

	c->n++;
	if (!strcmp(got, want)) {
		printf("ok %d - %s: %s\n", c->n, desc, want);
		return;
	}
	c->failed++;
	printf("not ok %d - %s: %s\n#   got %s, want %s\n", c->n, desc, want, got, want);
}

/*
 * The picked_up counter by its name: include/synguard.h also defines the
 * flow flag STAT_PICKED_UP (1U << 5) after the enum, and the macro
 * shadows the enum constant of the same name wherever both are visible.
 */
static enum sg_stat stat_index(const char *name)
{
	int i;

	for (i = 0; i < SG_STAT_MAX; i++)
		if (!strcmp(stats_names[i], name))
			return i;
	fprintf(stderr, "no counter %s\n", name);
	exit(1);
}

#define STAT_PICKED_UP stat_index("picked_up")

/* Counter deltas since setup(). */
static long long d_stat(struct ctx *c, enum sg_stat s)
{
	struct sg_counters now;

	stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &now);
	return now.stat[s] - c->before.stat[s];
}

static long long d_hist(struct ctx *c, int h)
{
	__u64 now[SG_HIST_MAX];

	hist_read(c, now);
	return now[h] - c->hist_before[h];
}

/* The FLOW_* counters a scenario does not expect to move. */
static void expect_quiet(struct ctx *c, const char *what, const enum sg_stat *list, int n)
{
	char desc[128];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(desc, sizeof(desc), "%s: no %s", what, stats_names[list[i]]);
		expect(c, desc, d_stat(c, list[i]), 0);
	}
}

#define QUIET(c, what, ...) do {                                               \
	const enum sg_stat l_[] = { __VA_ARGS__ };                             \
	expect_quiet(c, what, l_, sizeof(l_) / sizeof(l_[0]));                 \
} while (0)

/* SYN in, SYN-ACK out, ACK in: the passive open of RFC 9293 figure 6. */
static void handshake_in(struct ctx *c, const struct conn *k)
{
	IN(c, k, F_SYN, C_ISN, 0, 0);
	OUT(c, k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	IN(c, k, F_ACK, C_ISN + 1, S_ISN + 1, 0);
}

static void passive_open(struct ctx *c, const struct conn *k, const char *fam)
{
	char d[128];

	setup(c);
#define D(s) (snprintf(d, sizeof(d), "passive open %s: %s", fam, s), d)
	expect(c, D("the SYN passes"), IN(c, k, F_SYN, C_ISN, 0, 0), XDP_PASS);
	expect_at(c, D("SYN in"), k, "half:syn_seen");
	expect(c, D("SYN in: hs_started +1"), d_stat(c, SG_FLOW_SYN), 1);
	OUT(c, k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	expect_at(c, D("SYN-ACK out (ack ISN+1)"), k, "half:half_open");
	expect(c, D("SYN-ACK out: hs_synacked +1"), d_stat(c, SG_FLOW_SYNACK), 1);
	expect(c, D("SYN-ACK out: a syn_to_synack sample"), d_hist(c, SG_HIST_SYN_SYNACK), 1);
	{
		struct sg_flow h = {};

		/* The ISNs are the handshake's: sg_flows does not keep them. */
		where(c, k, &h, NULL);
		expect(c, D("isn[in] is the client's ISN"), h.isn[SG_DIR_IN], C_ISN);
		expect(c, D("isn[out] is the server's ISN"), h.isn[SG_DIR_OUT], S_ISN);
	}
	expect(c, D("the ACK passes"), IN(c, k, F_ACK, C_ISN + 1, S_ISN + 1, 0), XDP_PASS);
	expect_at(c, D("ACK in (ack SYN-ACK ISN+1)"), k, "flows:established");
	expect(c, D("ACK in: hs_completed +1"), d_stat(c, SG_FLOW_COMPLETED), 1);
	expect(c, D("ACK in: a synack_to_ack sample"), d_hist(c, SG_HIST_SYNACK_ACK), 1);
	expect(c, D("the egress program saw 1 frame"), d_stat(c, SG_EGRESS), 1);
	{
		struct sg_conn f = {};

		where(c, k, NULL, &f);
		expect(c, D("opener is the remote end"), f.opener, SG_DIR_IN);
		expect(c, D("no FIN yet, no closer"), f.closer, SG_DIR_NONE);
	}
	QUIET(c, D("clean"), SG_FLOW_SYN_RETRANS, SG_FLOW_SYNACK_RETRANS,
	      SG_FLOW_UNEXPECTED_SYNACK, SG_FLOW_UNEXPECTED_ACK, STAT_PICKED_UP,
	      SG_FLOW_TFO, SG_FLOW_SIMUL_OPEN, SG_FLOW_TABLE_FULL);
#undef D
}

static void wrong_ack(struct ctx *c)
{
	struct conn k = V4_CONN(40010);

	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN + 2, 0);
	expect(c, "wrong ACK (SYN-ACK ISN+2): unexpected_ack +1",
	       d_stat(c, SG_FLOW_UNEXPECTED_ACK), 1);
	expect(c, "wrong ACK: not completed", d_stat(c, SG_FLOW_COMPLETED), 0);
	expect_at(c, "wrong ACK: still half-open", &k, "half:half_open");
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN, 0);
	expect(c, "ACK of the SYN-ACK ISN itself (one short): unexpected_ack +1",
	       d_stat(c, SG_FLOW_UNEXPECTED_ACK), 2);
	expect_at(c, "one short: still half-open", &k, "half:half_open");
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN + 1, 0);
	expect_at(c, "then the right ACK completes", &k, "flows:established");
	expect(c, "then hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);

	/* An ACK out of a passive open is not the opener's ACK. */
	k = V4_CONN(40011);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	OUT(c, &k, F_ACK, S_ISN + 1, C_ISN + 1, 0);
	expect(c, "ACK from the answering end does not complete", d_stat(c, SG_FLOW_COMPLETED), 0);
	expect_at(c, "ACK from the answering end: still half-open", &k, "half:half_open");

	/* An ACK before any SYN-ACK completes nothing. */
	k = V4_CONN(40012);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN + 1, 0);
	expect(c, "ACK before the SYN-ACK: unexpected_ack +1", d_stat(c, SG_FLOW_UNEXPECTED_ACK), 1);
	expect_at(c, "ACK before the SYN-ACK: still syn_seen", &k, "half:syn_seen");
}

static void retransmits(struct ctx *c)
{
	struct conn k = V4_CONN(40020);

	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	expect(c, "SYN retransmitted (same ISN): syn_retrans +1", d_stat(c, SG_FLOW_SYN_RETRANS), 1);
	expect(c, "SYN retransmitted: one handshake started", d_stat(c, SG_FLOW_SYN), 1);
	expect_at(c, "SYN retransmitted", &k, "half:syn_seen");
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	expect(c, "SYN-ACK retransmitted: synack_retrans +1", d_stat(c, SG_FLOW_SYNACK_RETRANS), 1);
	expect(c, "SYN-ACK retransmitted: hs_synacked +1 only", d_stat(c, SG_FLOW_SYNACK), 1);
	expect(c, "SYN-ACK retransmitted: one syn_to_synack sample",
	       d_hist(c, SG_HIST_SYN_SYNACK), 1);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	expect(c, "SYN retransmitted after the SYN-ACK: syn_retrans +1",
	       d_stat(c, SG_FLOW_SYN_RETRANS), 2);
	expect_at(c, "SYN retransmitted after the SYN-ACK: still half-open", &k, "half:half_open");
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN + 1, 0);
	expect_at(c, "retransmits: the ACK completes", &k, "flows:established");
	expect(c, "retransmits: hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);
	expect(c, "retransmits: still one handshake started", d_stat(c, SG_FLOW_SYN), 1);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	expect(c, "SYN on an established flow starts nothing", d_stat(c, SG_FLOW_SYN), 1);
	expect_at(c, "SYN on an established flow", &k, "flows:established");
}

static void unexpected_synack(struct ctx *c)
{
	struct conn k = V4_CONN(40030);

	setup(c);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	expect(c, "SYN-ACK out with no SYN: unexpected_synack +1",
	       d_stat(c, SG_FLOW_UNEXPECTED_SYNACK), 1);
	expect_at(c, "SYN-ACK out with no SYN: no entry", &k, "none");
	IN(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	expect(c, "SYN-ACK in with no SYN (backscatter): unexpected_synack +1",
	       d_stat(c, SG_FLOW_UNEXPECTED_SYNACK), 2);
	expect_at(c, "backscatter: no entry", &k, "none");

	k = V4_CONN(40031);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 2, 0);
	expect(c, "SYN-ACK with the wrong ack (ISN+2): unexpected_synack +1",
	       d_stat(c, SG_FLOW_UNEXPECTED_SYNACK), 1);
	expect(c, "SYN-ACK with the wrong ack: not synacked", d_stat(c, SG_FLOW_SYNACK), 0);
	expect_at(c, "SYN-ACK with the wrong ack: still syn_seen", &k, "half:syn_seen");
	IN(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	expect(c, "SYN-ACK from the opener's own side: unexpected_synack +1",
	       d_stat(c, SG_FLOW_UNEXPECTED_SYNACK), 2);
	expect_at(c, "SYN-ACK from the opener's side: still syn_seen", &k, "half:syn_seen");
}

static void active_open(struct ctx *c)
{
	struct conn k = { "198.18.0.1", "198.18.0.2", 40040, 443 };
	struct sg_conn f = {};

	setup(c);
	OUT(c, &k, F_SYN, C_ISN, 0, 0);
	expect_at(c, "active open: SYN out", &k, "half:syn_sent");
	expect(c, "active open: hs_started +1", d_stat(c, SG_FLOW_SYN), 1);
	expect(c, "active open: the SYN-ACK passes", IN(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0),
	       XDP_PASS);
	expect(c, "active open: SYN-ACK in: hs_synacked +1", d_stat(c, SG_FLOW_SYNACK), 1);
	expect(c, "active open: SYN-ACK in: no syn_to_synack sample (that is the host's)",
	       d_hist(c, SG_HIST_SYN_SYNACK), 0);
	OUT(c, &k, F_ACK, C_ISN + 1, S_ISN + 1, 0);
	expect_at(c, "active open: ACK out", &k, "flows:established");
	expect(c, "active open: hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);
	expect(c, "active open: a synack_to_ack sample", d_hist(c, SG_HIST_SYNACK_ACK), 1);
	where(c, &k, NULL, &f);
	expect(c, "active open: opener is the local end", f.opener, SG_DIR_OUT);
	QUIET(c, "active open", SG_FLOW_UNEXPECTED_SYNACK, SG_FLOW_UNEXPECTED_ACK,
	      STAT_PICKED_UP, SG_FLOW_SIMUL_OPEN);

	/* The connection refused: RST|ACK answering the SYN. */
	k.lport = 40041;
	setup(c);
	OUT(c, &k, F_SYN, C_ISN, 0, 0);
	IN(c, &k, PKT_RST | PKT_ACK, 0, C_ISN + 1, 0);
	expect(c, "active open refused (RST|ACK in): hs_reset +1", d_stat(c, SG_FLOW_HS_RESET), 1);
	expect_at(c, "active open refused", &k, "none");

	/* RFC 9293 3.10.7.3: in SYN-SENT a RST counts only if it acks the SYN. */
	k.lport = 40042;
	setup(c);
	OUT(c, &k, F_SYN, C_ISN, 0, 0);
	IN(c, &k, PKT_RST | PKT_ACK, 0, C_ISN + 2, 0);
	expect(c, "SYN-SENT: RST|ACK in with the wrong ack is ignored: no hs_reset",
	       d_stat(c, SG_FLOW_HS_RESET), 0);
	expect_at(c, "SYN-SENT: RST|ACK in with the wrong ack", &k, "half:syn_sent");
}

static void fast_open(struct ctx *c)
{
	struct conn k = V4_CONN(40050);

	/* RFC 7413 3: a server that does not accept the data acks the SYN only. */
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 100);
	expect(c, "TFO SYN with 100 bytes: tfo_syn +1", d_stat(c, SG_FLOW_TFO), 1);
	expect(c, "TFO SYN: hs_started +1", d_stat(c, SG_FLOW_SYN), 1);
	expect_at(c, "TFO SYN", &k, "half:syn_seen");
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	expect_at(c, "TFO data declined: SYN-ACK acks ISN+1", &k, "half:half_open");
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN + 1, 100);	/* the client resends the data */
	expect_at(c, "TFO data declined: ACK completes", &k, "flows:established");
	expect(c, "TFO data declined: hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);

	/*
	 * RFC 7413 3: a server that accepts the data acknowledges it in
	 * the SYN-ACK: ack = ISN + 1 + data length.  That SYN-ACK answers
	 * the SYN as much as ack = ISN + 1 does.
	 */
	k = V4_CONN(40051);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 100);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1 + 100, 0);
	expect(c, "TFO data accepted (SYN-ACK ack = ISN+1+100): not unexpected_synack",
	       d_stat(c, SG_FLOW_UNEXPECTED_SYNACK), 0);
	expect(c, "TFO data accepted: hs_synacked +1", d_stat(c, SG_FLOW_SYNACK), 1);
	expect_at(c, "TFO data accepted: SYN-ACK out", &k, "half:half_open");
	IN(c, &k, F_ACK, C_ISN + 101, S_ISN + 1, 0);
	expect_at(c, "TFO data accepted: ACK completes", &k, "flows:established");
	expect(c, "TFO data accepted: hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);
	expect(c, "TFO data accepted: tfo_syn +1", d_stat(c, SG_FLOW_TFO), 1);

	/*
	 * RFC 7413 3: with the data accepted the server may answer it
	 * before the handshake ends, so the client's ACK covers that too.
	 * RFC 9293 3.10.7.4: in SYN-RECEIVED any SND.UNA < SEG.ACK =< SND.NXT
	 * is acceptable and enters ESTABLISHED.
	 */
	k = V4_CONN(40052);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 100);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1 + 100, 0);
	OUT(c, &k, F_ACK | PKT_PSH, S_ISN + 1, C_ISN + 1 + 100, 200);
	IN(c, &k, F_ACK, C_ISN + 101, S_ISN + 1 + 200, 0);
	expect_at(c, "TFO response before the ACK: the ACK covering it completes", &k,
		  "flows:established");
	expect(c, "TFO response before the ACK: no unexpected_ack",
	       d_stat(c, SG_FLOW_UNEXPECTED_ACK), 0);
}

/* RFC 9293 figure 8: both ends send a SYN, each answers with a SYN-ACK. */
static void simultaneous_open(struct ctx *c)
{
	struct conn k = { "198.18.0.1", "198.18.0.2", 40060, 40060 };
	const __u32 a = 100, b = 300;	/* local and remote ISNs */

	setup(c);
	OUT(c, &k, F_SYN, a, 0, 0);
	IN(c, &k, F_SYN, b, 0, 0);
	expect(c, "simultaneous open: simultaneous_open +1", d_stat(c, SG_FLOW_SIMUL_OPEN), 1);
	expect(c, "simultaneous open: one handshake started", d_stat(c, SG_FLOW_SYN), 1);
	OUT(c, &k, F_SYNACK, a, b + 1, 0);
	IN(c, &k, F_SYNACK, b, a + 1, 0);
	expect(c, "simultaneous open: the remote's SYN-ACK is no retransmit",
	       d_stat(c, SG_FLOW_SYNACK_RETRANS), 0);
	expect(c, "simultaneous open: no unexpected_synack", d_stat(c, SG_FLOW_UNEXPECTED_SYNACK), 0);
	OUT(c, &k, F_ACK, a + 1, b + 1, 0);
	IN(c, &k, F_ACK, b + 1, a + 1, 0);
	expect_at(c, "simultaneous open with ACKs: ends", &k, "flows:established");
	expect(c, "simultaneous open with ACKs: hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);
	expect(c, "simultaneous open with ACKs: simultaneous_open still 1",
	       d_stat(c, SG_FLOW_SIMUL_OPEN), 1);
	expect(c, "simultaneous open with ACKs: no unexpected_ack", d_stat(c, SG_FLOW_UNEXPECTED_ACK), 0);

	/* Figure 8 line 6: the remote's SYN-ACK is the last segment needed. */
	k.lport = k.rport = 40061;
	setup(c);
	OUT(c, &k, F_SYN, a, 0, 0);
	IN(c, &k, F_SYN, b, 0, 0);
	OUT(c, &k, F_SYNACK, a, b + 1, 0);
	IN(c, &k, F_SYNACK, b, a + 1, 0);
	expect_at(c, "simultaneous open, both SYN-ACKs, no ACK (RFC 9293 fig. 8)", &k,
		  "flows:established");
	expect(c, "simultaneous open, fig. 8: hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);

	/* The remote's SYN retransmitted after the local SYN-ACK. */
	k.lport = k.rport = 40062;
	setup(c);
	OUT(c, &k, F_SYN, a, 0, 0);
	IN(c, &k, F_SYN, b, 0, 0);
	OUT(c, &k, F_SYNACK, a, b + 1, 0);
	IN(c, &k, F_SYN, b, 0, 0);
	expect(c, "simultaneous open, remote SYN retransmitted: syn_retrans +1",
	       d_stat(c, SG_FLOW_SYN_RETRANS), 1);
	expect(c, "simultaneous open, remote SYN retransmitted: no new handshake",
	       d_stat(c, SG_FLOW_SYN), 1);
	expect(c, "simultaneous open, remote SYN retransmitted: simultaneous_open still 1",
	       d_stat(c, SG_FLOW_SIMUL_OPEN), 1);
	IN(c, &k, F_SYNACK, b, a + 1, 0);
	OUT(c, &k, F_ACK, a + 1, b + 1, 0);
	IN(c, &k, F_ACK, b + 1, a + 1, 0);
	expect_at(c, "simultaneous open, remote SYN retransmitted: still completes", &k,
		  "flows:established");
}

static void resets(struct ctx *c)
{
	struct conn k = V4_CONN(40070);

	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	OUT(c, &k, F_SYNACK, S_ISN, C_ISN + 1, 0);
	IN(c, &k, F_RST, C_ISN + 1, 0, 0);
	expect(c, "RST in during the handshake: hs_reset +1", d_stat(c, SG_FLOW_HS_RESET), 1);
	expect_at(c, "RST in during the handshake: entry gone", &k, "none");
	expect(c, "RST in during the handshake: not closed_rst", d_stat(c, SG_FLOW_CLOSED_RST), 0);

	k = V4_CONN(40071);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	OUT(c, &k, PKT_RST | PKT_ACK, 0, C_ISN + 1, 0);	/* port closed */
	expect(c, "RST out answering a SYN: hs_reset +1", d_stat(c, SG_FLOW_HS_RESET), 1);
	expect_at(c, "RST out answering a SYN: entry gone", &k, "none");

	k = V4_CONN(40072);
	setup(c);
	handshake_in(c, &k);
	IN(c, &k, F_RST, C_ISN + 1, 0, 0);
	expect(c, "RST on an established flow: closed_rst +1", d_stat(c, SG_FLOW_CLOSED_RST), 1);
	expect(c, "RST on an established flow: not hs_reset", d_stat(c, SG_FLOW_HS_RESET), 0);
	expect_at(c, "RST on an established flow: entry gone", &k, "none");

	k = V4_CONN(40073);
	setup(c);
	handshake_in(c, &k);
	OUT(c, &k, PKT_RST | PKT_ACK, S_ISN + 1, C_ISN + 1, 0);
	expect(c, "RST out on an established flow: closed_rst +1", d_stat(c, SG_FLOW_CLOSED_RST), 1);
	expect_at(c, "RST out on an established flow: entry gone", &k, "none");
}

/* RFC 9293 figure 12, the local end closing first. */
static void local_close(struct ctx *c, const struct conn *k, const char *fam)
{
	char d[128];

#define D(s) (snprintf(d, sizeof(d), "local close %s: %s", fam, s), d)
	setup(c);
	handshake_in(c, k);
	OUT(c, k, F_FIN, S_ISN + 1, C_ISN + 1, 0);
	expect_at(c, D("FIN out"), k, "flows:fin_wait_1");
	IN(c, k, F_ACK, C_ISN + 1, S_ISN + 1, 0);
	expect_at(c, D("ACK in not covering the FIN"), k, "flows:fin_wait_1");
	IN(c, k, F_ACK, C_ISN + 1, S_ISN + 2, 0);
	expect_at(c, D("ACK in of the FIN (FIN seq + 1)"), k, "flows:fin_wait_2");
	IN(c, k, F_ACK, C_ISN + 1, S_ISN + 2, 10);
	expect_at(c, D("data in (half-closed)"), k, "flows:fin_wait_2");
	expect(c, D("not closed before the remote FIN"), d_stat(c, SG_FLOW_CLOSED_FIN), 0);
	IN(c, k, F_FIN, C_ISN + 11, S_ISN + 2, 0);
	expect_at(c, D("FIN in"), k, "flows:time_wait");
	expect(c, D("closed_fin +1"), d_stat(c, SG_FLOW_CLOSED_FIN), 1);
	OUT(c, k, F_ACK, S_ISN + 2, C_ISN + 12, 0);
	IN(c, k, F_FIN, C_ISN + 11, S_ISN + 2, 0);	/* retransmitted FIN */
	expect_at(c, D("last ACK out, FIN retransmitted"), k, "flows:time_wait");
	expect(c, D("closed_fin still 1"), d_stat(c, SG_FLOW_CLOSED_FIN), 1);
	expect(c, D("no closed_rst"), d_stat(c, SG_FLOW_CLOSED_RST), 0);
#undef D

	/* FIN_WAIT_1 straight to TIME_WAIT: the remote's FIN acks ours. */
	setup(c);
	handshake_in(c, k);
	OUT(c, k, F_FIN, S_ISN + 1, C_ISN + 1, 0);
	IN(c, k, F_FIN, C_ISN + 1, S_ISN + 2, 0);
	snprintf(d, sizeof(d), "local close %s: FIN|ACK in acking our FIN", fam);
	expect_at(c, d, k, "flows:time_wait");
	expect(c, "FIN|ACK acking our FIN: closed_fin +1", d_stat(c, SG_FLOW_CLOSED_FIN), 1);
}

/* The remote end closing first: the local end passes through CLOSE_WAIT. */
static void remote_close(struct ctx *c, const struct conn *k, const char *fam)
{
	char d[128];

#define D(s) (snprintf(d, sizeof(d), "remote close %s: %s", fam, s), d)
	setup(c);
	handshake_in(c, k);
	IN(c, k, F_FIN, C_ISN + 1, S_ISN + 1, 0);
	expect_at(c, D("FIN in"), k, "flows:close_wait");
	OUT(c, k, F_ACK, S_ISN + 1, C_ISN + 2, 0);
	expect_at(c, D("ACK out of it"), k, "flows:close_wait");
	OUT(c, k, F_FIN, S_ISN + 1, C_ISN + 2, 0);
	expect_at(c, D("FIN out"), k, "flows:last_ack");
	IN(c, k, F_ACK, C_ISN + 2, S_ISN + 1, 0);
	expect_at(c, D("ACK in not covering our FIN"), k, "flows:last_ack");
	expect(c, D("not closed yet"), d_stat(c, SG_FLOW_CLOSED_FIN), 0);
	IN(c, k, F_ACK, C_ISN + 2, S_ISN + 2, 0);
	expect_at(c, D("ACK in of our FIN: the remote in TIME_WAIT"), k, "flows:time_wait_remote");
	expect(c, D("closed_fin +1"), d_stat(c, SG_FLOW_CLOSED_FIN), 1);
#undef D
}

/* RFC 9293 figure 13: the FINs cross. */
static void simultaneous_close(struct ctx *c)
{
	struct conn k = V4_CONN(40090);

	setup(c);
	handshake_in(c, &k);
	OUT(c, &k, F_FIN, S_ISN + 1, C_ISN + 1, 0);
	IN(c, &k, F_FIN, C_ISN + 1, S_ISN + 1, 0);
	expect_at(c, "simultaneous close: FIN out, FIN in before its ACK", &k, "flows:closing");
	expect(c, "simultaneous close: not closed yet", d_stat(c, SG_FLOW_CLOSED_FIN), 0);
	OUT(c, &k, F_ACK, S_ISN + 2, C_ISN + 2, 0);
	expect_at(c, "simultaneous close: our ACK of their FIN", &k, "flows:closing");
	IN(c, &k, F_ACK, C_ISN + 2, S_ISN + 2, 0);
	expect_at(c, "simultaneous close: their ACK of our FIN", &k, "flows:time_wait");
	expect(c, "simultaneous close: closed_fin +1", d_stat(c, SG_FLOW_CLOSED_FIN), 1);
}

static void fin_with_data(struct ctx *c)
{
	struct conn k = V4_CONN(40100);

	setup(c);
	handshake_in(c, &k);
	OUT(c, &k, F_FIN, S_ISN + 1, C_ISN + 1, 500);	/* FIN at S_ISN + 501 */
	expect_at(c, "FIN with 500 bytes out", &k, "flows:fin_wait_1");
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN + 1 + 500, 0);
	expect_at(c, "ACK of the data but not the FIN", &k, "flows:fin_wait_1");
	IN(c, &k, F_ACK, C_ISN + 1, S_ISN + 1 + 500 + 1, 0);
	expect_at(c, "ACK of seq + payload + 1", &k, "flows:fin_wait_2");

	k = V4_CONN(40101);
	setup(c);
	handshake_in(c, &k);
	IN(c, &k, F_FIN, C_ISN + 1, S_ISN + 1, 300);
	OUT(c, &k, F_FIN, S_ISN + 1, C_ISN + 1 + 300 + 1, 0);
	expect_at(c, "FIN with 300 bytes in, then ours", &k, "flows:last_ack");
	IN(c, &k, F_ACK, C_ISN + 302, S_ISN + 1, 0);
	expect_at(c, "ACK not covering our FIN", &k, "flows:last_ack");
	IN(c, &k, F_ACK, C_ISN + 302, S_ISN + 2, 0);
	expect_at(c, "ACK of our FIN", &k, "flows:time_wait_remote");
}

static void wraparound(struct ctx *c)
{
	struct conn k = V4_CONN(40110);

	setup(c);
	IN(c, &k, F_SYN, 0xFFFFFFFF, 0, 0);
	OUT(c, &k, F_SYNACK, S_ISN, 0, 0);
	expect_at(c, "client ISN 0xFFFFFFFF: SYN-ACK with ack 0", &k, "half:half_open");
	expect(c, "client ISN 0xFFFFFFFF: no unexpected_synack",
	       d_stat(c, SG_FLOW_UNEXPECTED_SYNACK), 0);

	k = V4_CONN(40111);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	OUT(c, &k, F_SYNACK, 0xFFFFFFFF, C_ISN + 1, 0);
	IN(c, &k, F_ACK, C_ISN + 1, 0, 0);
	expect_at(c, "server ISN 0xFFFFFFFF: ACK 0 completes", &k, "flows:established");
	expect(c, "server ISN 0xFFFFFFFF: hs_completed +1", d_stat(c, SG_FLOW_COMPLETED), 1);
	/* Our FIN at sequence 0 (the SYN took 0xFFFFFFFF), data across the wrap. */
	OUT(c, &k, F_FIN, 0, C_ISN + 1, 0);
	IN(c, &k, F_ACK, C_ISN + 1, 0, 0);
	expect_at(c, "FIN at seq 0: ACK 0 does not cover it", &k, "flows:fin_wait_1");
	IN(c, &k, F_ACK, C_ISN + 1, 1, 0);
	expect_at(c, "FIN at seq 0: ACK 1 covers it", &k, "flows:fin_wait_2");

	k = V4_CONN(40112);
	setup(c);
	IN(c, &k, F_SYN, C_ISN, 0, 0);
	OUT(c, &k, F_SYNACK, 0xFFFFFFF0, C_ISN + 1, 0);
	IN(c, &k, F_ACK, C_ISN + 1, 0xFFFFFFF1, 0);
	OUT(c, &k, F_FIN, 0xFFFFFFF1, C_ISN + 1, 0x20);	/* FIN at 0x11 after the wrap */
	IN(c, &k, F_ACK, C_ISN + 1, 0x11, 0);
	expect_at(c, "FIN after data across the wrap: ACK of the data only", &k,
		  "flows:fin_wait_1");
	IN(c, &k, F_ACK, C_ISN + 1, 0x12, 0);
	expect_at(c, "FIN after data across the wrap: ACK 0x12 covers it", &k, "flows:fin_wait_2");
}

static void port_reuse(struct ctx *c)
{
	struct conn k = V4_CONN(40120);

	setup(c);
	handshake_in(c, &k);
	OUT(c, &k, F_FIN, S_ISN + 1, C_ISN + 1, 0);
	IN(c, &k, F_FIN, C_ISN + 1, S_ISN + 2, 0);
	expect_at(c, "port reuse: first connection", &k, "flows:time_wait");
	IN(c, &k, F_SYN, C_ISN + 100000, 0, 0);
	expect_at(c, "port reuse: SYN on a TIME_WAIT flow", &k, "half:syn_seen");
	expect(c, "port reuse: a second handshake started", d_stat(c, SG_FLOW_SYN), 2);
	expect(c, "port reuse: not a retransmit", d_stat(c, SG_FLOW_SYN_RETRANS), 0);
	OUT(c, &k, F_SYNACK, S_ISN + 7, C_ISN + 100001, 0);
	IN(c, &k, F_ACK, C_ISN + 100001, S_ISN + 8, 0);
	expect_at(c, "port reuse: second handshake completes", &k, "flows:established");
	expect(c, "port reuse: hs_completed 2", d_stat(c, SG_FLOW_COMPLETED), 2);

	k = V4_CONN(40121);
	setup(c);
	handshake_in(c, &k);
	IN(c, &k, F_FIN, C_ISN + 1, S_ISN + 1, 0);
	OUT(c, &k, F_FIN, S_ISN + 1, C_ISN + 2, 0);
	IN(c, &k, F_ACK, C_ISN + 2, S_ISN + 2, 0);
	expect_at(c, "port reuse: first connection", &k, "flows:time_wait_remote");
	IN(c, &k, F_SYN, C_ISN + 100000, 0, 0);
	expect_at(c, "port reuse: SYN on a time_wait_remote flow", &k, "half:syn_seen");
	expect(c, "port reuse (remote TIME_WAIT): a second handshake", d_stat(c, SG_FLOW_SYN), 2);
}

static void pickup(struct ctx *c)
{
	struct conn k = V4_CONN(40130);

	setup(c);
	OUT(c, &k, F_ACK, S_ISN, C_ISN, 0);
	expect_at(c, "ACK out for an unknown flow: picked up", &k, "flows:established");
	expect(c, "ACK out for an unknown flow: picked_up +1", d_stat(c, STAT_PICKED_UP), 1);
	expect(c, "picked up: no handshake counted", d_stat(c, SG_FLOW_COMPLETED), 0);
	expect(c, "picked up: would_drop untouched", d_stat(c, SG_WOULD_DROP), 0);
	OUT(c, &k, F_FIN, S_ISN, C_ISN, 0);
	expect_at(c, "picked up: FIN out", &k, "flows:fin_wait_1");
	IN(c, &k, F_FIN, C_ISN, S_ISN + 1, 0);
	expect_at(c, "picked up: FIN|ACK in", &k, "flows:time_wait");

	setup(c);
	k = V4_CONN(40131);
	IN(c, &k, F_ACK, C_ISN, S_ISN, 0);
	expect_at(c, "ACK in for an unknown flow creates nothing", &k, "none");
	IN(c, &k, F_FIN, C_ISN, S_ISN, 0);
	expect_at(c, "FIN in for an unknown flow creates nothing", &k, "none");
	IN(c, &k, F_RST, C_ISN, 0, 0);
	OUT(c, &k, PKT_RST | PKT_ACK, S_ISN, C_ISN, 0);
	expect_at(c, "RST either way for an unknown flow creates nothing", &k, "none");
	expect(c, "spoofed: picked_up 0", d_stat(c, STAT_PICKED_UP), 0);
	expect(c, "spoofed: no closed_rst", d_stat(c, SG_FLOW_CLOSED_RST), 0);
}

/* Table @t's eviction interval over now (as if SG_EV_EVICT_INTERVAL_NS went by). */
static void ev_interval_over(struct ctx *c, __u32 t)
{
	struct sg_ev_table s;

	if (!bpf_map_lookup_elem(fd(c->skel->maps.sg_ev_table), &t, &s)) {
		s.until = 0;
		bpf_map_update_elem(fd(c->skel->maps.sg_ev_table), &t, &s, BPF_ANY);
	}
}

/* The entries the CPUs counted evicted from table @t (sg_ev_cpu). */
static long long ev_evicted(struct ctx *c, __u32 t)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct sg_ev_cpu v[ncpu > 0 ? ncpu : 1];
	long long n = 0;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd(c->skel->maps.sg_ev_cpu), &zero, v))
		return -1;
	for (i = 0; i < ncpu; i++)
		n += v[i].evicted[t];
	return n;
}

static long long map_entries(int map_fd);

/*
 * A SYN flood bigger than the half-open table: sg_half evicts, the
 * established flow in sg_flows stays.  The evictions are told: one
 * flow_table_evicting at the first, the rest at the interval's end, a
 * flow_table_drained once an interval passed with none; the counts are
 * what went missing from the map.
 */
/*
 * After flood(): sg_half of 1024 took 2002 SYNs (2000, two handshakes'),
 * the two completions moved out of it.  (Counted now: the SYN of the
 * second handshake may have evicted too.)
 */
static void flood_events(struct ctx *c)
{
	long long first, evicted = ev_evicted(c, SG_EV_TBL_HALF),
		  half = map_entries(fd(c->skel->maps.sg_half));
	static struct ev_log l;
	const struct sg_event *e;
	int i;

	ev_read(fd(c->skel->maps.sg_events), &l);
	e = ev_first(&l, SG_EV_FLOW_TABLE_EVICTING);
	printf("# flood: %d events, %lld evictions counted, sg_half holds %lld of 2002\n",
	       l.n, evicted, half);
	expect(c, "flood events: the CPUs counted every entry that went missing",
	       evicted, 2002 - 2 - half);
	expect(c, "flood events: one flow_table_evicting in the interval, nothing else",
	       ev_count(&l, SG_EV_FLOW_TABLE_EVICTING) * 10 + l.n, 11);
	expect(c, "flood events: ...of sg_half (aux), its max_entries 1024 (v[2])",
	       e ? (long long)e->aux * 100000 + (long long)e->v[2] : -1, 1024);
	expect(c, "flood events: ...at the first eviction: a batch, not the whole flood",
	       e && e->v[0] > 0 && (long long)e->v[0] < evicted, 1);
	expect(c, "flood events: ...the table's entries then: near full",
	       e && e->v[1] > 512 && e->v[1] <= 1024, 1);
	first = e ? (long long)e->v[0] : 0;
	/* The interval over, still evicting: the next insertion tells the rest. */
	ev_interval_over(c, SG_EV_TBL_HALF);
	IN(c, &((struct conn){ "198.18.0.1", "198.19.9.1", 80, 20000 }), F_SYN, 9000, 0, 0);
	ev_read(fd(c->skel->maps.sg_events), &l);
	e = ev_first(&l, SG_EV_FLOW_TABLE_EVICTING);
	expect(c, "flood events: next interval, one more flow_table_evicting",
	       ev_count(&l, SG_EV_FLOW_TABLE_EVICTING) * 10 + l.n, 11);
	expect(c, "flood events: ...with the evictions since the first event",
	       e ? (long long)e->v[0] : -1, ev_evicted(c, SG_EV_TBL_HALF) - first);
	/* Room again: an interval with insertions and no eviction ends it. */
	clear_map(fd(c->skel->maps.sg_half), sizeof(struct sg_flow_key));
	ev_interval_over(c, SG_EV_TBL_HALF);
	for (i = 0; i < 3; i++) {
		struct conn k = { "198.18.0.1", "198.19.9.2", 80, 21000 + i };

		IN(c, &k, F_SYN, 9000 + i, 0, 0);
	}
	ev_read(fd(c->skel->maps.sg_events), &l);
	e = ev_first(&l, SG_EV_FLOW_TABLE_DRAINED);
	expect(c, "flood events: drained: one flow_table_drained, nothing else",
	       ev_count(&l, SG_EV_FLOW_TABLE_DRAINED) * 10 + l.n, 11);
	expect(c, "flood events: ...with the episode's evictions, all of them",
	       e ? (long long)e->v[0] : -1, ev_evicted(c, SG_EV_TBL_HALF));
	expect(c, "flood events: ...and the entries then (the first SYN after the clear)",
	       e ? (long long)e->v[1] : -1, 1);
	for (i = 0; i < 50; i++) {
		struct conn k = { "198.18.0.1", "198.19.9.3", 80, 22000 + i };

		IN(c, &k, F_SYN, 9000 + i, 0, 0);
	}
	ev_interval_over(c, SG_EV_TBL_HALF);
	IN(c, &V4_CONN(40142), F_SYN, C_ISN, 0, 0);
	ev_read(fd(c->skel->maps.sg_events), &l);
	expect(c, "flood events: no eviction, no episode: no event", l.n, 0);
}

static void flood(struct ctx *outer)
{
	struct ctx c = { .n = outer->n };
	struct conn est = V4_CONN(40140), k;
	struct sg_flow_key key, next;
	char remote[32];
	int i, err, passed = 0;
	long long half = 0, started;

	c.skel = synguard__open();
	err = c.skel ? bpf_map__set_max_entries(c.skel->maps.sg_half, 1024) : -errno;
	if (!err)
		err = synguard__load(c.skel);
	if (err) {
		expect(&c, "flood: load with sg_half max_entries 1024", err, 0);
		goto out;
	}
	setup(&c);
	handshake_in(&c, &est);
	expect_at(&c, "flood: the established flow before", &est, "flows:established");
	started = d_stat(&c, SG_FLOW_SYN);
	for (i = 0; i < 2000; i++) {
		snprintf(remote, sizeof(remote), "198.19.%d.%d", i / 250, i % 250 + 1);
		k = (struct conn){ "198.18.0.1", remote, 80, 1024 + i };
		passed += IN(&c, &k, F_SYN, 7000 + i, 0, 0) == XDP_PASS;
	}
	expect(&c, "flood: 2000 distinct SYNs pass (no rate limit)", passed, 2000);
	expect(&c, "flood: 2000 handshakes started", d_stat(&c, SG_FLOW_SYN) - started, 2000);
	expect_at(&c, "flood: the established flow after", &est, "flows:established");
	expect(&c, "flood: no flow_table_full", d_stat(&c, SG_FLOW_TABLE_FULL), 0);
	for (err = bpf_map_get_next_key(fd(c.skel->maps.sg_half), NULL, &next); !err;
	     err = bpf_map_get_next_key(fd(c.skel->maps.sg_half), &key, &next)) {
		key = next;
		half++;
	}
	c.n++;
	if (half <= 1024 && half > 0) {
		printf("ok %d - flood: sg_half holds %lld <= 1024 entries\n", c.n, half);
	} else {
		c.failed++;
		printf("not ok %d - flood: sg_half holds %lld entries, want 1..1024\n", c.n, half);
	}
	k = V4_CONN(40141);
	handshake_in(&c, &k);
	expect_at(&c, "flood: a new handshake after the flood", &k, "flows:established");
	flood_events(&c);
out:
	synguard__destroy(c.skel);
	outer->n = c.n;
	outer->failed += c.failed;
}

/*
 * attach --force may carry sg_ev_cpu to a new sg_half: the count's address
 * cached for the old table must not be read for the new one.  Two objects
 * share sg_ev_cpu, each its own sg_half of 256; 600 SYNs into each.
 */
static void evictions_carried(struct ctx *outer)
{
	struct ctx c = { .n = outer->n };
	struct synguard *a, *b = NULL;
	long long before, present;
	char remote[32];
	int i, err;

	a = synguard__open();
	err = a ? bpf_map__set_max_entries(a->maps.sg_half, 256) ?: synguard__load(a) : -errno;
	if (!err) {
		b = synguard__open();
		err = b ? bpf_map__set_max_entries(b->maps.sg_half, 256) ?:
			  bpf_map__reuse_fd(b->maps.sg_ev_cpu, fd(a->maps.sg_ev_cpu)) ?:
			  synguard__load(b) : -errno;
	}
	if (err) {
		expect(&c, "carried: two objects, one sg_ev_cpu", err, 0);
		goto out;
	}
	for (i = 0; i < 1200; i++) {
		struct conn k;

		c.skel = i < 600 ? a : b;
		if (i == 600) {
			present = map_entries(fd(a->maps.sg_half));
			expect(&c, "carried: the first table's evictions counted",
			       ev_evicted(&c, SG_EV_TBL_HALF), 600 - present);
			before = ev_evicted(&c, SG_EV_TBL_HALF);
		}
		snprintf(remote, sizeof(remote), "198.19.%d.%d", 20 + i / 250, i % 250 + 1);
		k = (struct conn){ "198.18.0.1", remote, 80, 1024 + i };
		IN(&c, &k, F_SYN, 7000 + i, 0, 0);
	}
	present = map_entries(fd(b->maps.sg_half));
	expect(&c, "carried: the second table's, not the first's",
	       ev_evicted(&c, SG_EV_TBL_HALF) - before, 600 - present);
out:
	synguard__destroy(b);
	synguard__destroy(a);
	outer->n = c.n;
	outer->failed += c.failed;
}

static struct sg_flow_maps flow_maps(struct synguard *skel)
{
	return (struct sg_flow_maps){ .half_fd = fd(skel->maps.sg_half),
				      .flows_fd = fd(skel->maps.sg_flows),
				      .hist_fd = fd(skel->maps.sg_hist),
				      .gauge_fd = fd(skel->maps.sg_gauge),
				      .gauge_base_fd = fd(skel->maps.sg_gauge_base),
				      .walk_fd = -1 };
}

/* Entries in @map_fd, by iterating its keys. */
static long long map_entries(int map_fd)
{
	struct sg_flow_key key, next;
	long long n = 0;
	int err;

	for (err = bpf_map_get_next_key(map_fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(map_fd, &key, &next)) {
		key = next;
		n++;
	}
	return n;
}

#define WALKED(s) (!!((s).walk & SG_WALK_WALKED))

/*
 * The gauges as `synguard stats` reads them (flows_read: bpf/flow_walk.bpf.c):
 * live entries by state with the timeouts applied, the expired ones removed
 * by the reading that found them; sg_flows' from the programs' counts when
 * they add up to the map's own count, else by a walk that re-bases them.
 */
/* CLOCK_MONOTONIC, what bpf_ktime_get_ns() reads. */
static __u64 mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The walk that `stats` runs reads the clock once, then the tables; a
 * program may stamp an entry in between (a SYN-ACK going out), so an
 * entry's time may be ahead of the walk's.  Such an entry is new, not
 * expired: stamped 5 s ahead, the half-open flow and the TIME_WAIT flow
 * are counted and kept.  (The unsigned difference made them 584 years
 * old, and the walk deleted real half-open flows during a flood.)
 */
static void walk_future(struct ctx *c)
{
	struct conn half = V4_CONN(40300), tw = V4_CONN(40301);
	struct sg_config cfg = { .half_open_s = 63, .time_wait_s = 60 };
	struct sg_flow_maps m = flow_maps(c->skel);
	struct sg_flow_key k, next;
	struct sg_flow f;
	struct sg_conn cn;
	struct sg_flow_summary s;
	__u64 ahead = mono_now() + 5000000000ULL;

	setup(c);
	IN(c, &half, F_SYN, C_ISN, 0, 0);
	OUT(c, &half, F_SYNACK, S_ISN, C_ISN + 1, 0);
	handshake_in(c, &tw);
	OUT(c, &tw, F_FIN, S_ISN + 1, C_ISN + 1, 0);
	IN(c, &tw, F_FIN, C_ISN + 1, S_ISN + 2, 0);
	if (bpf_map_get_next_key(m.half_fd, NULL, &next) ||
	    bpf_map_lookup_elem(m.half_fd, &next, &f)) {
		expect(c, "walk, stamped ahead: the half-open entry exists", 0, 1);
		return;
	}
	k = next;
	f.syn_ns = f.synack_ns = f.last_ns = ahead;
	bpf_map_update_elem(m.half_fd, &k, &f, BPF_EXIST);
	if (!bpf_map_get_next_key(m.flows_fd, NULL, &next) &&
	    !bpf_map_lookup_elem(m.flows_fd, &next, &cn)) {
		k = next;
		cn.last = (__u32)(ahead >> SG_TICK_SHIFT);
		bpf_map_update_elem(m.flows_fd, &k, &cn, BPF_EXIST);
	}
	expect(c, "walk, stamped ahead: flows_read", flows_read(&m, &cfg, SG_WALK_FULL, &s), 0);
	expect(c, "walk, stamped ahead: the half-open flow counted", s.state[SG_TCP_SYN_RCVD], 1);
	expect(c, "walk, stamped ahead: ...and kept", map_entries(m.half_fd), 1);
	expect(c, "walk, stamped ahead: the TIME_WAIT flow counted", s.state[SG_TCP_TIME_WAIT], 1);
	expect(c, "walk, stamped ahead: ...and kept", map_entries(m.flows_fd), 1);
}

static void gauges(struct ctx *c)
{
	struct conn est = V4_CONN(40200), tw = V6_CONN(40201), twr = V4_CONN(40202),
		    half = V4_CONN(40203), sent = { "198.18.0.1", "198.18.0.2", 40204, 443 },
		    more = V4_CONN(40205);
	struct sg_config cfg = { .half_open_s = 63, .time_wait_s = 60 };
	struct sg_flow_maps m = flow_maps(c->skel);
	struct sg_flow_summary s, w;
	int err;

	setup(c);
	handshake_in(c, &est);
	handshake_in(c, &tw);
	OUT(c, &tw, F_FIN, S_ISN + 1, C_ISN + 1, 0);
	IN(c, &tw, F_FIN, C_ISN + 1, S_ISN + 2, 0);
	handshake_in(c, &twr);
	IN(c, &twr, F_FIN, C_ISN + 1, S_ISN + 1, 0);
	OUT(c, &twr, F_FIN, S_ISN + 1, C_ISN + 2, 0);
	IN(c, &twr, F_ACK, C_ISN + 2, S_ISN + 2, 0);
	IN(c, &half, F_SYN, C_ISN, 0, 0);
	OUT(c, &half, F_SYNACK, S_ISN, C_ISN + 1, 0);
	OUT(c, &sent, F_SYN, C_ISN, 0, 0);
	err = flows_read(&m, &cfg, 0, &s);
	expect(c, "gauges: flows_read", err, 0);
	/* setup() emptied sg_flows from userspace, behind the programs' counts. */
	expect(c, "gauges: after deletes nobody counted, sg_flows is walked", WALKED(s), 1);
	expect(c, "gauges: ...and the gauges re-based", !!(s.walk & SG_WALK_REBASED), 1);
	expect(c, "gauges: established", s.state[SG_TCP_ESTABLISHED], 1);
	expect(c, "gauges: time_wait (IPv6)", s.state[SG_TCP_TIME_WAIT], 1);
	expect(c, "gauges: time_wait_remote", s.state[SG_TCP_REMOTE_TIME_WAIT], 1);
	expect(c, "gauges: half_open", s.state[SG_TCP_SYN_RCVD], 1);
	expect(c, "gauges: syn_sent", s.state[SG_TCP_SYN_SENT], 1);
	expect(c, "gauges: flow_entries", s.flow_entries, 3);
	expect(c, "gauges: half_open_entries", s.half_entries, 2);
	expect(c, "gauges: flows_max is the table's size", s.flows_max, SG_DEFAULT_FLOWS_MAX);

	flows_read(&m, &cfg, 0, &s);
	expect(c, "gauges, next reading: from the counts, no walk", WALKED(s), 0);
	expect(c, "gauges, next reading: established", s.state[SG_TCP_ESTABLISHED], 1);
	expect(c, "gauges, next reading: time_wait", s.state[SG_TCP_TIME_WAIT], 1);
	expect(c, "gauges, next reading: time_wait_remote", s.state[SG_TCP_REMOTE_TIME_WAIT], 1);
	expect(c, "gauges, next reading: flow_entries (the kernel's count)", s.flow_entries, 3);

	/* Changes the programs make are counted: still no walk, still exact. */
	handshake_in(c, &more);
	OUT(c, &more, F_FIN, S_ISN + 1, C_ISN + 1, 0);
	IN(c, &est, F_FIN, C_ISN + 1, S_ISN + 1, 0);
	flows_read(&m, &cfg, 0, &s);
	flows_read(&m, &cfg, SG_WALK_FULL, &w);
	expect(c, "gauges after a handshake and two FINs: no walk", WALKED(s), 0);
	expect(c, "gauges: ...established", s.state[SG_TCP_ESTABLISHED], 0);
	expect(c, "gauges: ...fin_wait_1", s.state[SG_TCP_FIN_WAIT_1], 1);
	expect(c, "gauges: ...close_wait", s.state[SG_TCP_CLOSE_WAIT], 1);
	expect(c, "gauges: ...a walk (SG_WALK_FULL) agrees: fin_wait_1",
	       w.state[SG_TCP_FIN_WAIT_1], 1);
	expect(c, "gauges: ...a walk agrees: close_wait", w.state[SG_TCP_CLOSE_WAIT], 1);
	IN(c, &more, PKT_RST, C_ISN + 1, 0, 0);
	flows_read(&m, &cfg, 0, &s);
	expect(c, "gauges after a RST: no walk", WALKED(s), 0);
	expect(c, "gauges after a RST: fin_wait_1", s.state[SG_TCP_FIN_WAIT_1], 0);
	expect(c, "gauges after a RST: flow_entries", s.flow_entries, 3);

	/* Timeouts of 0: everything that can expire has, and a walk finds it. */
	cfg.half_open_s = 0;
	cfg.time_wait_s = 0;
	flows_read(&m, &cfg, 0, &s);
	expect(c, "gauges, all expired: TIME_WAIT may have expired: walked", WALKED(s), 1);
	expect(c, "gauges, all expired: time_wait", s.state[SG_TCP_TIME_WAIT], 0);
	expect(c, "gauges, all expired: time_wait_remote", s.state[SG_TCP_REMOTE_TIME_WAIT], 0);
	expect(c, "gauges, all expired: half_open", s.state[SG_TCP_SYN_RCVD], 0);
	expect(c, "gauges, all expired: syn_sent still counts (its own 127 s)",
	       s.state[SG_TCP_SYN_SENT], 1);
	expect(c, "gauges, all expired: close_wait never expires", s.state[SG_TCP_CLOSE_WAIT], 1);
	expect(c, "gauges, all expired: entries still there when found", s.flow_entries, 3);
	expect_at(c, "gauges: the reading removed the expired TIME_WAIT", &tw, "none");
	expect_at(c, "gauges: ...and the expired half-open flow", &half, "none");
	expect_at(c, "gauges: ...not the one in close_wait", &est, "flows:close_wait");
	flows_read(&m, &cfg, 0, &s);
	expect(c, "gauges, next reading: no TIME_WAIT left, no walk", WALKED(s), 0);
	expect(c, "gauges, next reading: flow_entries", s.flow_entries, 1);
	expect(c, "gauges, next reading: half_open_entries", s.half_entries, 1);
	expect(c, "gauges, next reading: close_wait", s.state[SG_TCP_CLOSE_WAIT], 1);
}

/* One segment of a scripted close, and where the flow must be after it. */
struct step {
	int dir;
	__u8 flags;
	__u32 seq, ack, payload;
	const char *want;
};

/* The server's (local) and the client's (remote) first unsent numbers. */
#define S_NXT (S_ISN + 1)
#define C_NXT (C_ISN + 1)

struct close_case {
	const char *name;
	struct step s[5];
	__u8 closer;		/* who closed first, as the sequence numbers say */
	int tw, tw_remote;	/* the gauges once it is done */
};

/*
 * Every order a close can take, as the segments reach synguard: XDP sees
 * the client's, egress the server's, on different CPUs, so when both ends
 * close at once either FIN may come first whatever the sockets did.  The
 * server holds TIME_WAIT when its FIN did not acknowledge the client's
 * (tcp_fin(): FIN_WAIT_1 or FIN_WAIT_2 takes the FIN, CLOSING then
 * TIME_WAIT), not when it did (CLOSE_WAIT, LAST_ACK, CLOSED).
 */
static const struct close_case close_cases[] = {
	{ "server first", {
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT, 0, "flows:fin_wait_1" },
		{ SG_DIR_IN, F_ACK, C_NXT, S_NXT + 1, 0, "flows:fin_wait_2" },
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT + 1, 0, "flows:time_wait" },
		{ SG_DIR_OUT, F_ACK, S_NXT + 1, C_NXT + 1, 0, "flows:time_wait" } },
	  SG_DIR_OUT, 1, 0 },
	{ "server first, the client's FIN acking ours (FIN|ACK)", {
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT, 0, "flows:fin_wait_1" },
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT + 1, 0, "flows:time_wait" },
		{ SG_DIR_OUT, F_ACK, S_NXT + 1, C_NXT + 1, 0, "flows:time_wait" } },
	  SG_DIR_OUT, 1, 0 },
	{ "client first", {
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT, 0, "flows:close_wait" },
		{ SG_DIR_OUT, F_ACK, S_NXT, C_NXT + 1, 0, "flows:close_wait" },
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT + 1, 0, "flows:last_ack" },
		{ SG_DIR_IN, F_ACK, C_NXT + 1, S_NXT + 1, 0, "flows:time_wait_remote" } },
	  SG_DIR_IN, 0, 1 },
	{ "client first, the server's FIN acking it (FIN|ACK)", {
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT, 0, "flows:close_wait" },
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT + 1, 0, "flows:last_ack" },
		{ SG_DIR_IN, F_ACK, C_NXT + 1, S_NXT + 1, 0, "flows:time_wait_remote" } },
	  SG_DIR_IN, 0, 1 },
	{ "FINs crossed, the server's seen first", {
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT, 0, "flows:fin_wait_1" },
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT, 0, "flows:closing" },
		{ SG_DIR_OUT, F_ACK, S_NXT + 1, C_NXT + 1, 0, "flows:closing" },
		{ SG_DIR_IN, F_ACK, C_NXT + 1, S_NXT + 1, 0, "flows:time_wait" } },
	  SG_DIR_BOTH, 1, 0 },
	{ "FINs crossed, the client's seen first", {
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT, 0, "flows:close_wait" },
		/* Sent before the client's FIN came: it does not ack it. */
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT, 0, "flows:closing" },
		{ SG_DIR_IN, F_ACK, C_NXT + 1, S_NXT + 1, 0, "flows:time_wait" },
		{ SG_DIR_OUT, F_ACK, S_NXT + 1, C_NXT + 1, 0, "flows:time_wait" } },
	  SG_DIR_BOTH, 1, 0 },
	{ "FINs crossed, the client's first, our ACK of it before theirs of ours", {
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT, 0, "flows:close_wait" },
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT, 0, "flows:closing" },
		{ SG_DIR_OUT, F_ACK, S_NXT + 1, C_NXT + 1, 0, "flows:closing" },
		{ SG_DIR_IN, F_ACK, C_NXT + 1, S_NXT + 1, 0, "flows:time_wait" } },
	  SG_DIR_BOTH, 1, 0 },
	{ "FINs crossed, the client's first with data, ours acking the data only", {
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT, 10, "flows:close_wait" },
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT + 10, 0, "flows:closing" },
		{ SG_DIR_IN, F_ACK, C_NXT + 11, S_NXT + 1, 0, "flows:time_wait" } },
	  SG_DIR_BOTH, 1, 0 },
	{ "client first with data, the server's FIN acking its FIN", {
		{ SG_DIR_IN, F_FIN, C_NXT, S_NXT, 10, "flows:close_wait" },
		{ SG_DIR_OUT, F_FIN, S_NXT, C_NXT + 11, 0, "flows:last_ack" },
		{ SG_DIR_IN, F_ACK, C_NXT + 11, S_NXT + 1, 0, "flows:time_wait_remote" } },
	  SG_DIR_IN, 0, 1 },
};

static void close_orders(struct ctx *c)
{
	struct sg_config cfg = { .half_open_s = 63, .time_wait_s = 60 };
	struct sg_flow_maps m = flow_maps(c->skel);
	struct sg_flow_summary s;
	unsigned int i, j;
	char d[192];

	for (i = 0; i < sizeof(close_cases) / sizeof(close_cases[0]); i++) {
		const struct close_case *cc = &close_cases[i];
		struct conn k = V4_CONN(40300 + i);
		struct sg_conn f = {};

		setup(c);
		handshake_in(c, &k);
		for (j = 0; j < 5 && cc->s[j].want; j++) {
			const struct step *st = &cc->s[j];

			seg(c, &k, st->dir, st->flags, st->seq, st->ack, st->payload);
			snprintf(d, sizeof(d), "close, %s: %s %s%s seq +%u ack +%u", cc->name,
				 st->dir == SG_DIR_IN ? "in" : "out",
				 st->flags & PKT_FIN ? "FIN" : "ACK",
				 st->payload ? " with data" : "",
				 st->seq - (st->dir == SG_DIR_IN ? C_ISN : S_ISN),
				 st->ack - (st->dir == SG_DIR_IN ? S_ISN : C_ISN));
			expect_at(c, d, &k, st->want);
		}
		where(c, &k, NULL, &f);
		snprintf(d, sizeof(d), "close, %s: closer", cc->name);
		expect(c, d, f.closer, cc->closer);
		snprintf(d, sizeof(d), "close, %s: closed_fin +1", cc->name);
		expect(c, d, d_stat(c, SG_FLOW_CLOSED_FIN), 1);
		flows_read(&m, &cfg, 0, &s);
		snprintf(d, sizeof(d), "close, %s: gauge time_wait", cc->name);
		expect(c, d, s.state[SG_TCP_TIME_WAIT], cc->tw);
		snprintf(d, sizeof(d), "close, %s: gauge time_wait_remote", cc->name);
		expect(c, d, s.state[SG_TCP_REMOTE_TIME_WAIT], cc->tw_remote);
		snprintf(d, sizeof(d), "close, %s: gauges in no other closing state", cc->name);
		expect(c, d, s.state[SG_TCP_CLOSING] + s.state[SG_TCP_LAST_ACK] +
			     s.state[SG_TCP_CLOSE_WAIT] + s.state[SG_TCP_FIN_WAIT_1] +
			     s.state[SG_TCP_FIN_WAIT_2], 0);
	}
}

/* Is @k in sg_flows, in sg_half?  (where() says "both" and no more.) */
static const char *in_table(struct ctx *c, const struct conn *k, bool half)
{
	static char buf[64];
	struct sg_flow_key key;
	struct sg_flow h;
	struct sg_conn f;
	__u8 st;

	flow_key(k, &key);
	if (half ? bpf_map_lookup_elem(fd(c->skel->maps.sg_half), &key, &h) :
		   bpf_map_lookup_elem(fd(c->skel->maps.sg_flows), &key, &f))
		return "none";
	st = half ? h.state : f.state;
	snprintf(buf, sizeof(buf), "%s:%s", half ? "half" : "flows",
		 st < SG_TCP_STATE_MAX ? state_names[st] : "?");
	return buf;
}

static void expect_in(struct ctx *c, const char *desc, const struct conn *k, bool half,
		      const char *want)
{
	const char *got = in_table(c, k, half);

	c->n++;
	if (!strcmp(got, want)) {
		printf("ok %d - %s: %s\n", c->n, desc, want);
		return;
	}
	c->failed++;
	printf("not ok %d - %s: %s\n#   got %s, want %s\n", c->n, desc, want, got, want);
}

/* A server-first close of @k to TIME_WAIT: the client's FIN at C_NXT. */
static void to_time_wait(struct ctx *c, const struct conn *k)
{
	handshake_in(c, k);
	OUT(c, k, F_FIN, S_NXT, C_NXT, 0);
	IN(c, k, F_FIN, C_NXT, S_NXT + 1, 0);
	OUT(c, k, F_ACK, S_NXT + 1, C_NXT + 1, 0);
}

/*
 * A SYN to ports in TIME_WAIT (tcp_timewait_state_process()): past RCV.NXT
 * (C_NXT + 1 here) the TIME_WAIT socket gives way at once; at or before it
 * the socket stays and answers with an ACK, unless the SYN's timestamp is
 * newer, which synguard does not keep: then the host's SYN-ACK says it
 * gave way.  The client answers that ACK with a RST at RCV.NXT, which
 * ends the TIME_WAIT socket; a RST anywhere else it ignores.
 */
static void tw_reuse(struct ctx *c)
{
	struct conn k = V4_CONN(40320);
	struct sg_config cfg = { .half_open_s = 63, .time_wait_s = 60 };
	struct sg_flow_maps m = flow_maps(c->skel);
	struct sg_flow_summary s;

	setup(c);
	to_time_wait(c, &k);
	IN(c, &k, F_SYN, C_NXT + 1, 0, 0);
	expect_in(c, "reuse, SYN at RCV.NXT: TIME_WAIT stays", &k, false, "flows:time_wait");
	expect_in(c, "reuse, SYN at RCV.NXT: the attempt is tracked", &k, true, "half:syn_seen");
	flows_read(&m, &cfg, 0, &s);
	expect(c, "reuse, SYN at RCV.NXT: gauge time_wait", s.state[SG_TCP_TIME_WAIT], 1);
	OUT(c, &k, F_ACK, S_NXT + 1, C_NXT + 1, 0);
	expect_in(c, "reuse, the host answers with an ACK: TIME_WAIT stays", &k, false,
		  "flows:time_wait");
	IN(c, &k, F_RST, C_NXT, 0, 0);
	expect_in(c, "reuse, RST at the FIN's number (RCV.NXT - 1): TIME_WAIT stays", &k, false,
		  "flows:time_wait");
	IN(c, &k, F_RST, C_NXT + 1, 0, 0);
	expect_in(c, "reuse, the client's RST at RCV.NXT ends it", &k, false, "none");
	flows_read(&m, &cfg, 0, &s);
	expect(c, "reuse, RST at RCV.NXT: gauge time_wait", s.state[SG_TCP_TIME_WAIT], 0);
	expect(c, "reuse, RST at RCV.NXT: not closed_rst (TIME_WAIT was done)",
	       d_stat(c, SG_FLOW_CLOSED_RST), 0);
	IN(c, &k, F_SYN, C_NXT + 1, 0, 0);
	expect(c, "reuse, the SYN again is a retransmit", d_stat(c, SG_FLOW_SYN_RETRANS), 1);
	OUT(c, &k, F_SYNACK, S_ISN + 9000, C_NXT + 2, 0);
	IN(c, &k, F_ACK, C_NXT + 2, S_ISN + 9001, 0);
	expect_at(c, "reuse, then the handshake completes", &k, "flows:established");

	/* An older ISN the host takes (by its timestamp): its SYN-ACK says so. */
	k = V4_CONN(40321);
	setup(c);
	to_time_wait(c, &k);
	IN(c, &k, F_SYN, C_ISN - 70000, 0, 0);
	expect_in(c, "reuse, SYN before RCV.NXT: TIME_WAIT stays", &k, false, "flows:time_wait");
	OUT(c, &k, F_SYNACK, S_ISN + 9000, C_ISN - 69999, 0);
	expect_at(c, "reuse, the host's SYN-ACK: TIME_WAIT gone, half-open", &k, "half:half_open");
	IN(c, &k, F_ACK, C_ISN - 69999, S_ISN + 9001, 0);
	expect_at(c, "reuse, SYN-ACK'd: the handshake completes", &k, "flows:established");
	expect(c, "reuse, SYN-ACK'd: hs_completed 2", d_stat(c, SG_FLOW_COMPLETED), 2);
	flows_read(&m, &cfg, 0, &s);
	expect(c, "reuse, SYN-ACK'd: gauge time_wait", s.state[SG_TCP_TIME_WAIT], 0);
	expect(c, "reuse, SYN-ACK'd: gauge established", s.state[SG_TCP_ESTABLISHED], 1);

	/* Past RCV.NXT: the TIME_WAIT socket gives way to the SYN at once. */
	k = V4_CONN(40322);
	setup(c);
	to_time_wait(c, &k);
	IN(c, &k, F_SYN, C_NXT + 2, 0, 0);
	expect_at(c, "reuse, SYN past RCV.NXT: TIME_WAIT gone at once", &k, "half:syn_seen");
	flows_read(&m, &cfg, 0, &s);
	expect(c, "reuse, SYN past RCV.NXT: gauge time_wait", s.state[SG_TCP_TIME_WAIT], 0);
}

/*
 * A RST from the client once its FIN is in: the kernel takes it at RCV.NXT,
 * and in CLOSE_WAIT, CLOSING and LAST_ACK at the FIN's own number too
 * (tcp_reset_check()); others it drops or answers with an ACK (RFC 5961).
 */
static void rst_after_fin(struct ctx *c)
{
	struct conn k = V4_CONN(40330);

	setup(c);
	handshake_in(c, &k);
	IN(c, &k, F_FIN, C_NXT, S_NXT, 0);
	OUT(c, &k, F_FIN, S_NXT, C_NXT + 1, 0);
	IN(c, &k, F_RST, C_NXT + 100, 0, 0);
	expect_at(c, "last_ack: RST in the window, not at RCV.NXT: ignored", &k, "flows:last_ack");
	IN(c, &k, F_RST, C_NXT, 0, 0);
	expect_at(c, "last_ack: RST at the FIN's number ends it", &k, "none");
	expect(c, "last_ack: closed_rst +1", d_stat(c, SG_FLOW_CLOSED_RST), 1);

	k = V4_CONN(40331);
	setup(c);
	handshake_in(c, &k);
	IN(c, &k, F_FIN, C_NXT, S_NXT, 0);
	IN(c, &k, PKT_RST | PKT_ACK, C_NXT + 1, S_NXT, 0);
	expect_at(c, "close_wait: RST at RCV.NXT ends it", &k, "none");

	/* Seen in the lab: a client's RST at its FIN's own number. */
	k = V4_CONN(40333);
	setup(c);
	to_time_wait(c, &k);
	IN(c, &k, F_RST, C_NXT, 0, 0);
	expect_at(c, "time_wait: RST at the FIN's number (RCV.NXT - 1): ignored", &k,
		  "flows:time_wait");
	IN(c, &k, PKT_RST | PKT_ACK, C_NXT + 1, S_NXT + 1, 0);
	expect_at(c, "time_wait: RST at RCV.NXT ends it", &k, "none");

	k = V4_CONN(40332);
	setup(c);
	to_time_wait(c, &k);
	OUT(c, &k, PKT_RST, S_NXT + 1, 0, 0);
	expect_at(c, "time_wait: a RST the host sends ends it (TCP_TW_RST)", &k, "none");
}

/*
 * The LRU evicts silently, in batches per CPU: an sg_flows of 64 entries given
 * 300 handshakes.  The counts then exceed the map's own count; the reader
 * must notice, walk, and give what the map holds.
 */
static void gauges_evicted(struct ctx *outer)
{
	struct ctx c = { .n = outer->n };
	struct sg_config cfg = { .half_open_s = 63, .time_wait_s = 60 };
	struct sg_flow_summary s;
	struct sg_flow_maps m;
	long long n;
	int i, err;

	c.skel = synguard__open();
	err = c.skel ? bpf_map__set_max_entries(c.skel->maps.sg_flows, 64) : -errno;
	if (!err)
		err = synguard__load(c.skel);
	if (err) {
		expect(&c, "evicted: load with sg_flows max_entries 64", err, 0);
		goto out;
	}
	m = flow_maps(c.skel);
	setup(&c);
	for (i = 0; i < 300; i++) {
		struct conn k = V4_CONN(41000 + i);

		handshake_in(&c, &k);
	}
	n = map_entries(fd(c.skel->maps.sg_flows));
	c.n++;
	printf("%s %d - evicted: sg_flows holds %lld of 300 flows (64 slots)\n",
	       n > 0 && n <= 64 ? "ok" : "not ok", c.n, n);
	if (!(n > 0 && n <= 64))
		c.failed++;
	{
		static struct ev_log l;
		const struct sg_event *e;

		ev_read(fd(c.skel->maps.sg_events), &l);
		e = ev_first(&l, SG_EV_FLOW_TABLE_EVICTING);
		expect(&c, "evicted: the CPUs counted every flow that went missing",
		       ev_evicted(&c, SG_EV_TBL_FLOWS), 300 - n);
		expect(&c, "evicted: one flow_table_evicting, of sg_flows (aux 1), 64 max",
		       e ? (long long)(ev_count(&l, SG_EV_FLOW_TABLE_EVICTING) * 1000 + e->aux * 100 + e->v[2]) : -1,
		       1164);
	}
	err = flows_read(&m, &cfg, 0, &s);
	expect(&c, "evicted: flows_read", err, 0);
	expect(&c, "evicted: the counts did not add up: walked", WALKED(s), 1);
	expect(&c, "evicted: established is what the map holds", s.state[SG_TCP_ESTABLISHED], n);
	expect(&c, "evicted: flow_entries", s.flow_entries, n);
	flows_read(&m, &cfg, 0, &s);
	expect(&c, "evicted, re-based: no walk", WALKED(s), 0);
	expect(&c, "evicted, re-based: established", s.state[SG_TCP_ESTABLISHED], n);
out:
	synguard__destroy(c.skel);
	outer->n = c.n;
	outer->failed += c.failed;
}

/*
 * A request's end, as Linux's timer wheel makes it (sg_reqsk_expiry): by
 * hand, HZ 250 and 2 retries from jiffy 0, the timer fires at 256 (250
 * rounded up to level 1's 8), 760 (756 likewise) and drops the request
 * at 1792 (1760 rounded up to level 2's 64): 7.168 s, not 7.
 */
static void reqsk_model(struct ctx *c)
{
	expect(c, "reqsk expiry: HZ 250, 2 retries, armed at 0: 1792", sg_reqsk_expiry(0, 250, 2), 1792);
	expect(c, "reqsk expiry: HZ 1000, 2 retries, armed at 0: 7104", sg_reqsk_expiry(0, 1000, 2), 7104);
	expect(c, "reqsk expiry: HZ 250, 1 retry, armed at 0: 760", sg_reqsk_expiry(0, 250, 1), 760);
	expect(c, "reqsk expiry: wraps with jiffies' low 32 bits",
	       sg_reqsk_expiry(0xFFFFFF00u, 250, 2), (__u32)(0xFFFFFF00u + 1792));
	expect(c, "synack retries of a 7 s timeout: 2", flows_synack_retries(7), 2);
	expect(c, "synack retries of a 63 s timeout: 5", flows_synack_retries(63), 5);
	expect(c, "synack retries of a 3 s timeout: 1", flows_synack_retries(3), 1);
	expect(c, "synack retries of a 10 s timeout: none (the timeout alone)", flows_synack_retries(10), 0);
	expect(c, "synack retries of a 1 s timeout: none", flows_synack_retries(1), 0);
}

/* CLOCK_MONOTONIC_COARSE's resolution is a tick: HZ. */
static __u32 test_hz(void)
{
	struct timespec r;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &r) || r.tv_sec || !r.tv_nsec)
		return 0;
	return (__u32)((1000000000L + r.tv_nsec / 2) / r.tv_nsec);
}

/* Sets the half-open entry of @k: its SYN-ACK @age_ns ago, on jiffy @j0. */
static int half_stamp(struct ctx *c, const struct conn *k, __u64 age_ns, __u32 j0)
{
	struct sg_flow_maps m = flow_maps(c->skel);
	struct sg_flow_key key;
	struct sg_flow f;

	flow_key(k, &key);
	if (bpf_map_lookup_elem(m.half_fd, &key, &f))
		return -1;
	f.syn_ns = f.synack_ns = f.last_ns = mono_now() - age_ns;
	f.synack_jiffy = j0;
	return bpf_map_update_elem(m.half_fd, &key, &f, BPF_EXIST);
}

/*
 * With a timeout of 2^(n+1) - 1 s (tcp_synack_retries n) a walk ages a
 * half-open flow as the kernel ages its request: gone on the jiffy the
 * kernel's timer drops it, not 7 s after the SYN-ACK.  An entry 7.0x s
 * old that the kernel still holds is kept; one the model says is gone
 * goes even if its SYN-ACK is a second old; an entry without a jiffy, or
 * a timeout of no such form, ages by the clock.
 */
static void walk_reqsk(struct ctx *c)
{
	struct conn held = V4_CONN(40400), gone = V4_CONN(40401), nojiffy = V4_CONN(40402),
		    young = V4_CONN(40403);
	struct sg_config cfg = { .half_open_s = 7, .time_wait_s = 60 };
	struct sg_flow_maps m = flow_maps(c->skel);
	struct sg_flow_summary s;
	__u32 hz = test_hz(), j = 0, d, jheld = 0, jgone = 0;
	__u64 tick, dheld = 0;
	struct flow_walk *walker;
	int i;
	char rcvd[64];

	if (!hz) {
		expect(c, "walk, reqsk: HZ from CLOCK_MONOTONIC_COARSE", 0, 1);
		return;
	}
	tick = 1000000000ULL / hz;
	snprintf(rcvd, sizeof(rcvd), "half:%s", state_names[SG_TCP_SYN_RCVD]);
	setup(c);
	/* Loaded once, as an attachment pins it: a load takes up to 200 ms. */
	walker = flows_walker(&m);
	if (!walker) {
		expect(c, "walk, reqsk: flows_walker", 0, 1);
		return;
	}
	m.walk_fd = bpf_program__fd(walker->progs.sg_walk);
	IN(c, &held, F_SYN, C_ISN, 0, 0);
	OUT(c, &held, F_SYNACK, S_ISN, C_ISN + 1, 0);
	IN(c, &gone, F_SYN, C_ISN, 0, 0);
	OUT(c, &gone, F_SYNACK, S_ISN, C_ISN + 1, 0);
	IN(c, &nojiffy, F_SYN, C_ISN, 0, 0);
	OUT(c, &nojiffy, F_SYNACK, S_ISN, C_ISN + 1, 0);
	IN(c, &young, F_SYN, C_ISN, 0, 0);
	OUT(c, &young, F_SYNACK, S_ISN, C_ISN + 1, 0);
	expect(c, "walk, reqsk: flows_read", flows_read(&m, &cfg, 0, &s), 0);
	expect(c, "walk, reqsk: four half-open flows", s.state[SG_TCP_SYN_RCVD], 4);
	expect(c, "walk, reqsk: the walk read jiffies", !!s.jiffies, 1);
	/*
	 * Armed at least 7 s ago, the kernel dropping it 120 ms on or later:
	 * whether such a jiffy exists depends on where now falls between the
	 * wheel's 64-tick marks, so wait for a now where it does.
	 */
	for (i = 0; i < 100 && !jheld; i++) {
		if (i) {
			usleep(4000);
			flows_read(&m, &cfg, 0, &s);
		}
		j = (__u32)s.jiffies;
		for (d = 7 * hz; d <= 8 * hz && !jheld; d++)
			if ((__s32)(sg_reqsk_expiry(j - d, hz, 2) - j) >= (__s32)(hz * 3 / 25))
				jheld = j - d, dheld = d;
	}
	/* Dropped by the kernel at least 5 ticks ago. */
	for (d = 7 * hz; d < 9 * hz && !jgone; d++)
		if ((__s32)(sg_reqsk_expiry(j - d, hz, 2) - j) <= -5)
			jgone = j - d;
	if (!jheld || !jgone) {
		expect(c, "walk, reqsk: jiffies to test with", 0, 1);
		flow_walk__destroy(walker);
		return;
	}
	half_stamp(c, &held, dheld * tick, jheld);
	half_stamp(c, &gone, 1000000000ULL, jgone);
	half_stamp(c, &nojiffy, 7100000000ULL, 0);
	half_stamp(c, &young, 6000000000ULL, 0);
	expect(c, "walk, reqsk: flows_read", flows_read(&m, &cfg, 0, &s), 0);
	expect(c, "walk, reqsk: 7.0x s old, the kernel's timer not yet run out: counted",
	       s.state[SG_TCP_SYN_RCVD], 2);
	expect_in(c, "walk, reqsk: ...kept", &held, true, rcvd);
	expect_in(c, "walk, reqsk: its SYN-ACK 1 s old but the kernel's timer run out: gone",
		  &gone, true, "none");
	expect_in(c, "walk, reqsk: no jiffy, 7.1 s old: gone by the clock", &nojiffy, true, "none");
	expect_in(c, "walk, reqsk: no jiffy, 6 s old: kept", &young, true, rcvd);

	/* A timeout of no tcp_synack_retries' form: by the clock alone. */
	cfg.half_open_s = 10;
	half_stamp(c, &held, 1000000000ULL, jgone);
	expect(c, "walk, reqsk, 10 s timeout: flows_read", flows_read(&m, &cfg, 0, &s), 0);
	expect_in(c, "walk, reqsk, 10 s timeout: a 1 s old SYN-ACK is kept, whatever its jiffy",
		  &held, true, rcvd);
	flow_walk__destroy(walker);
}

int main(void)
{
	struct conn v4 = V4_CONN(40000), v6 = V6_CONN(40001);
	struct ctx c = {};

	setvbuf(stdout, NULL, _IOLBF, 0);
	c.skel = synguard__open_and_load();
	if (!c.skel)
		return tap_load_failed();
	passive_open(&c, &v4, "IPv4");
	passive_open(&c, &v6, "IPv6");
	wrong_ack(&c);
	retransmits(&c);
	unexpected_synack(&c);
	active_open(&c);
	fast_open(&c);
	simultaneous_open(&c);
	resets(&c);
	v4.rport = 40080, v6.rport = 40081;
	local_close(&c, &v4, "IPv4");
	local_close(&c, &v6, "IPv6");
	v4.rport = 40082, v6.rport = 40083;
	remote_close(&c, &v4, "IPv4");
	remote_close(&c, &v6, "IPv6");
	simultaneous_close(&c);
	fin_with_data(&c);
	wraparound(&c);
	port_reuse(&c);
	pickup(&c);
	gauges(&c);
	walk_future(&c);
	reqsk_model(&c);
	walk_reqsk(&c);
	close_orders(&c);
	tw_reuse(&c);
	rst_after_fin(&c);
	synguard__destroy(c.skel);
	flood(&c);
	evictions_carried(&c);
	gauges_evicted(&c);
	c.failed += !books_report(++c.n);
	printf("1..%d\n%d passed, %d failed\n", c.n, c.n - c.failed, c.failed);
	return c.failed ? 1 : 0;
}
