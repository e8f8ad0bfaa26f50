/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow tracking: each connection's 3-way and 4-way progressions, seen
 * from the local end.  XDP calls it with SG_DIR_IN, the tc egress program
 * with SG_DIR_OUT.  The tables and their gauges are flow_table.bpf.h's,
 * the cache of established flows an ACK needs nothing done for is
 * flow_ack.bpf.h's.  Both tables are LRU, so nothing needs a timer; the
 * readers apply the timeouts (flow_walk.bpf.c).
 *
 * A handshake completes only on the opener's ACK of the SYN-ACK's ISN + 1
 * (RFC 9293 3.5); a FIN counts as acknowledged only by an ACK at or past
 * its sequence number + 1.
 *
 * Tracking says what a segment did that others learn from (struct
 * flow_event); the entry program decides who hears of it.
 *
 *   flow_track(pkt, dir, ev)		a segment of a flow
 *   flow_kcookie_synack(pkt)		egress: a SYN-ACK of the kernel's cookies
 *   flow_cookie_completed(pkt, now, ev) a handshake XDP's cookie completed
 */
#ifndef SYNGUARD_FLOW_BPF_H
#define SYNGUARD_FLOW_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"
#include "parse.bpf.h"
#include "stats.bpf.h"
#include "events.bpf.h"
#include "flow_table.bpf.h"
#include "flow_ack.bpf.h"
#include "hist.bpf.h"

/*
 * Per-direction fields through branches: clang may address FLOW_ISN(f, dir)
 * with an OR on the pointer, which the verifier refuses.
 */
#define FLOW_ISN(f, dir) (*((dir) ? &(f)->isn[1] : &(f)->isn[0]))
#define FLOW_FIN_ACK(f, dir) (*((dir) ? &(f)->fin_ack[1] : &(f)->fin_ack[0]))

#define FLOW_FIN(dir) ((dir) == SG_DIR_IN ? SG_FF_FIN_IN : SG_FF_FIN_OUT)
#define FLOW_FIN_ACKED(dir) \
	((dir) == SG_DIR_IN ? SG_FF_FIN_IN_ACKED : SG_FF_FIN_OUT_ACKED)

/*
 * What a segment did that attack mode and the per-source limit learn from:
 * a half-open flow began (its SYN-ACK left) or ended, and the remote end
 * completed a handshake it opened.  At most one of each per segment; the
 * caller zeroes it.
 */
struct flow_event {
	__u64 ho_ns;		/* the SYN-ACK time of the flow that began or ended */
	__u64 now;		/* the clock when the remote end proved itself */
	__u32 what;		/* FLOW_EV_* */
};

#define FLOW_EV_BEGAN 1		/* a half-open flow began: it became SYN_RCVD */
#define FLOW_EV_ENDED 2		/* ...or ended: it was SYN_RCVD, and left */
#define FLOW_EV_PROVEN 4	/* the remote end completed a handshake it opened */

static __always_inline void flow_ev_half_open(struct flow_event *ev, __u64 synack_ns,
					      __u32 what)
{
	ev->what |= what;
	ev->ho_ns = synack_ns;
}

static __always_inline void flow_ev_proven(struct flow_event *ev, __u64 now)
{
	ev->what |= FLOW_EV_PROVEN;
	ev->now = now;
}

static __always_inline void flow_key(const struct sg_pkt *pkt, int dir,
				     struct sg_flow_key *k)
{
	int l = dir == SG_DIR_IN;	/* index of the local address */

	if (pkt->l3_proto == ETH_P_IP) {
		__builtin_memcpy(k->local, &pkt->addr.v4[l], 4);
		__builtin_memcpy(k->remote, &pkt->addr.v4[!l], 4);
		k->family = 4;
	} else {
		__builtin_memcpy(k->local, &pkt->addr.v6[l], 16);
		__builtin_memcpy(k->remote, &pkt->addr.v6[!l], 16);
		k->family = 6;
	}
	k->lport = l ? pkt->dport : pkt->sport;
	k->rport = l ? pkt->sport : pkt->dport;
}

