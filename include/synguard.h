/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types shared by the BPF programs and the synguard CLI.
 *
 * Only structs, enums and #defines live here, no includes: the BPF side gets
 * the __u32-style types from vmlinux.h, userspace from <linux/types.h>.
 *
 * The counter lists are X-macros so that a counter is one line in one
 * place: the BPF side gets the enum, userspace gets the enum and the names
 * it prints (JSON keys, Prometheus labels).  Appending is fine; never
 * reorder or remove an entry of a released list (pinned maps outlive the
 * CLI that created them), rename it to reservedN instead.
 */
#ifndef SYNGUARD_H
#define SYNGUARD_H

/* What was seen: one per-CPU __u64 each, in sg_stats (struct sg_stat_vals). */
#define SG_STAT_LIST(X)                                                        \
	X(FRAMES, "frames")		/* every frame the program ran on */   \
	X(IPV4, "ipv4")			/* IPv4 packets */                     \
	X(IPV6, "ipv6")			/* IPv6 packets */                     \
	X(OTHER_L3, "other_l3")		/* ARP, LLDP, ... */                   \
	X(VLAN, "vlan")			/* frames with VLAN tags */            \
	X(NON_TCP, "non_tcp")		/* IP packets carrying something else */ \
	X(TCP, "tcp")			/* TCP segments with a header */       \
	X(TCP_FRAGMENT, "tcp_fragment")	/* later fragments: TCP or unknown */ \
	X(TCP_SYN, "syn")		/* accepted segments by flag class */  \
	X(TCP_SYNACK, "synack")                                                \
	X(TCP_ACK, "ack")                                                      \
	X(TCP_FIN, "fin")                                                      \
	X(TCP_RST, "rst")                                                      \
	X(ALLOWED, "allowed")		/* from allow-listed sources */        \
	X(SRC_LIMITED, "src_limited")	/* SYNs checked against a bucket */    \
	X(FLOW_SYN, "hs_started")	/* new handshakes (first SYN) */       \
	X(FLOW_SYN_RETRANS, "syn_retrans")                                     \
	X(FLOW_SYNACK, "hs_synacked")	/* first SYN-ACK acking the SYN */      \
	X(FLOW_SYNACK_RETRANS, "synack_retrans")                               \
	X(FLOW_COMPLETED, "hs_completed") /* ACK == SYN-ACK ISN + 1 */         \
	X(FLOW_HS_RESET, "hs_reset")	/* RST before the handshake ended */   \
	X(FLOW_TFO, "tfo_syn")		/* SYNs carrying data */               \
	X(FLOW_SIMUL_OPEN, "simultaneous_open")                                \
	X(FLOW_UNEXPECTED_SYNACK, "unexpected_synack") /* no SYN, bad ack */   \
	X(FLOW_UNEXPECTED_ACK, "unexpected_ack") /* bad handshake ACK */      \
	X(FLOW_PICKED_UP, "picked_up")	/* running before attach */            \
	X(FLOW_CLOSED_FIN, "closed_fin") /* graceful closes */                 \
	X(FLOW_CLOSED_RST, "closed_rst") /* established flows reset */         \
	X(FLOW_TABLE_FULL, "flow_table_full")                                  \
	X(EGRESS, "egress")		/* frames the tc egress program saw */ \
	X(ATTACK_PROVEN, "attack_proven") /* attack mode: SYN of a proven source */ \
	X(ATTACK_ADMITTED, "attack_admitted") /* ...unproven, within its rate */ \
	X(ATTACK_ENTERED, "attack_entered")                                    \
	X(ATTACK_LEFT, "attack_left")                                          \
	X(PASS, "pass")			/* verdicts */                         \
	X(DROP, "drop")                                                        \
	X(WOULD_DROP, "would_drop")	/* dry-run: matched a drop rule */ \
	X(COOKIE_SENT, "cookie_sent")	/* SYN answered by a SYN cookie (XDP_TX) */ \
	X(COOKIE_VALID, "cookie_valid") /* ACK with a valid cookie: to synproxy */ \
	X(COOKIE_FALLBACK, "cookie_fallback") /* SYN a cookie could not answer */ \
	X(COOKIE_PROBE, "cookie_probe")	/* zero-window probe after a lost cookie ACK */ \
	X(EXPRESS, "express")		/* frames the express lane judged */ \
	X(SYNACK_COOKIE, "synack_cookie") /* the kernel's own cookie SYN-ACKs (egress) */ \
	X(CHAIN_EMPTY, "chain_empty")	/* passes with no program in the chain slot */ \
	X(EVENTS, "events")		/* records written to sg_events */ \
	X(EVENTS_SUPPRESSED, "events_suppressed") /* over the events' rate limit */ \
	X(EVENTS_LOST, "events_lost")	/* sg_events full: no reader drained it */

/*
 * Why a frame was (or, in dry-run, would have been) dropped: one per-CPU
 * __u64 each, in sg_drops (struct sg_reason_vals).  Counted in dry-run too.
 */
