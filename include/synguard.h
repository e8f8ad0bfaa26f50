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

/* What was seen: one per-CPU __u64 each, in the sg_stats map. */
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
	X(PASS, "pass")			/* verdicts */                         \
	X(DROP, "drop")                                                        \
	X(WOULD_DROP, "would_drop")	/* dry-run: matched a drop rule */

/*
 * Why a frame was (or, in dry-run, would have been) dropped: one per-CPU
 * __u64 each, in the sg_drops map.  Counted in dry-run too.
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
	X(SRC_BLOCKED, "src_blocked")	/* SYN while its source is blocked */

#define SG_ENUM_ENTRY(id, name) SG_##id,
enum sg_stat { SG_STAT_LIST(SG_ENUM_ENTRY) SG_STAT_MAX };
#define SG_REASON_ENTRY(id, name) SG_R_##id,
enum sg_reason { SG_REASON_LIST(SG_REASON_ENTRY) SG_REASON_MAX };

/* Parsing limits: deeper than this is "unparsed", never "not TCP". */
#define SG_MAX_VLAN_TAGS 2
#define SG_MAX_IPV6_EXT 8

/* sg_config.flags */
#define SG_CFG_DRY_RUN (1U << 0)	/* count would-drops, drop nothing */
#define SG_CFG_UNPARSED_PASS (1U << 1)	/* pass what cannot be parsed */
#define SG_CFG_PORTS (1U << 2)		/* flood checks only on sg_ports */

/*
 * Live policy: the single entry of the sg_config array map, read by the
 * program on every frame, so `synguard config set` takes effect at once.
 */
struct sg_config {
	__u64 block_ns;		/* a source over its bucket stays blocked; 0: no block */
	__u32 flags;
	__u32 src_rate;		/* SYNs per second per source; 0: no limit */
	__u32 src_burst;	/* SYNs a source may send at once */
	__u8 prefix4;		/* sources are counted per IPv4 /prefix4 */
	__u8 prefix6;		/* ...and per IPv6 /prefix6 */
	__u16 reserved;
};

/* Ports are a 65536-bit set: sg_ports[port / 64] bit port % 64. */
#define SG_PORT_WORDS 1024

/* Allow and deny lists: LPM tries, value = hits (atomic). */
struct sg_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct sg_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
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
};

#define SG_DEFAULT_SRC_MAX 65536

/* sg_meta.mode */
#define SG_MODE_NATIVE 1
#define SG_MODE_GENERIC 2

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
};

#endif /* SYNGUARD_H */