/*
 * The local end's state, from who closed first and which FINs are acked.
 * An end that sent its FIN before the other's reached it (closer OUT, or
 * BOTH when the FINs crossed) goes FIN_WAIT_1, then FIN_WAIT_2 or CLOSING,
 * to TIME_WAIT (tcp_fin(), tcp_rcv_state_process()); one whose FIN
 * acknowledged the other's went CLOSE_WAIT, LAST_ACK, CLOSED.
 */
static __always_inline __u8 flow_close_state(__u8 flags, __u8 closer)
{
	bool fin_in = flags & SG_FF_FIN_IN, fin_out = flags & SG_FF_FIN_OUT;
	bool out_acked = flags & SG_FF_FIN_OUT_ACKED;

	if (!fin_in && !fin_out)
		return SG_TCP_ESTABLISHED;
	if (closer != SG_DIR_IN) {
		if (!fin_in)
			return out_acked ? SG_TCP_FIN_WAIT_2 : SG_TCP_FIN_WAIT_1;
		return out_acked ? SG_TCP_TIME_WAIT : SG_TCP_CLOSING;
	}
	if (!fin_out)
		return SG_TCP_CLOSE_WAIT;
	/* Local is CLOSED once its FIN is acked; the remote sits in TIME_WAIT. */
	return out_acked ? SG_TCP_REMOTE_TIME_WAIT : SG_TCP_LAST_ACK;
}

/* Does a segment of TCP @flags with @ack acknowledge up to @nxt (RFC 1982)? */
static __always_inline bool flow_acks(__u8 flags, __u32 ack, __u32 nxt)
{
	return (flags & TCP_ACK) && (__s32)(ack - nxt) >= 0;
}

#define FLOW_SYNACKED(dir) ((dir) == SG_DIR_IN ? SG_FF_SYNACK_IN : SG_FF_SYNACK_OUT)

/* Does @ack acknowledge the opener's SYN: ISN + 1, or past its data (TFO)? */
static __always_inline bool flow_acks_syn(const struct sg_flow *f, int opener,
					  __u32 ack)
{
	__u32 isn = FLOW_ISN(f, opener);

	/* RFC 7413 3: a server that takes the SYN's data acknowledges it. */
	return ack == isn + 1 || (f->syn_len && ack == isn + 1 + f->syn_len);
}

/*
 * Does the host's TIME_WAIT socket of @c take a SYN from the remote end at
 * @seq?  tcp_timewait_state_process() takes it (TCP_TW_SYN: the socket
 * goes, the listener gets the SYN) when it lies past RCV.NXT, the remote
 * FIN's sequence number + 1, or when its timestamp is newer than the
 * last (and PAWS does not refuse it); otherwise it answers with an ACK and
 * stays.  synguard keeps no timestamps: past RCV.NXT it is taken, else the
 * host's answer says (flow_tw_answered()).
 */
static __always_inline bool flow_tw_takes_syn(const struct sg_conn *c, __u32 seq)
{
	return (__s32)(seq - c->fin_ack[SG_DIR_IN]) > 0;
}

/*
 * The host answered with a SYN-ACK a SYN that came to ports it held in
 * TIME_WAIT: it took the SYN, so its TIME_WAIT socket is gone.
 */
static __always_inline void flow_tw_answered(const struct sg_flow_key *k)
{
	struct sg_conn *c = bpf_map_lookup_elem(&sg_flows, k);

	if (c && c->state == SG_TCP_TIME_WAIT)
		flow_remove(k, c);
}

/*
 * Inserts @k into sg_flows as ESTABLISHED, @update being BPF_ANY or
 * BPF_NOEXIST: a completed handshake, a flow picked up mid-stream (or an
 * ACK that proves a SYN cookie).  The entry, or NULL, counted as
 * flow_table_full, when it cannot be stored.
 */