#define SG_REASON_LIST(X)                                                      \
	X(TRUNCATED, "truncated")	/* a header ends past the frame */     \
	X(IP_BAD_VERSION, "ip_bad_version") /* version nibble vs ethertype */  \
	X(IPV4_BAD_IHL, "ipv4_bad_ihl")	/* IHL < 5 */                          \
	X(IP_BAD_LEN, "ip_bad_len")	/* IPv4 total / IPv6 payload length */ \
	X(TCP_DOFF_SHORT, "tcp_doff_short")   /* doff < 5 */                  \
	X(TCP_DOFF_BEYOND, "tcp_doff_beyond") /* doff*4 past the IP payload */ \
	X(SYN_FIN, "syn_fin")                                                  \
	X(SYN_RST, "syn_rst")                                                  \
	X(FIN_RST, "fin_rst")                                                  \
	X(NO_FLAGS, "no_flags")		/* NULL scan */                        \
	X(NO_ACK, "no_ack")		/* no ACK, yet not a bare SYN or RST */ \
	X(PORT_ZERO, "port_zero")                                              \
	X(LAND, "land")			/* src addr:port == dst addr:port */   \
	X(MARTIAN_SRC, "martian_src")                                          \
	X(UNPARSED_VLAN, "unparsed_vlan")	/* more than two tags */       \
	X(UNPARSED_IPV6_EXT, "unparsed_ipv6_ext") /* chain too long */ \
	X(DENY_LIST, "deny_list")	/* source in the deny list */          \
	X(SRC_RATE, "src_rate")		/* SYN over its source's bucket */     \
	X(SRC_BLOCKED, "src_blocked")	/* SYN while its source is blocked */ \
	X(ATTACK_UNPROVEN, "attack_unproven") /* attack mode: unproven SYN */ \
	X(COOKIE_INVALID, "cookie_invalid") /* ACK to a listener, no valid cookie */ \
	X(COOKIE_REWRITE, "cookie_rewrite") /* SYN-ACK half written: a store failed */ \
	X(BAD_CSUM, "bad_csum")		/* SYN to answer with a cookie: bad IP or TCP checksum */

#define SG_ENUM_ENTRY(id, name) SG_##id,
enum sg_stat { SG_STAT_LIST(SG_ENUM_ENTRY) SG_STAT_MAX };
#define SG_REASON_ENTRY(id, name) SG_R_##id,
enum sg_reason { SG_REASON_LIST(SG_REASON_ENTRY) SG_REASON_MAX };

/*
 * The values of sg_stats and sg_drops: per-CPU arrays of one entry each,
 * all the counters of a CPU in it, indexed by the enums above, so a frame
 * costs one map lookup however many counters it moves.  Appending a
 * counter grows the value; userspace reads what a pinned map has.  (They
 * were arrays of one __u64 per counter; userspace still reads that layout
 * from the pins of an attachment made before.)
 */
struct sg_stat_vals {
	__u64 n[SG_STAT_MAX];
};

struct sg_reason_vals {
	__u64 n[SG_REASON_MAX];
};

/* Parsing limits: deeper than this is "unparsed", never "not TCP". */
#define SG_MAX_VLAN_TAGS 2
#define SG_MAX_IPV6_EXT 8

/* sg_config.flags */
#define SG_CFG_DRY_RUN (1U << 0)	/* count would-drops, drop nothing */
#define SG_CFG_UNPARSED_PASS (1U << 1)	/* pass what cannot be parsed */
#define SG_CFG_PORTS (1U << 2)		/* flood checks only on sg_ports */
#define SG_CFG_AUTO_SYN_RATE (1U << 3)	/* attack_syn_rate is auto: the floor */
#define SG_CFG_AUTO_HALF_OPEN (1U << 4)	/* attack_half_open was derived from the host */

/*
 * attack_syn_rate=auto: attack mode judges the interface's unanswered SYNs
 * per second (SYNs less the handshakes remote ends completed) against
 * max(floor, SG_AUTO_SYN_MULT x a learned baseline), the floor being
 * sg_config.attack_syn_rate.  The baseline is an EWMA (weight
 * 2^-SG_AUTO_EWMA_SHIFT) of calm windows only, in fixed point
 * (SG_AUTO_FP_SHIFT bits), each window's sample clamped to
 * max(floor, SG_AUTO_STEP x baseline): see include/detect.h.
 */
#define SG_AUTO_SYN_FLOOR 1000
#define SG_AUTO_SYN_MULT 8
#define SG_AUTO_STEP 2
#define SG_AUTO_EWMA_SHIFT 3
#define SG_AUTO_FP_SHIFT 10
/* attack_half_open=auto where the host's backlog sysctls cannot be read. */
#define SG_AUTO_HALF_OPEN_MIN 64

/*
 * Live policy: the single entry of the sg_config array map, read by the
 * program on every frame, so `synguard config set` takes effect at once.
 */
struct sg_config {
	__u64 block_ns;		/* a source over its bucket stays blocked; 0: no block */
	__u32 flags;
	__u32 src_rate;		/* SYNs per second per source; 0: no limit */
	__u32 src_burst;	/* SYNs a source may send at once */
	__u64 proven_ns;	/* a source stays proven this long after a handshake */
	__u32 attack_syn_rate;	/* SYNs/s on the interface that start attack mode; 0: off */
	__u32 attack_half_open;	/* half-open flows that start attack mode; 0: off */
	__u32 attack_hold_s;	/* below the leave thresholds this long to leave */
	__u32 attack_leave_pct;	/* leave thresholds, % of the enter thresholds */
	__u32 unproven_rate;	/* attack mode: unproven SYNs/s admitted; 0: none */
	__u32 unproven_burst;
	__u32 half_open_s;	/* a half-open flow expires after this */
	__u32 time_wait_s;	/* TIME_WAIT lasts this long (Linux: 60) */
	__u8 prefix4;		/* sources are counted per IPv4 /prefix4 */
	__u8 prefix6;		/* ...and per IPv6 /prefix6 */
	__u8 cookie_mode;	/* SG_COOKIE_*: when SYNs get a SYN cookie */
	__u8 cookie_wscale;	/* window scale the SYN-ACK offers (the server's) */
	__u16 cookie_mss4;	/* MSS the SYN-ACK offers, IPv4 */
	__u16 cookie_mss6;	/* ...IPv6 */
	__u32 generation;	/* bumped by every policy write: sg_over entries of
				 * an older policy are void (was reserved) */
};

/* sg_config.cookie_mode */
#define SG_COOKIE_NEVER 0
#define SG_COOKIE_ATTACK 1	/* only while attack mode is on */
#define SG_COOKIE_ALWAYS 2

/*
 * A cookie ACK that XDP validated carries this in its XDP metadata; the tc
 * ingress program turns it into this skb mark, which the nftables synproxy
 * rule of the attachment matches.  Only such ACKs reach synproxy.
 */
#define SG_COOKIE_META 0x53474b31U	/* "SGK1" */
#define SG_COOKIE_MARK 0x53474b31U

/* Ports are a 65536-bit set: sg_ports[port / 64] bit port % 64. */
#define SG_PORT_WORDS 1024

/*
 * The policy has two slots (sg_config entries, sg_ports halves): one in
 * force, named by sg_policy_cur, and one userspace writes the next policy
 * into.  A slot holds the generations of its parity.
 */
#define SG_POLICY_SLOTS 2

/* Allow and deny lists: LPM tries, value = hits (atomic). */
struct sg_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct sg_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/*
 * sg_lists, the single entry of a mmapable array: how many entries each
 * trie may hold, so the program skips the lookup of an empty one (two
 * lookups cost about 17 ns a TCP segment here).  Userspace counts up
 * before it adds an entry and down after it deleted one, atomically, so a
 * count is never below its trie's size: a count too high costs a lookup,
 * never a missed entry.
 */
#define SG_LIST_ALLOW4 0
#define SG_LIST_ALLOW6 1
#define SG_LIST_DENY4 2
#define SG_LIST_DENY6 3
#define SG_LIST_TRIES 4
struct sg_list_sizes {
	__u32 n[SG_LIST_TRIES];
};

/* A source (address masked to its prefix) and its SYN bucket. */
struct sg_src_key {
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
	__u8 family;		/* 4 or 6 */
	__u8 prefix;
	__u16 pad;
};

struct sg_src_state {
	__u64 tat;		/* GCRA theoretical arrival time, ns */
	__u64 blocked_until;	/* ns; 0 when not blocked */
	__u64 syns;		/* SYNs seen */
	__u64 dropped;		/* SYNs dropped */
	/*
	 * Appended (attach --force): ns the source went over its limit, 0
	 * while it conforms; its limited/blocked and released events are
	 * told by this going non-zero and back (bpf/events.bpf.h).
	 */
	__u64 limited_ns;
};

#define SG_DEFAULT_SRC_MAX 65536

/*
 * A source known to be over its limit, per CPU, in a direct-mapped table
 * indexed by a hash of the exact source address (sg_over): its SYNs are
 * dropped without the clock read and the sg_src lookup until @until
 * (jiffies).  @pending drops were made from here and are not yet in the
 * sg_src entry @key (both syns and dropped): the program folds them in
 * when the slot is next used on the slow path; readers of sg_src add the
 * pending counts of every slot of every CPU to the entries they name.
 */
struct sg_over {
	__u64 until;		/* jiffies64; 0: empty */
	__u64 pending;
	__u8 src[16];		/* the exact source address; IPv4 in the first 4 */
	struct sg_src_key key;	/* its sg_src entry (masked to the prefix) */
	__u32 generation;	/* sg_config.generation it was filled under */
	__u8 family;		/* 4 or 6 */
	__u8 reason;		/* the drop: SG_R_SRC_RATE or SG_R_SRC_BLOCKED */
	__u16 pad;
};