static __always_inline struct sg_conn *
flow_insert_established(const struct sg_flow_key *k, __u8 opener, __u8 flags,
			__u64 now, __u64 update)
{
	struct sg_conn c = { .last = now >> SG_TICK_SHIFT, .state = SG_TCP_ESTABLISHED,
			     .opener = opener, .closer = SG_DIR_NONE, .flags = flags };

	flow_gauge_begin();
	if (events_flows_update(k, &c, update)) {
		flow_gauge(SG_CONN_DEAD, SG_CONN_DEAD);
		stats_inc(SG_FLOW_TABLE_FULL);
		events_flow_full();
		return NULL;
	}
	/* An entry BPF_ANY replaced goes uncounted: the readers' check sees it. */
	flow_gauge(SG_CONN_DEAD, SG_TCP_ESTABLISHED);
	return bpf_map_lookup_elem(&sg_flows, k);
}

/* Moves a half-open flow to sg_flows, ESTABLISHED; NULL if it cannot. */
static __always_inline struct sg_conn *
flow_complete(const struct sg_flow_key *k, const struct sg_flow *f, __u64 now,
	      struct flow_event *ev)
{
	__u64 synack_ns = f->synack_ns;	/* f is gone once deleted below */
	__u8 flags = f->flags;
	struct sg_conn *c;

	c = flow_insert_established(k, f->opener, flags, now, BPF_ANY);
	if (!c)
		return NULL;
	bpf_map_delete_elem(&sg_half, k);
	if (synack_ns)
		hist_add(SG_HIST_SYNACK_ACK, now - synack_ns);
	stats_inc(SG_FLOW_COMPLETED);
	if (flags & SG_FF_SYNACK_OUT) {
		/* It was SYN_RCVD and left it; and the peer answered: real. */
		flow_ev_half_open(ev, synack_ns, FLOW_EV_ENDED);
		flow_ev_proven(ev, now);
	}
	return c;
}

/*
 * The kernel's own SYN cookies (tcp_syncookies, or a full SYN queue).  A
 * cookie SYN-ACK leaves with no socket: tcp_make_synack() attaches the
 * skb to the request socket for TCP_SYNACK_NORMAL, to the child for
 * TCP_SYNACK_FASTOPEN, and to none for TCP_SYNACK_COOKIE, whose request
 * socket tcp_conn_request() frees once it is sent.  (So does netfilter's
 * SYNPROXY, which also answers with a cookie.)  The host holds nothing
 * for it: it is no half-open flow.  Its ACK, if one comes, carries the
 * cookie; the kernel then makes the socket (cookie_v4_check(),
 * cookie_v6_check()) with no SYN-ACK of its own seen here.
 *
 * When egress last saw one (coarse clock): until the cookies' lifetime
 * after it, an ACK of no known flow is checked for one.
 */
__u64 sg_kcookie_last_ns;

/*
 * The kernel takes a cookie up to MAX_SYNCOOKIE_AGE (2) minutes of its
 * counter old, and with tcp_syncookies=1 only within TCP_SYNCOOKIE_VALID
 * (2 minutes) of the listener's last overflow: 3 minutes covers both.
 */
#define SG_KCOOKIE_LIFE_NS (3ULL * 60 * 1000000000ULL)

/* Egress: a SYN-ACK without a socket, the kernel's cookie. */
static __always_inline void flow_kcookie_synack(const struct sg_pkt *pkt)
{
	struct sg_flow_key k = {};
	struct sg_flow *f;
	__u64 now;

	stats_inc(SG_SYNACK_COOKIE);
	flow_key(pkt, SG_DIR_OUT, &k);
	/*
	 * The SYN's entry goes: the kernel keeps no request for it, and a
	 * flood of them must not take the table from the flows it does keep.
	 * (sg_ack remembers sg_flows entries only: nothing to bump.)
	 */
	f = bpf_map_lookup_elem(&sg_half, &k);
	if (f && f->opener == SG_DIR_IN &&
	    !(f->flags & (SG_FF_SYNACK_OUT | SG_FF_SIMUL)) &&
	    flow_acks_syn(f, SG_DIR_IN, pkt->ack)) {
		bool on_tw = f->on_tw;

		bpf_map_delete_elem(&sg_half, &k);
		if (on_tw) {
			flow_tw_answered(&k);
			flow_ver_bump(&k);
		}
	}
	now = bpf_ktime_get_coarse_ns();
	if (now - sg_kcookie_last_ns > 1000000000ULL)
		sg_kcookie_last_ns = now;
}