#define SG_OVER_BITS 12
#define SG_OVER_SLOTS (1U << SG_OVER_BITS)	/* per CPU: 256 KiB */

/*
 * Flow tracking.  Direction comes from the hook: XDP sees what arrives
 * (remote to local), tc egress what leaves (local to remote), so a flow
 * is keyed by its local and remote ends and both hooks find one entry.
 */
#define SG_DIR_IN 0		/* remote -> local */
#define SG_DIR_OUT 1		/* local -> remote */
#define SG_DIR_NONE 2
/*
 * A closer only: both ends closed first, each FIN sent before the other's
 * arrived (RFC 9293 figure 13); both ends go through CLOSING to TIME_WAIT.
 */
#define SG_DIR_BOTH 3

/* RFC 9293 states, as the local end is in them. */
#define SG_STATE_LIST(X)                                                       \
	X(CLOSED, "closed")                                                    \
	X(SYN_SENT, "syn_sent")		/* local opened, no SYN-ACK yet */     \
	X(SYN_SEEN, "syn_seen")		/* remote SYN, not answered yet */     \
	X(SYN_RCVD, "half_open")	/* remote SYN answered by SYN-ACK */   \
	X(ESTABLISHED, "established")                                          \
	X(FIN_WAIT_1, "fin_wait_1")                                            \
	X(FIN_WAIT_2, "fin_wait_2")                                            \
	X(CLOSING, "closing")                                                  \
	X(TIME_WAIT, "time_wait")	/* local closed first */               \
	X(CLOSE_WAIT, "close_wait")                                            \
	X(LAST_ACK, "last_ack")                                                \
	X(REMOTE_TIME_WAIT, "time_wait_remote") /* remote closed first */

#define SG_STATE_ENTRY(id, name) SG_TCP_##id,
enum sg_tcp_state { SG_STATE_LIST(SG_STATE_ENTRY) SG_TCP_STATE_MAX };

struct sg_flow_key {
	__u8 local[16];		/* IPv4 in the first 4 bytes */
	__u8 remote[16];
	__be16 lport;
	__be16 rport;
	__u8 family;		/* 4 or 6 */
	__u8 pad[3];
};

/*
 * An established flow with no FIN either way, as the XDP path last found
 * it in sg_flows, per CPU, in a direct-mapped table indexed by a hash of
 * its key (sg_ack): a pure ACK of it changes nothing, so it is not looked
 * up again while @version equals its sg_flow_ver word, which every SYN,
 * FIN and RST on a flow of that hash bumps after changing the flow.
 */
struct sg_ack_slot {
	struct sg_flow_key key;
	__u32 version;
	__u32 pad;
};

#define SG_ACK_SLOTS 4096	/* a power of two */

/* sg_flow.flags (SG_FF_: never SG_FLOW_, the counters' prefix) */
#define SG_FF_SYNACK_IN (1U << 0)	/* remote sent its SYN-ACK */
#define SG_FF_SYNACK_OUT (1U << 1)	/* local sent its SYN-ACK */
#define SG_FF_FIN_IN (1U << 2)		/* remote sent FIN */
#define SG_FF_FIN_OUT (1U << 3)		/* local sent FIN */
#define SG_FF_FIN_IN_ACKED (1U << 4)
#define SG_FF_FIN_OUT_ACKED (1U << 5)
#define SG_FF_PICKED_UP (1U << 6)	/* seen first mid-stream */
#define SG_FF_SIMUL (1U << 7)		/* simultaneous open */

/* A flow during its handshake: the value of sg_half. */
struct sg_flow {
	__u64 syn_ns;		/* first SYN (bpf_ktime_get_ns) */
	__u64 synack_ns;	/* first SYN-ACK */
	__u64 last_ns;		/* last state change: expiry runs from here */
	__u32 isn[2];		/* by direction: SYN and SYN-ACK sequence numbers */
	/*
	 * Low 32 bits of jiffies64 at the first SYN-ACK out, 0 if not known:
	 * the tick the kernel armed its request's timer on (sg_reqsk_expiry).
	 */
	__u32 synack_jiffy;
	__u32 reserved2;
	__u32 resp_nxt;		/* handshake: the responder's SND.NXT (TFO data) */
	__u16 syn_len;		/* data on the opener's SYN (TCP Fast Open) */
	__u8 state;		/* enum sg_tcp_state */
	__u8 opener;		/* SG_DIR_IN: passive open, SG_DIR_OUT: active */
	__u8 closer;		/* who sent the first FIN, or SG_DIR_NONE */
	__u8 flags;		/* SG_FF_* */
	/*
	 * SG_TCP_TIME_WAIT when the SYN came to ports the host holds in
	 * TIME_WAIT with a sequence number its TIME_WAIT socket may refuse:
	 * that flow stays until the host answers this SYN with a SYN-ACK.
	 */
	__u8 on_tw;
	__u8 reserved;
};