/*
 * Does the ACK @seq/@ack from the remote end of @k carry a cookie of the
 * kernel's (the same secret and function as its own check)?  Global: the
 * verifier checks it once, and its headers are not on the callers' stack.
 */
__attribute__((noinline)) int flow_kcookie_valid(const struct sg_flow_key *k,
						 __u32 seq, __u32 ack)
{
	struct {
		struct tcphdr th;
		union {
			struct iphdr ip;
			struct ipv6hdr ip6;
		};
	} h = {};

	if (!k)
		return 0;
	h.th.source = k->rport;
	h.th.dest = k->lport;
	h.th.seq = bpf_htonl(seq);
	h.th.ack_seq = bpf_htonl(ack);
	if (k->family == 4) {
		__builtin_memcpy(&h.ip.saddr, k->remote, 4);
		__builtin_memcpy(&h.ip.daddr, k->local, 4);
		return !bpf_tcp_raw_check_syncookie_ipv4(&h.ip, &h.th);
	}
	__builtin_memcpy(&h.ip6.saddr, k->remote, 16);
	__builtin_memcpy(&h.ip6.daddr, k->local, 16);
	return !bpf_tcp_raw_check_syncookie_ipv6(&h.ip6, &h.th);
}

/*
 * An ACK of no known flow arriving while the kernel's cookies are about:
 * if it carries one, the handshake completed through it.  The flow
 * starts here, established, as flow_cookie_completed() starts one.
 */
static __always_inline struct sg_conn *
flow_kcookie_ack(const struct sg_flow_key *k, __u32 seq, __u32 ack, __u64 now,
		 struct flow_event *ev)
{
	__u64 last = sg_kcookie_last_ns;
	struct sg_conn *c;

	if (!last || now - last >= SG_KCOOKIE_LIFE_NS || !flow_kcookie_valid(k, seq, ack))
		return NULL;
	c = flow_insert_established(k, SG_DIR_IN, SG_FF_SYNACK_OUT, now, BPF_NOEXIST);
	if (!c)
		return NULL;
	stats_inc(SG_FLOW_COMPLETED);
	flow_ev_proven(ev, now);
	return c;
}

/*
 * A SYN without ACK from @dir.  True when it changed a table (a new
 * attempt in sg_half, a TIME_WAIT flow removed): sg_ack must hear of it.
 */
static __always_inline bool flow_syn(const struct sg_flow_key *k, int dir,
				     __u32 seq, __u32 payload, __u64 now,
				     struct flow_event *ev)
{
	struct sg_flow *f, nf = {};
	bool removed = false;
	struct sg_conn *c;
	__u8 on_tw = 0;