/*
 * A flow from its handshake's completion on: the value of sg_flows, only
 * what the close needs.  sg_flows is the table that grows to a million
 * entries, and the kernel charges each one 48 bytes of its own plus key
 * and value (each rounded up to 8) plus 16 bytes a hash bucket: 16 bytes
 * here keep an entry at 104 bytes, 120.8 a flow at 1,000,000 (56 did 160.8).
 * Times are 32-bit ticks of bpf_ktime_get_ns() >> SG_TICK_SHIFT (1.05 ms,
 * wrapping after 52 days): compare them by unsigned difference.
 */
#define SG_TICK_SHIFT 20
struct sg_conn {
	__u32 fin_ack[2];	/* by direction: the ack that acknowledges its FIN */
	__u32 last;		/* tick of the last state change: expiry runs from it */
	/*
	 * The four bytes below change together, by one compare-and-swap of
	 * the 32-bit word they make: a transition is counted (sg_gauge) by
	 * the one CPU that made it.
	 */
	__u8 state;		/* enum sg_tcp_state, or SG_CONN_DEAD */
	__u8 opener;		/* SG_DIR_IN, SG_DIR_OUT, SG_DIR_NONE (picked up) */
	__u8 closer;		/* who sent the first FIN, SG_DIR_BOTH, or SG_DIR_NONE */
	__u8 flags;		/* SG_FF_* */
};

/* sg_conn.state of an entry being removed: claimed, already uncounted. */
#define SG_CONN_DEAD 0xff

/*
 * Flow gauges kept as they change, so that `stats` need not visit a
 * million entries: the entries of sg_flows by state, +1/-1 by whoever
 * inserts, moves or removes one (per CPU, summed by the reader).  The LRU
 * evicts silently, so these alone would drift: the reader
 * checks that they add up to the kernel's own count of the map's entries
 * (bpf_map_sum_elem_count, which evictions do decrement), and where they
 * do not it walks the map, counts it, and re-bases (sg_gauge_base).
 */
struct sg_gauge {
	__s64 state[SG_TCP_STATE_MAX];	/* entries of sg_flows by state */
	/*
	 * Each counted change of the map is bracketed: begun before it
	 * touches the map, done once counted (or failed).  A reader that sees
	 * begun == done, before and after its walk, and no more begun than
	 * its own, knows no one changed the map while it walked.
	 */
	__u64 done;
	__u64 begun;
};

/* The single entry of sg_gauge_base: written by the walk, read by both. */
struct sg_gauge_base {
	__s64 state[SG_TCP_STATE_MAX];	/* the walk's count minus the counters' */
	/*
	 * bpf_ktime_get_ns() of the oldest TIME_WAIT entry that may be in
	 * sg_flows, or 0: when it is past time_wait_timeout some entry may
	 * have expired, and only a walk can find (count out, remove) it.
	 * The program sets it when it is 0; the walk sets it to its finding.
	 */
	__u64 tw_oldest_ns;
};

/*
 * The flow gauges, read in the kernel by the syscall program of
 * bpf/flow_walk.bpf.c: its context, which BPF_PROG_TEST_RUN copies in and
 * back out.  Timeouts in; the live entries of sg_half and sg_flows by
 * state out, the expired ones removed.  sg_half is always walked (a flood
 * fills and evicts it; it is the small table); sg_flows only when its
 * gauges (sg_gauge) cannot be trusted or may hold expired entries.
 */
#define SG_WALK_FULL (1U << 0)	/* sg_walk.flags: walk sg_flows even if the gauges hold */
#define SG_WALK_WALKED (1U << 1)	/* out: sg_flows was walked */
#define SG_WALK_REBASED (1U << 2)	/* out: ...and sg_gauge_base set from it */
struct sg_walk {
	__u64 half_open_ns;	/* in: SYN_SEEN and SYN_RCVD expire after this */
	__u64 syn_sent_ns;	/* in: SYN_SENT */
	__u64 time_wait_ns;	/* in: TIME_WAIT, either end's */
	__u64 now_ns;		/* out: bpf_ktime_get_ns() the ages ran to */
	__u64 state[SG_TCP_STATE_MAX];	/* out: live entries by state */
	__u64 half_entries;	/* out: entries of sg_half, expired included */
	__u64 flow_entries;	/* out: entries of sg_flows, expired included */
	__u64 removed;		/* out: expired entries removed */
	__u32 ncpu;		/* in: possible CPUs (sg_gauge's slots) */
	__u32 flags;		/* in and out: SG_WALK_* */
	/*
	 * in: the kernel's HZ and tcp_synack_retries, both nonzero when a
	 * SYN_RCVD entry with a synack_jiffy expires when the kernel drops
	 * its request (sg_reqsk_expiry), not half_open_ns after its SYN-ACK.
	 */
	__u32 hz;
	__u32 synack_retries;
	__u64 jiffies;		/* out: jiffies64 the ages ran to */
};

/*
 * When Linux drops a request socket that was never answered: the jiffy
 * (low 32 bits, wrapping) on which reqsk_timer_handler() runs out of
 * retransmits, for a request whose timer was armed on jiffy @j0.  The
 * timer fires after 1 s, then after 2, 4, ... s (TCP_TIMEOUT_INIT << n,
 * at most TCP_RTO_MAX), @retries times retransmitting, the last time
 * dropping.  Each mod_timer() lands on the timer wheel, which never fires
 * early: it rounds an expiry up to its level's granularity, 8^level
 * jiffies, the level chosen by how far ahead it is (kernel/time/timer.c,
 * calc_wheel_index(): delta below 63 jiffies level 0, 504 level 1, 4032
 * level 2, ...).  Armed from the handler, the wheel's clock is one ahead
 * of jiffies, so the delta is the timeout less one.  With HZ 250 and 2
 * retries that is 7.052 to 7.304 s, not 7 (with 5, 63.6 to 65.7 s, not
 * 63): a gauge that ages requests by 7 s empties up to 0.3 s before `ss`.
 */
#define SG_RTO_MAX_S 120
#define SG_REQSK_RETRIES_MAX 8
static inline __u32 sg_wheel_round(__u32 expires, __u32 delta)
{
	__u32 shift = delta < 63 ? 0 : delta < 504 ? 3 : delta < 4032 ? 6 :
		      delta < 32256 ? 9 : delta < 258048 ? 12 : 15;

	return ((expires >> shift) + 1) << shift;
}

static inline __u32 sg_reqsk_expiry(__u32 j0, __u32 hz, __u32 retries)
{
	__u32 e = j0, i, t;

	for (i = 0; i <= retries && i <= SG_REQSK_RETRIES_MAX; i++) {
		t = hz << i;
		if (t > SG_RTO_MAX_S * hz)
			t = SG_RTO_MAX_S * hz;
		e = sg_wheel_round(e + t, i ? t - 1 : t);
	}
	return e;
}

/*
 * Attack mode: the single entry of sg_attack, written by the program.  The
 * interface-wide SYN rate is measured in one-second windows; at each new
 * window the program re-evaluates the thresholds (with hysteresis).  The
 * SYNs are counted per CPU (sg_attack_syns, never reset); a window's rate
 * is the sum over the CPUs at its end less the sum at its start.
 *
 * The jiffy fields let a SYN skip the clock read: no window ends while
 * jiffies64 < roll_jiffy, and no unproven SYN is admitted while jiffies64 <
 * SG_REFUSE_UNTIL(refuse) under policy generation SG_REFUSE_GEN(refuse).
 */
#define SG_ATTACK_LOG 16
struct sg_attack {
	__u64 window_ns;	/* start of the current one-second window */
	__u64 reserved;		/* was window_syns (now per CPU: sg_attack_syns) */
	__u64 last_rate;	/* SYNs past the per-source limit in the last window */
	__u64 half_open_est;	/* half-open estimate at the last window */
	__u64 calm_since_ns;	/* below the leave thresholds since; 0: not */
	__u64 admit_tat;	/* GCRA of unproven admissions */
	__u64 log_ns[SG_ATTACK_LOG];	/* transitions: ktime | 1 when entering */
	__u32 log_next;		/* next slot of log_ns */
	__u32 active;
	__u64 syns_base;	/* sum of sg_attack_syns when the window began */
	__u64 roll_jiffy;	/* no window ends while jiffies64 is below it */
	__u64 refuse;		/* unproven SYNs refused: see SG_REFUSE_* */
	/* The detector, as of the last window (appended: attach --force). */
	__u64 done_base;	/* sum of completions (sg_attack_syns[1]) then */
	__u64 unanswered;	/* last window's SYNs less its completions, >= 0 */
	__u64 baseline_fp;	/* auto: learned unanswered SYNs/s << SG_AUTO_FP_SHIFT */
	__u64 syn_threshold;	/* the SYN threshold in force; 0: off */
	__u32 learned;		/* auto: calm windows learned */
	__u32 why;		/* SG_WHY_*: what was over when last over */
	__u64 limited_base;	/* sum of src_rate and src_blocked drops then */
#ifdef SG_LAYOUT_TEST
	/* A build whose layout differs, to upgrade to and back (29-replace). */
	__u64 layout_test;
#endif
};

/* sg_attack.why */
#define SG_WHY_SYN_RATE (1U << 0)
#define SG_WHY_HALF_OPEN (1U << 1)

/* sg_attack_syns: per CPU, ever: SYNs counted, handshakes remote ends completed. */
#define SG_ATTACK_SYNS 0
#define SG_ATTACK_DONE 1