	c = bpf_map_lookup_elem(&sg_flows, k);
	if (c) {
		__u8 state = c->state;

		/*
		 * A new connection may reuse the ports of one in TIME_WAIT.
		 * A SYN the host sends means it let its TIME_WAIT socket go
		 * (tcp_twsk_unique()); in time_wait_remote it holds none.
		 */
		if (state != SG_TCP_TIME_WAIT && state != SG_TCP_REMOTE_TIME_WAIT)
			return false;	/* SYN on a live flow: the stack answers it */
		if (state == SG_TCP_TIME_WAIT && dir == SG_DIR_IN && !flow_tw_takes_syn(c, seq)) {
			on_tw = SG_TCP_TIME_WAIT;
		} else {
			flow_remove(k, c);
			removed = true;
		}
	}
	f = bpf_map_lookup_elem(&sg_half, k);
	if (f) {
		if (FLOW_ISN(f, dir) == seq &&
		    (f->opener == dir || (f->flags & SG_FF_SIMUL))) {
			stats_inc(SG_FLOW_SYN_RETRANS);
			return removed;
		}
		if (f->opener != dir && !(f->flags & SG_FF_SIMUL) &&
		    !(f->flags & (SG_FF_SYNACK_IN | SG_FF_SYNACK_OUT))) {
			/* Both ends sent a SYN: simultaneous open (RFC 9293 fig. 8). */
			FLOW_ISN(f, dir) = seq;
			f->flags |= SG_FF_SIMUL;
			stats_inc(SG_FLOW_SIMUL_OPEN);
			return true;
		}
		/* Otherwise a new ISN on the same ports: a new attempt. */
		if (f->flags & SG_FF_SYNACK_OUT)
			flow_ev_half_open(ev, f->synack_ns, FLOW_EV_ENDED);
	}
	nf.syn_ns = now;
	nf.last_ns = now;
	FLOW_ISN(&nf, dir) = seq;
	nf.syn_len = payload > 0xFFFF ? 0xFFFF : payload;
	nf.opener = dir;
	nf.closer = SG_DIR_NONE;
	nf.on_tw = on_tw;
	nf.state = dir == SG_DIR_IN ? SG_TCP_SYN_SEEN : SG_TCP_SYN_SENT;
	if (events_half_update(k, &nf, BPF_ANY))
		return removed;
	stats_inc(SG_FLOW_SYN);
	if (payload)
		stats_inc(SG_FLOW_TFO);	/* TCP Fast Open: data on the SYN */
	return true;
}

/* A SYN-ACK from @dir, answering the other end's SYN. */
static __always_inline void flow_synack(const struct sg_flow_key *k, int dir,
					__u32 seq, __u32 ack, __u64 now,
					struct flow_event *ev)
{
	struct sg_flow *f = bpf_map_lookup_elem(&sg_half, k);
	int other = dir ^ 1;

	if (!f || (f->opener != other && !(f->flags & SG_FF_SIMUL)) ||
	    !flow_acks_syn(f, other, ack)) {
		stats_inc(SG_FLOW_UNEXPECTED_SYNACK);
		return;
	}
	if (f->flags & FLOW_SYNACKED(dir)) {
		if (FLOW_ISN(f, dir) == seq)
			stats_inc(SG_FLOW_SYNACK_RETRANS);
		return;
	}
	FLOW_ISN(f, dir) = seq;
	f->resp_nxt = seq + 1;
	f->synack_ns = now;
	f->synack_jiffy = (__u32)bpf_jiffies64();
	f->last_ns = now;
	f->flags |= FLOW_SYNACKED(dir);
	stats_inc(SG_FLOW_SYNACK);
	if (dir == SG_DIR_OUT && f->on_tw) {
		f->on_tw = 0;
		flow_tw_answered(k);
	}
	if (f->flags & SG_FF_SIMUL) {
		/* Each end's SYN-ACK answers the other's SYN: both established. */
		if ((f->flags & SG_FF_SYNACK_IN) && (f->flags & SG_FF_SYNACK_OUT))
			flow_complete(k, f, now, ev);
		return;
	}
	if (dir == SG_DIR_OUT) {
		f->state = SG_TCP_SYN_RCVD;
		hist_add(SG_HIST_SYN_SYNACK, now - f->syn_ns);
		flow_ev_half_open(ev, now, FLOW_EV_BEGAN);
	}
}

/*
 * Anything else on a flow not yet established.  Returns the flow in
 * sg_flows when this segment completed the handshake (so the caller goes
 * on to its FIN and ACK), else NULL.
 */
static __always_inline struct sg_conn *
flow_handshake(const struct sg_flow_key *k, int dir, __u8 flags, __u32 seq,
	       __u32 ack, __u32 payload, __u64 now, struct flow_event *ev)
{
	struct sg_flow *f = bpf_map_lookup_elem(&sg_half, k);
	int other = dir ^ 1;
	__u32 first;

	if (!f) {
		struct sg_conn *c;

		/*
		 * A flow already running when synguard attached.  Only what
		 * the local stack sends proves a socket: spoofed ACKs arriving
		 * must not fill the table.
		 */
		if (flags & TCP_RST)
			return NULL;
		if (dir != SG_DIR_OUT)
			return flags & TCP_ACK ? flow_kcookie_ack(k, seq, ack, now, ev) : NULL;
		c = flow_insert_established(k, SG_DIR_NONE, SG_FF_PICKED_UP, now,
					    BPF_NOEXIST);
		if (c)
			stats_inc(SG_FLOW_PICKED_UP);
		return c;
	}
	if (f->flags & SG_FF_SIMUL)
		return NULL;	/* completes on the second SYN-ACK */
	if (flags & TCP_RST) {
		/*
		 * RFC 9293 3.10.7.3: a RST answering a SYN counts only if it
		 * acknowledges that SYN; otherwise it is ignored.
		 */
		if (dir != f->opener &&
		    (!(flags & TCP_ACK) || !flow_acks_syn(f, f->opener, ack)))
			return NULL;
		if (f->flags & SG_FF_SYNACK_OUT)
			flow_ev_half_open(ev, f->synack_ns, FLOW_EV_ENDED);
		bpf_map_delete_elem(&sg_half, k);
		stats_inc(SG_FLOW_HS_RESET);
		return NULL;
	}
	if (!(flags & TCP_ACK))
		return NULL;
	if (dir != f->opener) {
		/*
		 * The responder sending before the opener's ACK: a TFO server's
		 * data.  Its SND.NXT bounds what the opener's ACK may cover.
		 */
		if ((f->flags & FLOW_SYNACKED(dir)) && (__s32)(seq + payload - f->resp_nxt) > 0)
			f->resp_nxt = seq + payload;
		return NULL;
	}
	/* RFC 9293 3.10.7.4: SND.UNA < SEG.ACK =< SND.NXT of the responder. */
	first = FLOW_ISN(f, other) + 1;
	if (!(f->flags & FLOW_SYNACKED(other)) || (__s32)(ack - first) < 0 ||
	    (__s32)(f->resp_nxt - ack) < 0) {
		stats_inc(SG_FLOW_UNEXPECTED_ACK);
		return NULL;
	}
	return flow_complete(k, f, now, ev);
}

/* What flow tracking needs of a segment, apart from its key. */
struct flow_seg {
	__u32 seq;
	__u32 ack;
	__u32 payload;
	__u8 flags;
	__u8 dir;
	__u16 pad;
};

/*
 * One try at the close's transition of @f for @seg: flags, closer and
 * state change by one compare-and-swap of their word, and the CPU whose
 * swap moved the state counts it.  0 done (or nothing to do), -1 the word
 * changed under us (another CPU on this flow): try again.  A global
 * function, so the verifier checks its branches once, not once a try.
 */
__attribute__((noinline)) int flow_close_step(struct sg_conn *f, struct flow_seg *seg,
					      __u64 now)
{
	union flow_word o, n;
	int dir, other;
	__u8 flags;

	if (!f || !seg)
		return 0;
	flags = seg->flags;
	dir = seg->dir & 1;
	other = dir ^ 1;
	o.w = *(volatile __u32 *)FLOW_WORD(f);
	if (o.state >= SG_TCP_STATE_MAX)
		return 0;	/* being removed */
	n = o;
	if ((flags & TCP_FIN) && !(n.flags & FLOW_FIN(dir))) {
		n.flags |= FLOW_FIN(dir);
		FLOW_FIN_ACK(f, dir) = seg->seq + seg->payload + 1;
		if (n.closer == SG_DIR_NONE)
			n.closer = dir;
		else if (n.closer == other &&
			 !flow_acks(flags, seg->ack, FLOW_FIN_ACK(f, other)))
			/*
			 * This FIN does not acknowledge the other's: its end
			 * sent it before the other's arrived, so closed first
			 * too.  Arrival order cannot say it: XDP and egress
			 * run on different CPUs, and the FINs of a close both
			 * ends begin at once reach them in either order.  The
			 * sequence numbers do.  (A FIN that acknowledges the
			 * other's came second everywhere: it answers it.)
			 */
			n.closer = SG_DIR_BOTH;
	}
	if ((n.flags & FLOW_FIN(other)) && flow_acks(flags, seg->ack, FLOW_FIN_ACK(f, other)))
		n.flags |= FLOW_FIN_ACKED(other);
	n.state = flow_close_state(n.flags, n.closer);
	if (n.w == o.w)
		return 0;
	if (n.state == o.state) {
		/* Flags only: nothing the gauges count. */
		return __sync_val_compare_and_swap(FLOW_WORD(f), o.w, n.w) == o.w ? 0 : -1;
	}
	/* Before the state shows: a reader must not age it from the old time. */
	f->last = now >> SG_TICK_SHIFT;
	if (n.state == SG_TCP_TIME_WAIT || n.state == SG_TCP_REMOTE_TIME_WAIT)
		flow_tw_note(now);
	flow_gauge_begin();
	if (__sync_val_compare_and_swap(FLOW_WORD(f), o.w, n.w) != o.w) {
		flow_gauge(SG_CONN_DEAD, SG_CONN_DEAD);
		return -1;
	}
	flow_gauge(o.state, n.state);
	if (n.state == SG_TCP_TIME_WAIT || n.state == SG_TCP_REMOTE_TIME_WAIT)
		stats_inc(SG_FLOW_CLOSED_FIN);
	return 0;
}