/* sg_attack.refuse: a jiffies64 horizon (low 40 bits), a generation (high 24). */
#define SG_REFUSE_UNTIL(r) ((r) & ((1ULL << 40) - 1))
#define SG_REFUSE_GEN(r) ((__u32)((r) >> 40))
#define SG_REFUSE(until, gen) (((until) & ((1ULL << 40) - 1)) | \
			       ((__u64)((gen) & 0xFFFFFF) << 40))

/*
 * sg_proven_bits: one bit per hash of a source address, set before a
 * source goes into sg_proven (never cleared by the program): a clear bit
 * means the source is surely not in sg_proven.  Whoever empties sg_proven
 * zeroes it too.
 */
#define SG_PROVEN_WORDS 16384	/* of 64 bits: 2^20 bits, 128 KiB */

/*
 * Half-open estimate without iterating a map on the hot path: per second,
 * how many flows became SYN_RCVD and how many of those (by the second they
 * were created in) completed or were reset.  The sum over the last
 * half_open_timeout seconds (at most SG_HO_SLOTS) is the estimate; old
 * seconds fall out of it, so it cannot drift.
 */
#define SG_HO_SLOTS 64
struct sg_ho_slot {
	__u64 second;		/* ktime seconds this slot holds */
	__u64 created;
	__u64 resolved;
};

/* Handshake latency histograms: log2 of microseconds. */
#define SG_HIST_BUCKETS 32
#define SG_HIST_SYN_SYNACK 0	/* SYN in, SYN-ACK out: how fast the host answers */
#define SG_HIST_SYNACK_ACK 1	/* SYN-ACK to the ACK: the opener's round trip */
#define SG_HIST_MAX 2
/* sg_hist: SG_HIST_MAX rows of buckets, then one sum (ns) per histogram. */
#define SG_HIST_SUM(h) (SG_HIST_MAX * SG_HIST_BUCKETS + (h))
#define SG_HIST_ENTRIES (SG_HIST_MAX * (SG_HIST_BUCKETS + 1))

/* Flow table defaults; `synguard attach --half-open-max/--flows-max` set them. */
#define SG_DEFAULT_HALF_MAX 65536
#define SG_DEFAULT_FLOWS_MAX 262144

/* sg_meta.mode */
#define SG_MODE_NATIVE 1
#define SG_MODE_GENERIC 2
#define SG_MODE_SLOT 3		/* attach --into: a slot of another root's prog array */

/*
 * Facts about an attachment, written once by `synguard attach` into the
 * pinned sg_meta map so that `status` can tell them later.  The BPF
 * program never reads it.
 */
struct sg_meta {
	__u64 attached_at;	/* CLOCK_REALTIME seconds */
	__u64 netns_ino;	/* inode of the interface's network namespace */
	__u32 ifindex;
	__u32 mode;		/* SG_MODE_* */
	char ifname[16];
	char netns[64];		/* `ip netns` name, "" for the initial netns */
	/*
	 * Appended (an older attachment's map is shorter and reads as 0s).
	 * A netns inode is reused as soon as the netns is freed, and a
	 * recreated netns numbers its interfaces from 1 again: what is the
	 * attachment's is told by the netns cookie (SO_NETNS_COOKIE, never
	 * reused) and by a random id in the name of its nftables table.
	 */
	__u64 netns_cookie;
	__u64 attach_id;
	/* Appended: with SG_MODE_SLOT, the program array and the slot. */
	__u32 into_index;
	__u32 into_pad;
	char into_pin[256];
};

/*
 * Events: rare transitions, never one per packet, as records of the
 * sg_events ring buffer (bpf/events.bpf.h), read by `synguard events`.
 * The meaning of the generic fields of struct sg_event, by type:
 *
 *   attack_enter, attack_leave: v[0] the SYN rate judged (SYNs/s past the
 *     per-source limit; auto: unanswered), v[1] the SYN threshold, v[2]
 *     the half-open estimate, v[3] the half-open threshold, aux the
 *     SG_WHY_* last over, aux2 attack_leave_pct.
 *   src_limited, src_blocked: the source (addr, family, prefix), v[0] its
 *     SYNs, v[1] its drops, v[2] block_ns (blocked), aux src_rate, aux2
 *     src_burst.
 *   src_released: the source, v[0] its SYNs, v[1] its drops, v[2] ns it
 *     was limited or blocked.
 *   deny_hits: the exact source address (the reader finds its entry),
 *     at its first hit and at its first after SG_EV_DENY_INTERVAL_NS from
 *     its last event: v[0] the entry's hits since that event (0: none
 *     remembered), v[1] the entry's hits ever, v[2] the interval (ns).
 *   flow_table_full: v[0] insertions that failed in the interval, v[1] the
 *     interval (ns).
 *   cookie_invalid: v[0] invalid cookie ACKs this second (one CPU), v[1]
 *     ...the second before, aux the threshold.
 *   flow_table_evicting: the LRU of a flow table (aux: SG_EV_TBL_*)
 *     evicted entries to make room, told at the first eviction and then
 *     at most once an interval while it goes on: v[0] entries evicted
 *     since the table's last event, v[1] its entries then (the kernel's
 *     count), v[2] its max_entries, v[3] the interval (ns).
 *   flow_table_drained: ...and that episode's end, at the first insertion
 *     after an interval with no eviction: v[0] entries evicted in the
 *     whole episode, v[1] entries, v[2] max_entries, v[3] ns it lasted.
 */