/*
 * Does a RST from the remote end at @seq end the host's socket of @f?
 * Once the remote FIN is in, RCV.NXT is known: its sequence number + 1.
 * The kernel takes a RST at RCV.NXT only (RFC 5961 3.2,
 * tcp_validate_incoming()), in CLOSE_WAIT, CLOSING and LAST_ACK at the
 * FIN's own number too (tcp_reset_check()), in TIME_WAIT at RCV.NXT only
 * (tcp_timewait_state_process(), tcp_rfc1337 off: the default); any other
 * it drops or answers with an ACK.  Before the remote FIN synguard does
 * not know RCV.NXT, and in time_wait_remote the host holds no socket: a
 * RST ends the flow.
 */
static __always_inline bool flow_rst_ends(const struct sg_conn *f, __u32 seq)
{
	union flow_word o;
	__u32 nxt;

	o.w = *(volatile const __u32 *)FLOW_WORD(f);
	if (!(o.flags & SG_FF_FIN_IN) || o.state == SG_TCP_REMOTE_TIME_WAIT)
		return true;
	nxt = f->fin_ack[SG_DIR_IN];
	return seq == nxt || (seq == nxt - 1 && o.state != SG_TCP_TIME_WAIT);
}

/*
 * Inlined: as a global function the verifier would check it once, but
 * every tracked segment would pay a call (return thunks make calls dear)
 * and the copies of key and segment through the stack.
 */
static __always_inline int flow_update(struct sg_flow_key *key,
				       struct flow_seg *seg, struct flow_event *ev)
{
	struct sg_flow_key k;
	__u32 seq, ack, payload;
	__u64 now = 0;		/* read when a write needs it: it is not cheap */
	struct sg_ack_slot *slot = NULL;
	__u32 v0 = 0;
	struct sg_conn *f;
	int dir, i;
	__u8 flags;

	if (!key || !seg)
		return 0;
	k = *key;
	seq = seg->seq;
	ack = seg->ack;
	payload = seg->payload;
	flags = seg->flags;
	dir = seg->dir & 1;
	if (flags & TCP_SYN) {
		now = bpf_ktime_get_ns();
		/* A retransmitted SYN changes nothing: no bump, no shared write. */
		if (flags & TCP_ACK) {
			flow_synack(&k, dir, seq, ack, now, ev);
			flow_ver_bump(&k);
		} else if (flow_syn(&k, dir, seq, payload, now, ev)) {
			flow_ver_bump(&k);
		}
		return 0;
	}
	if (dir == SG_DIR_IN && !(flags & (TCP_FIN | TCP_RST))) {
		const __u64 *x = (const __u64 *)&k;

		slot = flow_ack_slot(flow_ack_idx(&k), &v0);
		if (slot && flow_ack_holds(slot, v0, x[0], x[1], x[2], x[3], x[4]))
			return 0;	/* established, no FIN: nothing to do */
	}

	f = bpf_map_lookup_elem(&sg_flows, &k);
	if (!f) {
		now = bpf_ktime_get_ns();
		f = flow_handshake(&k, dir, flags, seq, ack, payload, now, ev);
		if (!f)
			return 0;
	}
	if (flags & TCP_RST) {
		__u8 was;

		if (dir == SG_DIR_IN && !flow_rst_ends(f, seq))
			return 0;	/* the host drops it, or answers with an ACK */
		was = flow_remove(&k, f);
		if (was < SG_TCP_STATE_MAX && was != SG_TCP_TIME_WAIT &&
		    was != SG_TCP_REMOTE_TIME_WAIT)
			stats_inc(SG_FLOW_CLOSED_RST);
		flow_ver_bump(&k);
		return 0;
	}
	/* The established flow's every segment: no FIN either way, none here. */
	if (!(flags & TCP_FIN) && !(f->flags & (SG_FF_FIN_IN | SG_FF_FIN_OUT))) {
		if (slot && f->state == SG_TCP_ESTABLISHED) {
			slot->key = k;
			slot->version = v0;
		}
		return 0;
	}
	if (!now)
		now = bpf_ktime_get_ns();
	/* Another CPU on this flow between our read and swap: read again. */
	for (i = 0; i < FLOW_CAS_TRIES; i++)
		if (flow_close_step(f, seg, now) >= 0)
			break;
	if (flags & TCP_FIN)
		flow_ver_bump(&k);
	return 0;
}

static __always_inline void flow_track(const struct sg_pkt *pkt, int dir,
				       struct flow_event *ev)
{
	struct flow_seg seg = {
		.seq = pkt->seq,
		.ack = pkt->ack,
		.payload = pkt->l4_len - pkt->doff * 4,
		.flags = pkt->tcp_flags,
		.dir = dir,
	};
	struct sg_flow_key k = {};

	flow_key(pkt, dir, &k);
	flow_update(&k, &seg, ev);
}

/*
 * A handshake XDP completed with a SYN cookie: its SYN was answered without
 * state (that is the point), so the flow starts here, established.
 */
static __always_inline void flow_cookie_completed(const struct sg_pkt *pkt, __u64 now,
						  struct flow_event *ev)
{
	struct sg_flow_key k = {};
	struct sg_conn *c;
	struct sg_flow *f;

	flow_key(pkt, SG_DIR_IN, &k);
	/*
	 * A live flow of these ends already: the same cookie ACK again
	 * (retransmitted, or a probe before synproxy has the server's
	 * socket) is traffic of that flow, not a new handshake.  A new
	 * connection may reuse the ports of one in TIME_WAIT.
	 */
	c = bpf_map_lookup_elem(&sg_flows, &k);
	if (c) {
		if (c->state != SG_TCP_TIME_WAIT && c->state != SG_TCP_REMOTE_TIME_WAIT) {
			flow_track(pkt, SG_DIR_IN, ev);
			return;
		}
		flow_remove(&k, c);
	}
	/*
	 * The stack may have answered this SYN itself (cookie mode off then,
	 * a proven source, a fallback) with a SYN cookie of its own: the same
	 * function and secret, so the ACK validates here.  Its half-open
	 * entry ends now, as flow_complete() ends one.
	 */
	f = bpf_map_lookup_elem(&sg_half, &k);
	if (f) {
		__u64 synack_ns = f->synack_ns;

		if (f->flags & SG_FF_SYNACK_OUT)
			flow_ev_half_open(ev, synack_ns, FLOW_EV_ENDED);
		bpf_map_delete_elem(&sg_half, &k);
		if (synack_ns)
			hist_add(SG_HIST_SYNACK_ACK, now - synack_ns);
	}
	if (!flow_insert_established(&k, SG_DIR_IN, SG_FF_SYNACK_OUT, now, BPF_ANY))
		return;
	stats_inc(SG_FLOW_COMPLETED);
	flow_ev_proven(ev, now);
}

#endif /* SYNGUARD_FLOW_BPF_H */