#define SG_EVENT_LIST(X)                                                       \
	X(ATTACK_ENTER, "attack_enter")                                        \
	X(ATTACK_LEAVE, "attack_leave")                                        \
	X(SRC_LIMITED, "src_limited")                                          \
	X(SRC_BLOCKED, "src_blocked")                                          \
	X(SRC_RELEASED, "src_released")                                        \
	X(DENY_HITS, "deny_hits")                                              \
	X(FLOW_TABLE_FULL, "flow_table_full")                                  \
	X(COOKIE_INVALID, "cookie_invalid")                                    \
	X(FLOW_TABLE_EVICTING, "flow_table_evicting")                          \
	X(FLOW_TABLE_DRAINED, "flow_table_drained")

#define SG_EVENT_ENTRY(id, name) SG_EV_##id,
enum sg_event_type { SG_EVENT_LIST(SG_EVENT_ENTRY) SG_EV_MAX };

struct sg_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 v[4];		/* by type, above */
	__u8 addr[16];		/* a source; IPv4 in the first 4 bytes */
	__u32 type;		/* enum sg_event_type */
	__u32 aux;
	__u32 aux2;
	__u8 family;		/* 4 or 6; 0: no address */
	__u8 prefix;
	__u16 pad;
};

/*
 * The rate limit of the per-source events (limited, blocked, released,
 * deny_hits): a token bucket per CPU.  The others are bounded by what
 * they are: attack mode changes at most once a second, the tallies
 * report at most once an interval (per CPU).
 */
#define SG_EV_RATE 20			/* per-source events per second, per CPU */
#define SG_EV_BURST 100
#define SG_EV_RING_BYTES (256 * 1024)	/* about 3,600 events */
#define SG_EV_DENY_BITS 10
#define SG_EV_DENY_SLOTS (1U << SG_EV_DENY_BITS) /* deny summaries, by source hash */
#define SG_EV_DENY_INTERVAL_NS (5 * 1000000000ULL)
#define SG_EV_FULL_INTERVAL_NS (10 * 1000000000ULL)
#define SG_EV_COOKIE_INVALID_RATE 100	/* invalid cookie ACKs a second, per CPU */
#define SG_EV_EVICT_INTERVAL_NS (2 * 1000000000ULL)

/* The flow tables, as flow_table_evicting and _drained name them (aux). */
#define SG_EV_TBL_HALF 0		/* sg_half: handshakes */
#define SG_EV_TBL_FLOWS 1		/* sg_flows: established and closing */
#define SG_EV_TABLES 2

/* The events' state, per CPU: the token bucket and the tallies. */
struct sg_ev_cpu {
	__u64 tat;		/* GCRA of the per-source events */
	__u64 full_until;	/* coarse ns the flow_table_full interval ends */
	__u64 full_n;		/* failures in it */
	__u64 ci_sec;		/* the second of ci_n */
	__u64 ci_n;		/* invalid cookie ACKs in it */
	__u64 ci_prev;		/* ...in the second before */
	/* Appended: entries this CPU's insertions evicted, ever, by table. */
	__u64 evicted[SG_EV_TABLES];
	/*
	 * ...and where this CPU's word of each table's element count is, for
	 * the map of that id (attach --force may carry this map to a new
	 * table: map ids are never reused).
	 */
	__u64 elems_at[SG_EV_TABLES];
	__u32 elems_id[SG_EV_TABLES];
};

/*
 * A flow table's eviction episode (sg_ev_table, by SG_EV_TBL_*), shared by
 * the CPUs: read by every insertion while an episode is on, written once
 * an interval by the CPU that moved @until.
 */
struct sg_ev_table {
	__u64 until;		/* coarse ns: no event of the table before */
	__u64 told;		/* the CPUs' evictions (sum) at its last event */
	__u64 base;		/* ...when the episode began */
	__u64 since;		/* coarse ns the episode began */
	__u32 on;		/* an episode is on: evictions told, no drain yet */
	__u32 pad;
};

/*
 * A denied source's interval, direct-mapped by a hash of it, shared by the
 * CPUs: a hit within the interval only reads it (no cache line bounces),
 * the first hit after it rewrites it.  The hits of the interval are the
 * entry's own counter's (the trie's value) since: no count of its own.
 */
struct sg_ev_deny {
	__u64 until;		/* jiffies64 the interval ends */
	__u64 total;		/* the entry's hits when it began */
	__u8 src[16];
	__u8 family;
	__u8 pad[7];
};

#endif /* SYNGUARD_H */
