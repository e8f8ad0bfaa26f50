// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SYN cookies at XDP through BPF_PROG_TEST_RUN on the real synguard_xdp.
 *
 * SYN in, SYN-ACK out: the SYN is built by pktbuild, the SYN-ACK the
 * program sends is compared byte for byte with one this file writes by
 * itself (its own byte writer and its own RFC 1071 checksum, none of the
 * BPF structs), taking from the output only what nobody can predict: the
 * cookie (our sequence number) and our timestamp, whose low bits and time
 * are checked on their own.  Then the client's ACK of that SYN-ACK: a
 * valid one passes with SG_COOKIE_META in the XDP metadata and an
 * established flow; forged ones are dropped.  Modes and scope decide who
 * gets a cookie at all.  A private network namespace holds a real TCP
 * connection, so the program's socket lookup meets a real socket.
 *
 * Every frame's counters are checked in full: the named ones +1 (or as
 * given), every other stat and drop reason unmoved.  Output is TAP, ending
 * "N passed, N failed".  Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktbuild.h"
#include "testlib.h"
#include "policy.h"
#include "stats.h"
#include "synguard.skel.h"

_Static_assert(SG_STAT_MAX <= 64, "a 64-bit mask names the stats a frame moves");

/*
 * Rows are "the defaults, then what differs": later initializers win, and
 * what a row leaves out is zero.
 */
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define SRV4 "198.18.0.1"	/* the protected host: pktbuild's default dst */
#define CLI4 "198.18.0.3"	/* the client: pktbuild's default src */
#define SRV6 "2001:2::1"
#define CLI6 "2001:2::3"
#define SRV_PORT 80
#define CLI_TSVAL 0xa1b2c3d4U	/* the client's timestamp in every SYN */

static const __u8 cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x03 };	/* pktbuild's */
static const __u8 srv_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct ctx {
	struct synguard *skel;
	int n, failed, skipped;
	struct sg_counters before, after;	/* around the last frame */
	bool netns;				/* in a private netns with lo up */
};

/* ---- TAP ---------------------------------------------------------------- */

static bool ok(struct ctx *c, bool cond, const char *fmt, ...)
{
	va_list ap;

	c->n++;
	printf("%s %d - ", cond ? "ok" : "not ok", c->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		c->failed++;
	return cond;
}

static void skip(struct ctx *c, const char *what, const char *why)
{
	c->n++;
	c->skipped++;
	printf("ok %d - %s # SKIP %s\n", c->n, what, why);
}

static bool eq(struct ctx *c, long long got, long long want, const char *fmt, ...)
{
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (ok(c, got == want, "%s", desc))
		return true;
	printf("#   got %lld (0x%llx), want %lld (0x%llx)\n", got,
	       (unsigned long long)got, want, (unsigned long long)want);
	return false;
}

static void diag_hex(const char *what, const __u8 *p, int len)
{
	int i;

	printf("#   %s (%d bytes):", what, len);
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? (i % 2 ? "" : " ") : "\n#     ", p[i]);
	printf("\n");
}

static bool verdict(struct ctx *c, int got, int want, const char *what)
{
	if (ok(c, got == want, "%s: %s", what, verdict_name(want)))
		return true;
	printf("#   got %d (%s)\n", got, got < 0 ? strerror(-got) : verdict_name(got));
	return false;
}

/* ---- maps and policy ------------------------------------------------------ */

/* What a scenario configures; the cookie values default to 1460/1440/7. */
struct cfg {
	__u8 cookie_mode;
	__u32 flags;			/* SG_CFG_* */
	__u16 mss4, mss6;		/* 0: 1460, 1440 */
	__u8 wscale;
	bool wscale_set;		/* wscale as given, else 7 */
	int port;			/* with SG_CFG_PORTS: the one port in scope */
	__u32 attack_syn_rate;
};

static void write_cfg(struct ctx *c, const struct cfg *k)
{
	struct sg_policy pol;

	policy_defaults(&pol);
	pol.cfg.cookie_mode = k->cookie_mode;
	pol.cfg.flags = k->flags;
	pol.cfg.cookie_mss4 = k->mss4 ? k->mss4 : 1460;
	pol.cfg.cookie_mss6 = k->mss6 ? k->mss6 : 1440;
	pol.cfg.cookie_wscale = k->wscale_set ? k->wscale : 7;
	pol.cfg.attack_syn_rate = k->attack_syn_rate;
	pol.cfg.attack_half_open = 0;	/* cookies are the subject, not the guard */
	pol.cfg.src_rate = 0;
	if (k->port > 0)
		pol.ports[k->port / 64] |= 1ULL << (k->port % 64);
	if (policy_write(POLICY_FDS(c->skel), &pol))
		printf("# policy_write failed: %s\n", strerror(errno));
}

/* As `synguard allow add` does: the program skips a trie counted empty. */
static void allow_counted(struct ctx *c, __u32 n)
{
	struct sg_list_sizes sizes = { .n = { [SG_LIST_ALLOW4] = n } };
	__u32 zero = 0;

	bpf_map_update_elem(fd(c->skel->maps.sg_lists), &zero, &sizes, BPF_ANY);
}

/* sg_proven emptied, and with it its bitmap (include/synguard.h). */
static void proven_clear(struct synguard *s)
{
	static __u32 keys[SG_PROVEN_WORDS];
	static __u64 zeros[SG_PROVEN_WORDS];
	__u32 i, n = SG_PROVEN_WORDS;

	clear_map(fd(s->maps.sg_proven), sizeof(struct sg_src_key));
	for (i = 0; i < n; i++)
		keys[i] = i;
	bpf_map_update_batch(fd(s->maps.sg_proven_bits), keys, zeros, &n, NULL);
}

/* A fresh policy, empty tables, attack mode off. */
static void setup(struct ctx *c, const struct cfg *k)
{
	struct synguard *s = c->skel;
	struct sg_attack a = {};
	__u32 zero = 0;

	write_cfg(c, k);
	clear_map(fd(s->maps.sg_src), sizeof(struct sg_src_key));
	clear_map(fd(s->maps.sg_allow4), sizeof(struct sg_lpm4));
	allow_counted(c, 0);
	clear_map(fd(s->maps.sg_deny4), sizeof(struct sg_lpm4));
	clear_map(fd(s->maps.sg_allow6), sizeof(struct sg_lpm6));
	clear_map(fd(s->maps.sg_deny6), sizeof(struct sg_lpm6));
	clear_map(fd(s->maps.sg_half), sizeof(struct sg_flow_key));
	clear_map(fd(s->maps.sg_flows), sizeof(struct sg_flow_key));
	proven_clear(s);
	bpf_map_update_elem(fd(s->maps.sg_attack), &zero, &a, BPF_ANY);
}

#define CFG(...) (&(struct cfg){ __VA_ARGS__ })
#define ALWAYS CFG(.cookie_mode = SG_COOKIE_ALWAYS)

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- running frames ------------------------------------------------------- */

/* What one run of the program gave back. */
struct out {
	__u8 data[PKT_MAX_FRAME];
	__u32 len;		/* bytes in data, the metadata included */
	__u32 meta;		/* metadata length: xdp_md.data of ctx_out */
	__u32 t0, t1;		/* CLOCK_MONOTONIC ms just before (coarse) and after */
};

/*
 * Runs @frame through synguard_xdp with an xdp_md context, so that ctx_out
 * tells where the packet starts in data_out: BPF_PROG_TEST_RUN copies out
 * from data_meta, and ctx_out.data is the metadata's length.  Counters are
 * read around the run into c->before and c->after.  Returns the verdict or
 * -errno.
 */
static int xdp(struct ctx *c, const __u8 *frame, int len, struct out *o)
{
	struct xdp_md in = { .data = 0, .data_end = len }, out = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .data_out = o->data, .data_size_out = sizeof(o->data),
		    .ctx_in = &in, .ctx_size_in = sizeof(in),
		    .ctx_out = &out, .ctx_size_out = sizeof(out));
	int err;

	if (len < 0)
		return len;
	stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &c->before);
	/* The program reads the coarse clock: up to a jiffy behind this one. */
	o->t0 = clock_ns(CLOCK_MONOTONIC_COARSE) / 1000000;
	err = bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_xdp), &opts);
	o->t1 = clock_ns(CLOCK_MONOTONIC) / 1000000;
	if (err)
		return -errno;
	stats_read(fd(c->skel->maps.sg_stats), fd(c->skel->maps.sg_drops), &c->after);
	books_check(&c->before, &c->after, "a frame of xdp()");
	o->len = opts.data_size_out;
	o->meta = out.data;
	return opts.retval;
}

static int build(const struct pkt_spec *s, __u8 *frame)
{
	return pkt_build(s, frame, PKT_MAX_FRAME);
}

#define S(x) (1ULL << SG_##x)
#define NO_REASON (-1)

/*
 * Every counter of the last frame: FRAMES and the stats in @mask +1, the
 * drop reason @reason (or none) +1, everything else 0.
 */
static void counters(struct ctx *c, const char *what, __u64 mask, int reason)
{
	bool good = true;
	int i;

	mask |= S(FRAMES);
	if (mask & S(PASS))	/* nothing in the chain slot here */
		mask |= S(CHAIN_EMPTY);
	for (i = 0; i < SG_STAT_MAX; i++)
		good &= c->after.stat[i] - c->before.stat[i] == !!(mask & (1ULL << i));
	for (i = 0; i < SG_REASON_MAX; i++)
		good &= c->after.reason[i] - c->before.reason[i] == (i == reason);
	if (ok(c, good, "%s: counters", what))
		return;
	for (i = 0; i < SG_STAT_MAX; i++)
		if (c->after.stat[i] - c->before.stat[i] != !!(mask & (1ULL << i)))
			printf("#   stat %s: want +%d, got %+lld\n", stats_names[i],
			       !!(mask & (1ULL << i)),
			       (long long)(c->after.stat[i] - c->before.stat[i]));
	for (i = 0; i < SG_REASON_MAX; i++)
		if (c->after.reason[i] - c->before.reason[i] != (i == reason))
			printf("#   reason %s: want +%d, got %+lld\n", reason_names[i],
			       i == reason,
			       (long long)(c->after.reason[i] - c->before.reason[i]));
}

/* ---- the expected SYN-ACK, written independently -------------------------- */

struct wr {
	__u8 b[256];
	int n;
};

static void w8(struct wr *w, __u8 v)
{
	w->b[w->n++] = v;
}

static void w16(struct wr *w, __u16 v)
{
	w8(w, v >> 8);
	w8(w, v);
}

static void w32(struct wr *w, __u32 v)
{
	w16(w, v >> 16);
	w16(w, v);
}

static void wbytes(struct wr *w, const void *p, int len)
{
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

static __u32 rd32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* What a SYN-ACK must carry, said by hand in each row. */
struct want {
	int len;		/* the whole frame */
	__u16 mss;
	__u8 tsbits;		/* low 6 bits of our tsval */
	__u8 wscale;		/* offered with ws */
	bool ts, sack, ws, ece;
};

struct row {
	const char *desc;
	struct pkt_spec syn;	/* sport and seq are set per row */
	struct want want;
	struct cfg cfg;		/* cookie_mode set to always */
	__u32 isn;		/* 0: a default per row */
};

/*
 * The SYN-ACK answering the SYN @in (its tags are copied from it: they
 * must come back byte for byte), with @cookie and @tsval.
 */
static int expected_synack(const struct row *r, const __u8 *in, __u16 cport,
			   __u32 isn, __u32 cookie, __u32 tsval, __u8 *out)
{
	int fam = r->syn.family, tags = r->syn.vlan_tags, tcp_len, tcp_at, ip_at;
	__u8 srv[16], cli[16];
	struct wr w = {};
	__u32 sum;

	inet_pton(fam == 4 ? AF_INET : AF_INET6, fam == 4 ? SRV4 : SRV6, srv);
	inet_pton(fam == 4 ? AF_INET : AF_INET6, fam == 4 ? CLI4 : CLI6, cli);
	tcp_len = 24 + (r->want.ts ? 12 : 0) + (r->want.ws ? 4 : 0);

	wbytes(&w, cli_mac, 6);
	wbytes(&w, srv_mac, 6);
	wbytes(&w, in + 12, 4 * tags);
	w16(&w, fam == 4 ? 0x0800 : 0x86dd);
	ip_at = w.n;
	if (fam == 4) {
		w8(&w, 0x45);			/* version 4, IHL 5: no options */
		w8(&w, 0);			/* TOS */
		w16(&w, 20 + tcp_len);
		w16(&w, 0);			/* id */
		w16(&w, 0x4000);		/* DF */
		w8(&w, 64);			/* TTL */
		w8(&w, IPPROTO_TCP);
		w16(&w, 0);			/* checksum, below */
		wbytes(&w, srv, 4);
		wbytes(&w, cli, 4);
		sum = pkt_csum_fold(pkt_csum_add(0, w.b + ip_at, 20));
		w.b[ip_at + 10] = sum >> 8;
		w.b[ip_at + 11] = sum;
	} else {
		w32(&w, 0x60000000);		/* version 6, class 0, flow label 0 */
		w16(&w, tcp_len);
		w8(&w, IPPROTO_TCP);		/* no extension headers */
		w8(&w, 64);			/* hop limit */
		wbytes(&w, srv, 16);
		wbytes(&w, cli, 16);
	}
	tcp_at = w.n;
	w16(&w, SRV_PORT);
	w16(&w, cport);
	w32(&w, cookie);
	w32(&w, isn + 1);
	w8(&w, (tcp_len / 4) << 4);
	w8(&w, 0x12 | (r->want.ece ? 0x40 : 0));	/* SYN|ACK (|ECE) */
	w16(&w, 0);			/* window */
	w16(&w, 0);			/* checksum, below */
	w16(&w, 0);			/* urgent pointer */
	w8(&w, 2), w8(&w, 4), w16(&w, r->want.mss);
	if (r->want.ts) {
		if (r->want.sack)
			w8(&w, 4), w8(&w, 2);
		else
			w8(&w, 1), w8(&w, 1);
		w8(&w, 8), w8(&w, 10), w32(&w, tsval), w32(&w, CLI_TSVAL);
		if (r->want.ws)
			w8(&w, 1), w8(&w, 3), w8(&w, 3), w8(&w, r->want.wscale);
	}
	sum = pkt_csum_fold(pkt_csum_add(pkt_csum_pseudo(fam, srv, cli, IPPROTO_TCP, tcp_len),
					 w.b + tcp_at, tcp_len));
	w.b[tcp_at + 16] = sum >> 8;
	w.b[tcp_at + 17] = sum;
	memcpy(out, w.b, w.n);
	return w.n;
}

/*
 * Our tsval at @now ms, as cookie_init_timestamp() makes it: now with the
 * option bits in its low 6 bits, never in the future.
 */
static __u32 tsval_at(__u32 now, __u8 bits)
{
	__u32 ts = (now & ~63U) | bits;

	return ts > now ? ts - 64 : ts;
}

/* ---- frames the tests send ------------------------------------------------ */

#define O_MSS(v) 2, 4, (v) >> 8, (v) & 0xff
#define O_SACK 4, 2
#define O_TS 8, 10, 0xa1, 0xb2, 0xc3, 0xd4, 0, 0, 0, 0
#define O_NOP 1
#define O_EOL 0
#define O_WS(n) 3, 3, n
#define OPTS(...) .tcp_opts = (const __u8[]){ __VA_ARGS__ }, \
	.tcp_opt_len = sizeof((const __u8[]){ __VA_ARGS__ })
#define LINUX4 OPTS(O_MSS(1460), O_SACK, O_TS, O_NOP, O_WS(7))
#define LINUX6 OPTS(O_MSS(1440), O_SACK, O_TS, O_NOP, O_WS(7))
#define LINUX4_NOTS OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACK, O_NOP, O_WS(7))
#define LINUX6_NOTS OPTS(O_MSS(1440), O_NOP, O_NOP, O_SACK, O_NOP, O_WS(7))

#define V4(...) { .family = 4, .src = CLI4, .dst = SRV4, .dport = SRV_PORT, \
		  .tcp_flags = PKT_SYN, __VA_ARGS__ }
#define V6(...) { .family = 6, .src = CLI6, .dst = SRV6, .dport = SRV_PORT, \
		  .tcp_flags = PKT_SYN, __VA_ARGS__ }
#define HOP { .type = IPPROTO_HOPOPTS }
#define DSTOPT { .type = IPPROTO_DSTOPTS }
#define RTHDR { .type = IPPROTO_ROUTING }

/* Frame lengths: Ethernet 14, IPv4 20, IPv6 40, TCP 24 + TS 12 + WS 4. */
#define L4 (14 + 20)
#define L6 (14 + 40)
/* want: full Linux answer, MSS only. */
#define W_FULL(l3, m) .len = (l3) + 40, .mss = (m), .tsbits = 0x17, .wscale = 7, \
	.ts = true, .sack = true, .ws = true
#define W_MSS(l3, m) .len = (l3) + 24, .mss = (m)

static const struct row rows[] = {
	{ "IPv4 Linux SYN (MSS 1460, SACK_PERM, TS, NOP, WS 7)",
	  V4(LINUX4), { W_FULL(L4, 1460) } },
	{ "IPv4 SYN without timestamps (MSS only): 58-byte SYN-ACK",
	  V4(OPTS(O_MSS(1460))), { W_MSS(L4, 1460) } },
	{ "IPv4 SYN without any option (doff 5): the frame grows to 58",
	  V4(), { W_MSS(L4, 1460) } },
	{ "IPv4 SYN padded to 60 bytes: the frame shrinks to 58",
	  V4(.pad_to = 60), { W_MSS(L4, 1460) } },
	{ "IPv4 SYN with SACK_PERM and WS but no TS: MSS only",
	  V4(OPTS(O_MSS(1460), O_NOP, O_WS(7), O_NOP, O_NOP, O_SACK)), { W_MSS(L4, 1460) } },
	{ "IPv4 SYN with 12 bytes of IPv4 options: stripped",
	  V4(LINUX4, .ip_opt_len = 12), { W_FULL(L4, 1460) } },
	{ "IPv4 SYN with 40 bytes of IPv4 options (IHL 15): stripped",
	  V4(LINUX4, .ip_opt_len = 40), { W_FULL(L4, 1460) } },
	{ "IPv4 SYN with ECE|CWR and TS: ECE in reply, ECN bit",
	  V4(LINUX4, .tcp_flags = PKT_SYN | PKT_ECE | PKT_CWR),
	  { W_FULL(L4, 1460), .tsbits = 0x37, .ece = true } },
	{ "IPv4 SYN with ECE|CWR without TS: no ECE (nowhere to keep it)",
	  V4(OPTS(O_MSS(1460)), .tcp_flags = PKT_SYN | PKT_ECE | PKT_CWR), { W_MSS(L4, 1460) } },
	{ "IPv4 SYN with ECE but no CWR, TS: no ECN",
	  V4(LINUX4, .tcp_flags = PKT_SYN | PKT_ECE), { W_FULL(L4, 1460) } },
	{ "IPv4 SYN with TS, no WS: no WS option, low bits 0xf",
	  V4(OPTS(O_MSS(1460), O_SACK, O_TS)),
	  { .len = L4 + 36, .mss = 1460, .tsbits = 0x1f, .ts = true, .sack = true } },
	{ "IPv4 SYN with TS, no SACK: NOP NOP TS",
	  V4(OPTS(O_MSS(1460), O_NOP, O_NOP, O_TS, O_NOP, O_WS(7))),
	  { .len = L4 + 40, .mss = 1460, .tsbits = 0x07, .wscale = 7, .ts = true, .ws = true } },
	{ "IPv4 SYN with TS only: NOP NOP TS, low bits 0xf",
	  V4(OPTS(O_MSS(1460), O_NOP, O_NOP, O_TS)),
	  { .len = L4 + 36, .mss = 1460, .tsbits = 0x0f, .ts = true } },
	{ "IPv4 SYN with WS 15: read as 14 (RFC 7323 2.3)",
	  V4(OPTS(O_MSS(1460), O_SACK, O_TS, O_NOP, O_WS(15))),
	  { W_FULL(L4, 1460), .tsbits = 0x1e } },
	{ "IPv4 SYN with WS 0: a window scale of 0 is not none",
	  V4(OPTS(O_MSS(1460), O_SACK, O_TS, O_NOP, O_WS(0))),
	  { W_FULL(L4, 1460), .tsbits = 0x10 } },
	{ "IPv4 SYN with an unknown option (kind 30) before SACK_PERM and TS",
	  V4(OPTS(O_MSS(1460), 30, 4, 0, 0, O_SACK, O_TS)),
	  { .len = L4 + 36, .mss = 1460, .tsbits = 0x1f, .ts = true, .sack = true } },
	/* The layouts cookie_fast_in() reads from the packet, and near misses
	 * of them that it must leave to the walk. */
	{ "IPv4 Linux SYN without TS (MSS, NOP NOP SACK_PERM, NOP WS): MSS only",
	  V4(LINUX4_NOTS), { W_MSS(L4, 1460) } },
	{ "IPv4 Windows SYN with TS (MSS, NOP WS 8, SACK_PERM TS)",
	  V4(OPTS(O_MSS(1460), O_NOP, O_WS(8), O_SACK, O_TS)), { W_FULL(L4, 1460), .tsbits = 0x18 } },
	{ "IPv4 SYN with WS before TS, no SACK (MSS, NOP WS, NOP NOP TS)",
	  V4(OPTS(O_MSS(1460), O_NOP, O_WS(7), O_NOP, O_NOP, O_TS)),
	  { .len = L4 + 40, .mss = 1460, .tsbits = 0x07, .wscale = 7, .ts = true, .ws = true } },
	{ "IPv4 SYN, 20 bytes, TS off its word (MSS, NOP, SACK_PERM, TS, 3 NOP): walked",
	  V4(OPTS(O_MSS(1460), O_NOP, O_SACK, O_TS, O_NOP, O_NOP, O_NOP)),
	  { .len = L4 + 36, .mss = 1460, .tsbits = 0x1f, .ts = true, .sack = true } },
	{ "IPv4 SYN, 20 bytes, 4 NOP where NOP WS would be: walked, no WS",
	  V4(OPTS(O_MSS(1460), O_SACK, O_TS, O_NOP, O_NOP, O_NOP, O_NOP)),
	  { .len = L4 + 36, .mss = 1460, .tsbits = 0x1f, .ts = true, .sack = true } },
	{ "IPv4 SYN, 20 bytes, 4 NOP where MSS would be: walked",
	  V4(OPTS(O_NOP, O_NOP, O_NOP, O_NOP, O_SACK, O_TS, O_NOP, O_WS(7))), { W_FULL(L4, 1460) } },
	{ "IPv4 SYN, 20 bytes, NOP NOP SACK_PERM where TS would be: walked, no TS",
	  V4(OPTS(O_MSS(1460), O_NOP, O_NOP, O_SACK, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP, O_NOP,
		  O_NOP, O_NOP, O_NOP, O_WS(7))), { W_MSS(L4, 1460) } },
	{ "IPv4 SYN, 20 bytes, EOL where NOP WS would be (MSS, EOL WS, SACK_PERM TS): nothing read",
	  V4(OPTS(O_MSS(1460), O_EOL, O_WS(7), O_SACK, O_TS)), { W_MSS(L4, 1460) } },
	{ "IPv4 SYN with WS after EOL: not read",
	  V4(OPTS(O_MSS(1460), O_NOP, O_NOP, O_TS, O_EOL, O_WS(7))),
	  { .len = L4 + 36, .mss = 1460, .tsbits = 0x0f, .ts = true } },
	{ "IPv4 SYN, ISN 0xffffffff: ack wraps to 0",
	  V4(LINUX4), { W_FULL(L4, 1460) }, .isn = 0xffffffffU },
	{ "IPv4 SYN, cookie_mss4=1400 cookie_wscale=9: offered as configured",
	  V4(LINUX4), { W_FULL(L4, 1400), .wscale = 9 },
	  { .mss4 = 1400, .mss6 = 1300, .wscale = 9, .wscale_set = true } },
	{ "IPv6 Linux SYN (MSS 1440, SACK_PERM, TS, NOP, WS 7)",
	  V6(LINUX6), { W_FULL(L6, 1440) } },
	{ "IPv6 SYN without TS (MSS, NOP, WS, NOP, NOP, SACK_PERM): MSS only",
	  V6(OPTS(O_MSS(1440), O_NOP, O_WS(7), O_NOP, O_NOP, O_SACK)), { W_MSS(L6, 1440) } },
	{ "IPv6 Linux SYN without TS (MSS, NOP NOP SACK_PERM, NOP WS): MSS only",
	  V6(LINUX6_NOTS), { W_MSS(L6, 1440) } },
	{ "IPv6 Windows SYN with TS, no SACK (MSS, NOP WS 8, NOP NOP TS)",
	  V6(OPTS(O_MSS(1440), O_NOP, O_WS(8), O_NOP, O_NOP, O_TS)),
	  { .len = L6 + 40, .mss = 1440, .tsbits = 0x08, .wscale = 7, .ts = true, .ws = true } },
	{ "IPv6 SYN, 20 bytes, TS off its word: walked",
	  V6(OPTS(O_MSS(1440), O_NOP, O_SACK, O_TS, O_NOP, O_NOP, O_NOP)),
	  { .len = L6 + 36, .mss = 1440, .tsbits = 0x1f, .ts = true, .sack = true } },
	{ "IPv6 SYN with ECE|CWR and TS: ECE in reply, ECN bit",
	  V6(LINUX6, .tcp_flags = PKT_SYN | PKT_ECE | PKT_CWR),
	  { W_FULL(L6, 1440), .tsbits = 0x37, .ece = true } },
	{ "IPv6 SYN behind a hop-by-hop header: stripped",
	  V6(LINUX6, .ext = { HOP }, .n_ext = 1), { W_FULL(L6, 1440) } },
	{ "IPv6 SYN behind hop-by-hop, routing, dst options: stripped",
	  V6(OPTS(O_MSS(1440)), .ext = { HOP, RTHDR, DSTOPT }, .n_ext = 3), { W_MSS(L6, 1440) } },
	{ "IPv6 SYN, cookie_mss6=1220 cookie_wscale=0: offered as configured",
	  V6(LINUX6), { W_FULL(L6, 1220), .wscale = 0 },
	  { .mss4 = 1300, .mss6 = 1220, .wscale = 0, .wscale_set = true } },
	{ "802.1Q IPv4 Linux SYN without TS: the tag stays",
	  V4(LINUX4_NOTS, .vlan_tags = 1),
	  { W_MSS(L4 + 4, 1460) } },
	{ "802.1Q IPv4 Linux SYN: the tag stays",
	  V4(LINUX4, .vlan_tags = 1), { W_FULL(L4 + 4, 1460) } },
	{ "QinQ 802.1ad+802.1Q IPv4 SYN: both tags stay",
	  V4(LINUX4, .vlan_tags = 2, .vlan_proto = { 0x88a8 }), { W_FULL(L4 + 8, 1460) } },
	{ "QinQ IPv4 SYN without TS, IPv4 options: tags stay, options go",
	  V4(OPTS(O_MSS(1460)), .vlan_tags = 2, .vlan_proto = { 0x88a8 }, .ip_opt_len = 8),
	  { W_MSS(L4 + 8, 1460) } },
	{ "802.1Q IPv6 Linux SYN: the tag stays",
	  V6(LINUX6, .vlan_tags = 1), { W_FULL(L6 + 4, 1440) } },
	{ "QinQ 0x9100+802.1Q IPv6 SYN behind hop-by-hop",
	  V6(LINUX6, .vlan_tags = 2, .vlan_proto = { 0x9100 }, .ext = { HOP }, .n_ext = 1),
	  { W_FULL(L6 + 8, 1440) } },
};

#define N_ROWS (int)(sizeof(rows) / sizeof(rows[0]))

/* One handshake's client end and what the SYN-ACK said. */
struct hs {
	int family;
	const char *cli, *srv;
	__u16 cport;
	__u32 isn, cookie, tsval;
	bool ts;
	__u8 vlan_tags;
	__u16 vlan_proto[PKT_MAX_VLAN];
	bool valid;		/* a SYN-ACK came back */
};

/* The client's ACK of @h's SYN-ACK, with its TS echo when there was one. */
static int ack_frame(const struct hs *h, __u32 seq, __u32 ack, __u8 *frame)
{
	__u32 echo = CLI_TSVAL + 1;
	__u8 opts[12] = { 1, 1, 8, 10 };
	struct pkt_spec s = {
		.family = h->family, .src = h->cli, .dst = h->srv,
		.sport = h->cport, .dport = SRV_PORT, .seq = seq, .ack_seq = ack,
		.tcp_flags = PKT_ACK, .vlan_tags = h->vlan_tags,
	};

	memcpy(s.vlan_proto, h->vlan_proto, sizeof(s.vlan_proto));
	if (h->ts) {
		opts[4] = echo >> 24, opts[5] = echo >> 16;
		opts[6] = echo >> 8, opts[7] = echo;
		opts[8] = h->tsval >> 24, opts[9] = h->tsval >> 16;
		opts[10] = h->tsval >> 8, opts[11] = h->tsval;
		s.tcp_opts = opts;
		s.tcp_opt_len = sizeof(opts);
	}
	return build(&s, frame);
}

static __u64 family_stat(int family)
{
	return family == 4 ? S(IPV4) : S(IPV6);
}

/* ---- SYN in, SYN-ACK out ------------------------------------------------------- */

/* The IPv4 header and TCP checksums of @f as a receiver checks them. */
static void checksums(struct ctx *c, const char *what, const __u8 *f, int len, int l3,
		      int family)
{
	int tcp_at = l3 + (family == 4 ? 20 : 40), tcp_len = len - tcp_at;
	__u32 sum;

	if (family == 4)
		eq(c, pkt_csum_fold(pkt_csum_add(0, f + l3, 20)), 0,
		   "%s: IPv4 header checksum verifies", what);
	if (family == 4)
		sum = pkt_csum_pseudo(4, f + l3 + 12, f + l3 + 16, IPPROTO_TCP, tcp_len);
	else
		sum = pkt_csum_pseudo(6, f + l3 + 8, f + l3 + 24, IPPROTO_TCP, tcp_len);
	eq(c, pkt_csum_fold(pkt_csum_add(sum, f + tcp_at, tcp_len)), 0,
	   "%s: TCP checksum (pseudo-header) verifies", what);
}

/*
 * Sends the row's SYN (source port @cport) in cookie mode and checks the
 * SYN-ACK.  Fills @h for the ACK that follows.
 */
static void synack_row(struct ctx *c, const struct row *r, __u16 cport, struct hs *h)
{
	const char *d = r->desc;
	struct pkt_spec s = r->syn;
	__u8 in[PKT_MAX_FRAME], want[256];
	int len, wlen, l3, ret, tcp_at;
	static struct out o;
	__u32 cookie, tsval, now;
	struct cfg k = r->cfg;
	bool in_time = false;

	k.cookie_mode = SG_COOKIE_ALWAYS;
	setup(c, &k);
	memset(h, 0, sizeof(*h));
	s.sport = cport;
	s.seq = r->isn ? r->isn : 0x10000000U * (cport % 16) + cport;
	len = build(&s, in);
	ret = xdp(c, in, len, &o);
	if (!verdict(c, ret, XDP_TX, d)) {
		if (len > 0)
			diag_hex("SYN", in, len);
		return;
	}
	counters(c, d, family_stat(s.family) | S(TCP) | S(TCP_SYN) | S(COOKIE_SENT) |
		 (s.vlan_tags ? S(VLAN) : 0), NO_REASON);
	eq(c, o.meta, 0, "%s: no metadata on a SYN-ACK", d);
	if (!eq(c, o.len, r->want.len, "%s: SYN-ACK is %d bytes", d, r->want.len)) {
		diag_hex("SYN-ACK", o.data, o.len);
		return;
	}

	/* The two values nobody can predict, from where they must be. */
	l3 = 14 + 4 * s.vlan_tags;
	tcp_at = l3 + (s.family == 4 ? 20 : 40);
	cookie = rd32(o.data + tcp_at + 4);
	tsval = r->want.ts ? rd32(o.data + tcp_at + 28) : 0;
	if (r->want.ts) {
		eq(c, tsval & 63, r->want.tsbits, "%s: tsval low 6 bits are the options", d);
		for (now = o.t0; now <= o.t1; now++)
			in_time |= tsval_at(now, r->want.tsbits) == tsval;
		if (!ok(c, in_time, "%s: tsval is CLOCK_MONOTONIC ms, not in the future", d))
			printf("#   tsval %u, clock %u..%u ms\n", tsval, o.t0, o.t1);
	}
	wlen = expected_synack(r, in, cport, s.seq, cookie, tsval, want);
	if (!ok(c, wlen == (int)o.len && !memcmp(want, o.data, wlen),
		"%s: SYN-ACK byte for byte", d)) {
		diag_hex("want", want, wlen);
		diag_hex("got", o.data, o.len);
	}
	checksums(c, d, o.data, o.len, l3, s.family);

	*h = (struct hs){ .family = s.family, .cli = s.src, .srv = s.dst, .cport = cport,
			  .isn = s.seq, .cookie = cookie, .tsval = tsval, .ts = r->want.ts,
			  .vlan_tags = s.vlan_tags, .valid = true };
	memcpy(h->vlan_proto, s.vlan_proto, sizeof(h->vlan_proto));
}

/* ---- the ACK ------------------------------------------------------------------- */

static void flow_key_of(const struct hs *h, struct sg_flow_key *k)
{
	int af = h->family == 4 ? AF_INET : AF_INET6;

	memset(k, 0, sizeof(*k));
	inet_pton(af, h->srv, k->local);
	inet_pton(af, h->cli, k->remote);
	k->lport = htons(SRV_PORT);
	k->rport = htons(h->cport);
	k->family = h->family;
}

/* Is @h's flow in sg_flows (1), sg_half (2), both (3) or neither (0)? */
static int flow_where(struct ctx *c, const struct hs *h, struct sg_conn *f)
{
	struct sg_flow_key k;
	struct sg_conn conn;
	struct sg_flow half;

	flow_key_of(h, &k);
	return (!bpf_map_lookup_elem(fd(c->skel->maps.sg_flows), &k, f ? f : &conn)) |
	       (!bpf_map_lookup_elem(fd(c->skel->maps.sg_half), &k, &half)) << 1;
}

/* The valid ACK of @h: passes marked, and the flow is established. */
static void valid_ack(struct ctx *c, const struct hs *h, const char *d)
{
	__u8 in[PKT_MAX_FRAME];
	static struct out o;
	struct sg_conn f = {};
	__u32 meta = 0;
	int len, ret;

	len = ack_frame(h, h->isn + 1, h->cookie + 1, in);
	ret = xdp(c, in, len, &o);
	if (!verdict(c, ret, XDP_PASS, d))
		return;
	counters(c, d, family_stat(h->family) | S(TCP) | S(TCP_ACK) | S(COOKIE_VALID) |
		 S(FLOW_COMPLETED) | S(PASS) | (h->vlan_tags ? S(VLAN) : 0), NO_REASON);
	if (eq(c, o.meta, 4, "%s: 4 bytes of XDP metadata", d))
		memcpy(&meta, o.data, 4);
	eq(c, meta, SG_COOKIE_META, "%s: the metadata is SG_COOKIE_META", d);
	if (!ok(c, o.len == o.meta + len && !memcmp(o.data + o.meta, in, len),
		"%s: the ACK itself goes up unchanged", d)) {
		diag_hex("want", in, len);
		diag_hex("got", o.data, o.len);
	}
	eq(c, flow_where(c, h, &f), 1, "%s: the flow is in sg_flows only", d);
	eq(c, f.state, SG_TCP_ESTABLISHED, "%s: flow established", d);
	eq(c, f.flags, SG_FF_SYNACK_OUT, "%s: flow flags: our SYN-ACK went out", d);
	eq(c, f.opener, SG_DIR_IN, "%s: flow opened by the remote end", d);
}

static void synack_rows(struct ctx *c)
{
	char d[256];
	struct hs h;
	int i;

	for (i = 0; i < N_ROWS; i++) {
		synack_row(c, &rows[i], 41000 + i, &h);
		if (!h.valid)
			continue;
		snprintf(d, sizeof(d), "ACK of: %s", rows[i].desc);
		valid_ack(c, &h, d);
	}
}

/* A SYN-ACK for a fresh handshake in the current policy; false if none. */
static bool handshake(struct ctx *c, int family, __u16 cport, struct hs *h)
{
	/* Both here: their option bytes live as long as this block. */
	struct pkt_spec s4 = V4(LINUX4), s6 = V6(LINUX6), s = family == 4 ? s4 : s6;
	__u8 in[PKT_MAX_FRAME];
	static struct out o;
	int len, tcp_at;

	s.sport = cport;
	s.seq = 0x70000000U + cport;
	len = build(&s, in);
	if (xdp(c, in, len, &o) != XDP_TX) {
		memset(h, 0, sizeof(*h));
		return false;
	}
	tcp_at = 14 + (family == 4 ? 20 : 40);
	*h = (struct hs){ .family = family, .cli = s.src, .srv = s.dst, .cport = cport,
			  .isn = s.seq, .cookie = rd32(o.data + tcp_at + 4),
			  .tsval = rd32(o.data + tcp_at + 28), .ts = true, .valid = true };
	return true;
}

/* An ACK built from @h with what a forger changed; its verdict. */
static int send_ack(struct ctx *c, const struct hs *h, __u32 seq, __u32 ack)
{
	__u8 in[PKT_MAX_FRAME];
	static struct out o;

	return xdp(c, in, ack_frame(h, seq, ack, in), &o);
}

static void dropped(struct ctx *c, const struct hs *h, int ret, const char *d)
{
	verdict(c, ret, XDP_DROP, d);
	counters(c, d, family_stat(h->family) | S(TCP) | S(TCP_ACK) | S(DROP),
		 SG_R_COOKIE_INVALID);
	eq(c, flow_where(c, h, NULL), 0, "%s: no flow", d);
}

/*
 * The kernel's check subtracts the ACK's seq - 1 from the cookie and reads
 * the MSS index from the low bits of what is left; so a seq off by a small
 * n, or an ack off by a small n, moves the index by n and may still decode
 * to a table entry (net/ipv4/syncookies.c: check_tcp_syn_cookie).  The
 * forgeries below are chosen so that no MSS index can match: SYNs with MSS
 * 1460 (IPv4) and 8960 (IPv6) get the last index of the MSS table, so
 * ack = cookie + 3 decodes past it, also as a zero-window probe (whose
 * seq is taken one higher, see probe_ack).
 */
static void forged(struct ctx *c, int family)
{
	const char *fam = family == 4 ? "IPv4" : "IPv6";
	struct hs h, other;
	char d[160];

#define D(s) (snprintf(d, sizeof(d), "forged %s: %s", fam, s), d)
	setup(c, ALWAYS);
	if (family == 4)
		printf("# forged: the kernel's check reads the MSS index as ack - 1 - hash - (seq - 1),"
		       " so ack or seq off by a small n can decode to another valid index;"
		       " the forgeries use a last-index cookie (MSS 1460 / 8960) and larger offsets\n");
	if (family == 4) {
		if (!ok(c, handshake(c, 4, 42000, &h), "%s", D("a SYN-ACK to forge against")))
			return;
	} else {
		struct pkt_spec s = V6(OPTS(O_MSS(8960), O_SACK, O_TS, O_NOP, O_WS(7)),
				       .sport = 42000, .seq = 0x71000000U);
		__u8 in[PKT_MAX_FRAME];
		static struct out o;

		if (!verdict(c, xdp(c, in, build(&s, in), &o), XDP_TX,
			     D("a SYN-ACK to forge against (MSS 8960)")))
			return;
		h = (struct hs){ .family = 6, .cli = CLI6, .srv = SRV6, .cport = 42000,
				 .isn = s.seq, .cookie = rd32(o.data + L6 + 4),
				 .tsval = rd32(o.data + L6 + 28), .ts = true, .valid = true };
	}
	dropped(c, &h, send_ack(c, &h, h.isn + 1, h.cookie + 3), D("ack = cookie + 3"));
	dropped(c, &h, send_ack(c, &h, h.isn + 1001, h.cookie + 1), D("wrong seq (ISN + 1001)"));
	dropped(c, &h, send_ack(c, &h, h.isn + 1, 0x5eed1234U), D("arbitrary ack 0x5eed1234"));
	dropped(c, &h, send_ack(c, &h, h.isn + 1, h.cookie ^ 0x80000001U),
		D("ack with bits flipped (cookie ^ 0x80000001, + 1)"));
	other = h;
	other.cport = h.cport + 1;
	dropped(c, &other, send_ack(c, &other, h.isn + 1, h.cookie + 1),
		D("the right cookie from another source port"));
	other = h;
	other.cli = family == 4 ? "198.18.0.4" : "2001:2::4";
	dropped(c, &other, send_ack(c, &other, h.isn + 1, h.cookie + 1),
		D("the right cookie from another source address"));
	other = h;
	other.srv = family == 4 ? "198.18.0.2" : "2001:2::2";
	dropped(c, &other, send_ack(c, &other, h.isn + 1, h.cookie + 1),
		D("the right cookie to another local address"));
	/*
	 * Stale: the top 8 bits of a cookie count minutes (tcp_cookie_time()),
	 * and the check refuses a count 2 or more behind the current one
	 * (MAX_SYNCOOKIE_AGE) before it looks at anything else.  A cookie
	 * really 2 minutes old needs 2 minutes of waiting; this one has the
	 * same count with everything else intact, which is what the age check
	 * reads.  One minute "ahead" is 255 behind: refused too.
	 */
	if (family == 4)
		printf("# stale: a cookie really 2 minutes old needs 2 minutes of waiting;"
		       " these ACKs carry the cookie with its minute count (top 8 bits)"
		       " moved, which is all the kernel's age check reads\n");
	dropped(c, &h, send_ack(c, &h, h.isn + 1, h.cookie - (2U << 24) + 1),
		D("stale: the cookie's minute count 2 behind"));
	dropped(c, &h, send_ack(c, &h, h.isn + 1, h.cookie + (1U << 24) + 1),
		D("the cookie's minute count 1 ahead"));
	dropped(c, &h, send_ack(c, &h, h.isn + 1, h.cookie - (3U << 24) + 1),
		D("stale: the cookie's minute count 3 behind"));
	/* Stateless: none of that spent the cookie. */
	valid_ack(c, &h, D("then the right ACK still passes"));
#undef D
}

/*
 * The cookie ACK lost: the client, told window 0, sends zero-window probes,
 * the same ACK with seq one lower.  XDP takes the first for the lost ACK:
 * seq rewritten to ISN + 1, the TCP checksum still right, marked for
 * synproxy, the handshake completed once.  Only where the probe cannot
 * pass for an ACK itself: a cookie of the MSS table's last entry (IPv4
 * MSS 1460); below it, seq - 1 reads as the next MSS entry and the kernel's
 * check (ours and synproxy's) takes the probe as is (docs/design.md, Known
 * gaps).
 */
static void probe_ack(struct ctx *c, int family)
{
	const char *fam = family == 4 ? "IPv4" : "IPv6";
	__u8 in[PKT_MAX_FRAME];
	static struct out o;
	struct sg_conn f = {};
	char d[96];
	struct hs h;
	int len, l3 = 14, tcp_at = 14 + (family == 4 ? 20 : 40);

	snprintf(d, sizeof(d), "zero-window probe after a lost cookie ACK, %s", fam);
	if (family == 4)
		printf("# zero-window probes: recovered for cookies of the last MSS entry"
		       " (IPv4 1460); below it the kernel's check reads seq - 1 as the next"
		       " entry (a known limit of stateless cookies with window 0)\n");
	setup(c, ALWAYS);
	if (!ok(c, handshake(c, family, 42300, &h), "%s: a SYN-ACK", d))
		return;
	len = ack_frame(&h, h.isn, h.cookie + 1, in);
	if (!verdict(c, xdp(c, in, len, &o), XDP_PASS, d))
		return;
	counters(c, d, family_stat(family) | S(TCP) | S(TCP_ACK) | S(COOKIE_VALID) |
		 S(COOKIE_PROBE) | S(FLOW_COMPLETED) | S(PASS), NO_REASON);
	eq(c, o.meta, 4, "%s: marked for synproxy", d);
	eq(c, rd32(o.data + o.meta + tcp_at + 4), h.isn + 1, "%s: seq rewritten to ISN + 1", d);
	eq(c, o.len - o.meta, len, "%s: same length", d);
	checksums(c, d, o.data + o.meta, len, l3, family);
	eq(c, flow_where(c, &h, &f), 1, "%s: the flow is in sg_flows", d);
	eq(c, f.state, SG_TCP_ESTABLISHED, "%s: established", d);
	/* Two below is no probe: the difference a cookie fixes is off. */
	if (!ok(c, handshake(c, family, 42301, &h), "%s: another SYN-ACK", d))
		return;
	len = ack_frame(&h, h.isn - 1, h.cookie + 1, in);
	verdict(c, xdp(c, in, len, &o), XDP_DROP, "probe with seq ISN - 1: dropped");
}

/* The same valid cookie ACK twice: one handshake. */
static void repeated_ack(struct ctx *c)
{
	const char *d = "repeated cookie ACK";
	struct sg_conn f = {};
	struct hs h;
	int ret;

	setup(c, ALWAYS);
	if (!ok(c, handshake(c, 4, 42100, &h), "%s: a SYN-ACK", d))
		return;
	valid_ack(c, &h, "repeated cookie ACK: the first");
	ret = send_ack(c, &h, h.isn + 1, h.cookie + 1);
	verdict(c, ret, XDP_PASS, "repeated cookie ACK: the second");
	/* It goes to synproxy again, but it completes no second handshake. */
	counters(c, "repeated cookie ACK: the second",
		 S(IPV4) | S(TCP) | S(TCP_ACK) | S(COOKIE_VALID) | S(PASS), NO_REASON);
	eq(c, flow_where(c, &h, &f), 1, "%s: still one flow", d);
	eq(c, f.state, SG_TCP_ESTABLISHED, "%s: still established", d);
}

/* The attack mode half-open estimate's slots: created or resolved, summed. */
static long long ho_sum(struct ctx *c, bool created)
{
	struct sg_ho_slot slot;
	long long sum = 0;
	__u32 i;

	for (i = 0; i < SG_HO_SLOTS; i++)
		if (!bpf_map_lookup_elem(fd(c->skel->maps.sg_ho), &i, &slot))
			sum += created ? slot.created : slot.resolved;
	return sum;
}

/*
 * The SYN went to the stack (cookie mode was off), the stack answered with
 * its own SYN-ACK and its own cookie (the same secret: the kernel's), then
 * cookie mode came on: the ACK completes the half-open flow, it must not
 * leave it behind in sg_half.  The stack's cookie is stood in for by one
 * of ours: they are the same function.
 */
static void stack_cookie(struct ctx *c)
{
	const char *d = "ACK of the stack's own cookie SYN-ACK";
	struct pkt_spec syn = V4(LINUX4, .sport = 42200, .seq = 0x72000000U);
	__u8 in[PKT_MAX_FRAME];
	static struct out o;
	struct sg_conn f = {};
	long long ho;
	struct hs h;
	int len;

	setup(c, ALWAYS);
	if (!ok(c, handshake(c, 4, 42200, &h), "%s: a cookie", d))
		return;
	setup(c, CFG(.cookie_mode = SG_COOKIE_NEVER));
	ho = ho_sum(c, true) - ho_sum(c, false);
	len = build(&syn, in);
	verdict(c, xdp(c, in, len, &o), XDP_PASS, "cookie_mode never: the SYN goes to the stack");
	{
		/* The stack's SYN-ACK, as the tc egress program sees it leave. */
		struct pkt_spec sa = {
			.family = 4, .src = SRV4, .dst = CLI4, .sport = SRV_PORT,
			.dport = 42200, .seq = h.cookie, .ack_seq = syn.seq + 1,
			.tcp_flags = PKT_SYN | PKT_ACK,
		};
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in);

		t.data_size_in = build(&sa, in);
		bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.synguard_egress), &t);
	}
	eq(c, flow_where(c, &h, &f), 2, "%s: half-open before the ACK", d);
	eq(c, ho_sum(c, true) - ho_sum(c, false) - ho, 1, "%s: one more half-open in the estimate", d);
	write_cfg(c, ALWAYS);
	valid_ack(c, &h, d);
	eq(c, ho_sum(c, true) - ho_sum(c, false) - ho, 0, "%s: the estimate has it resolved", d);
}

/* ---- checksums ------------------------------------------------------------ */

/*
 * Where @s's SYN has its IP header and TCP header in a frame pkt_build()
 * wrote, and the TCP checksum recomputed after the test wrote into it
 * (pkt_build sums its zero payload; a payload of zeros sums as nothing).
 */
static void tcp_at_of(const struct pkt_spec *s, int len, int *l3, int *tcp_at)
{
	*l3 = 14 + 4 * s->vlan_tags;
	/* Extension headers or IPv4 options before it; no padding after. */
	*tcp_at = len - (int)s->payload_len - 20 - s->tcp_opt_len;
}

static __u32 pseudo_of(const struct pkt_spec *s, const __u8 *f, int l3, int tcp_len)
{
	if (s->family == 4)
		return pkt_csum_pseudo(4, f + l3 + 12, f + l3 + 16, IPPROTO_TCP, tcp_len);
	return pkt_csum_pseudo(6, f + l3 + 8, f + l3 + 24, IPPROTO_TCP, tcp_len);
}

static void tcp_csum_fix(const struct pkt_spec *s, __u8 *f, int len)
{
	int l3, tcp_at;
	__u16 sum;

	tcp_at_of(s, len, &l3, &tcp_at);
	f[tcp_at + 16] = f[tcp_at + 17] = 0;
	sum = pkt_csum_fold(pkt_csum_add(pseudo_of(s, f, l3, len - tcp_at), f + tcp_at,
					 len - tcp_at));
	f[tcp_at + 16] = sum >> 8;
	f[tcp_at + 17] = sum;
}

/*
 * BAD_IP_TTL, BAD_TCP_END and BAD_SRC change a byte the sums cover but the
 * checksum field is not: a sum that skips a word (the TTL's, the last
 * option word, the pseudo-header's source) would miss them.
 */
enum damage { GOOD, BAD_IP, BAD_TCP, BAD_PAYLOAD_END, PARTIAL, BAD_IP_TTL, BAD_TCP_END,
	      BAD_SRC };

/*
 * @s's SYN in cookie mode, its payload (if any) made of non-zero bytes and
 * the sums fixed, then damaged as @how says: answered with a cookie
 * (GOOD, PARTIAL) or dropped as bad_csum and never answered.
 */
static void csum_case(struct ctx *c, struct pkt_spec s, enum damage how, const char *d)
{
	__u8 in[PKT_MAX_FRAME];
	static struct out o;
	int len, l3, tcp_at, i;
	__u64 fam = family_stat(s.family) | S(TCP) | S(TCP_SYN) | (s.vlan_tags ? S(VLAN) : 0);

	setup(c, ALWAYS);
	len = build(&s, in);
	if (!ok(c, len > 0, "%s: frame built", d))
		return;
	tcp_at_of(&s, len, &l3, &tcp_at);
	for (i = len - (int)s.payload_len; i < len; i++)
		in[i] = 0x80 | (i * 7);
	tcp_csum_fix(&s, in, len);
	switch (how) {
	case GOOD:
		break;
	case BAD_IP:
		in[l3 + 10] ^= 0x01;
		break;
	case BAD_TCP:
		in[tcp_at + 17] ^= 0x01;
		break;
	case BAD_PAYLOAD_END:
		in[len - 1] ^= 0x01;
		break;
	case BAD_IP_TTL:
		in[l3 + 8] ^= 0x01;
		break;
	case BAD_TCP_END:
		in[tcp_at + 20 + s.tcp_opt_len - 1] ^= 0x01;
		break;
	case BAD_SRC:		/* IPv6: only the TCP sum covers it */
		in[l3 + 8 + 15] ^= 0x01;
		break;
	case PARTIAL: {
		/* What a local stack sends with CHECKSUM_PARTIAL: the
		 * pseudo-header's sum, not inverted (__tcp_v4_send_check()). */
		__u16 p = ~pkt_csum_fold(pseudo_of(&s, in, l3, len - tcp_at));

		in[tcp_at + 16] = p >> 8;
		in[tcp_at + 17] = p;
		break;
	}
	}
	if (how == GOOD || how == PARTIAL) {
		if (verdict(c, xdp(c, in, len, &o), XDP_TX, d))
			counters(c, d, fam | S(COOKIE_SENT), NO_REASON);
		return;
	}
	if (verdict(c, xdp(c, in, len, &o), XDP_DROP, d))
		counters(c, d, fam | S(DROP), SG_R_BAD_CSUM);
}

static void bad_checksums(struct ctx *c)
{
	struct pkt_spec v4 = V4(LINUX4, .sport = 47000, .seq = 1000);
	struct pkt_spec v6 = V6(LINUX6, .sport = 47100, .seq = 1000);
	struct pkt_spec v4o = V4(LINUX4, .sport = 47001, .seq = 1000, .ip_opt_len = 12);
	struct pkt_spec q6 = V6(LINUX6, .sport = 47101, .seq = 1000, .vlan_tags = 2,
				.vlan_proto = { 0x88a8 }, .ext = { HOP }, .n_ext = 1);
	struct pkt_spec d4 = V4(LINUX4, .sport = 47002, .seq = 1000, .payload_len = 1001);
	struct pkt_spec d6 = V6(OPTS(O_MSS(1440)), .sport = 47102, .seq = 1000,
				.payload_len = 101);
	struct pkt_spec n4 = V4(LINUX4_NOTS, .sport = 47005, .seq = 1000);
	struct pkt_spec n6 = V6(LINUX6_NOTS, .sport = 47105, .seq = 1000);
	struct pkt_spec t4 = V4(LINUX4, .sport = 47006, .seq = 1000, .vlan_tags = 1);

	csum_case(c, v4, GOOD, "IPv4 SYN, good checksums: answered");
	csum_case(c, v4, BAD_IP, "IPv4 SYN, bad IPv4 header checksum: bad_csum");
	csum_case(c, v4, BAD_TCP, "IPv4 SYN, bad TCP checksum: bad_csum");
	csum_case(c, v4, PARTIAL, "IPv4 SYN, partial TCP checksum (veth, CHECKSUM_PARTIAL): answered");
	csum_case(c, v4o, GOOD, "IPv4 SYN with IPv4 options, good checksums: answered");
	csum_case(c, v4o, BAD_IP, "IPv4 SYN with IPv4 options, bad header checksum: bad_csum");
	csum_case(c, d4, GOOD, "IPv4 SYN with 1001 bytes of data, good checksums: answered");
	csum_case(c, d4, BAD_PAYLOAD_END, "IPv4 SYN with 1001 bytes of data, its last byte "
		  "changed: bad_csum");
	csum_case(c, v6, GOOD, "IPv6 SYN, good checksum: answered");
	csum_case(c, v6, BAD_TCP, "IPv6 SYN, bad TCP checksum: bad_csum");
	csum_case(c, v6, PARTIAL, "IPv6 SYN, partial TCP checksum (veth, CHECKSUM_PARTIAL): answered");
	csum_case(c, q6, GOOD, "QinQ IPv6 SYN behind hop-by-hop, good checksum: answered");
	csum_case(c, q6, BAD_TCP, "QinQ IPv6 SYN behind hop-by-hop, bad TCP checksum: bad_csum");
	csum_case(c, d6, GOOD, "IPv6 SYN with 101 bytes of data, good checksum: answered");
	csum_case(c, d6, BAD_PAYLOAD_END, "IPv6 SYN with 101 bytes of data, its last byte "
		  "changed: bad_csum");
	/* The layouts read straight from the packet (cookie_fast_in()). */
	csum_case(c, v4, BAD_IP_TTL, "IPv4 Linux SYN, its TTL changed: bad_csum");
	csum_case(c, v4, BAD_TCP_END, "IPv4 Linux SYN, its last option byte changed: bad_csum");
	csum_case(c, v6, BAD_TCP_END, "IPv6 Linux SYN, its last option byte changed: bad_csum");
	csum_case(c, v6, BAD_SRC, "IPv6 Linux SYN, its source changed: bad_csum");
	csum_case(c, n4, GOOD, "IPv4 12-byte SYN, good checksums: answered");
	csum_case(c, n4, BAD_TCP, "IPv4 12-byte SYN, bad TCP checksum: bad_csum");
	csum_case(c, n4, BAD_TCP_END, "IPv4 12-byte SYN, its last option byte changed: bad_csum");
	csum_case(c, n4, PARTIAL, "IPv4 12-byte SYN, partial TCP checksum: answered");
	csum_case(c, n4, BAD_IP, "IPv4 12-byte SYN, bad IPv4 header checksum: bad_csum");
	csum_case(c, n6, GOOD, "IPv6 12-byte SYN, good checksum: answered");
	csum_case(c, n6, BAD_TCP_END, "IPv6 12-byte SYN, its last option byte changed: bad_csum");
	csum_case(c, n6, PARTIAL, "IPv6 12-byte SYN, partial TCP checksum: answered");
	csum_case(c, t4, GOOD, "802.1Q IPv4 Linux SYN, good checksums: answered");
	csum_case(c, t4, BAD_TCP_END, "802.1Q IPv4 Linux SYN, its last option byte changed: "
		  "bad_csum");
	/* The walk's own sums, past the fast layouts. */
	csum_case(c, v4o, BAD_IP_TTL, "IPv4 SYN with IPv4 options, its TTL changed: bad_csum");
	csum_case(c, q6, BAD_TCP_END, "QinQ IPv6 SYN behind hop-by-hop, its last option byte "
		  "changed: bad_csum");
	csum_case(c, q6, BAD_SRC, "QinQ IPv6 SYN behind hop-by-hop, its source changed: bad_csum");

	/* Off the cookie path a bad checksum is the stack's to see. */
	{
		__u8 in[PKT_MAX_FRAME];
		static struct out o;
		struct pkt_spec s = v4;
		int len;

		setup(c, CFG(.cookie_mode = SG_COOKIE_NEVER));
		s.sport = 47003;
		len = build(&s, in);
		in[14 + 10] ^= 0x01;
		in[len - 1] ^= 0x01;
		if (verdict(c, xdp(c, in, len, &o), XDP_PASS,
			    "cookies never: a SYN with bad checksums passes"))
			counters(c, "cookies never, bad checksums", S(IPV4) | S(TCP) | S(TCP_SYN) |
				 S(FLOW_SYN) | S(PASS), NO_REASON);
	}
}

/*
 * The kernel's own cookies (cookie_mode never): the egress program saw a
 * SYN-ACK with no socket, a cookie of the kernel's, and dropped the SYN's
 * entry (BPF_PROG_TEST_RUN gives every skb a socket, so that part is
 * 32-accuracy.sh's; here sg_kcookie_last_ns stands for it).  The ACK then
 * finds no flow: if it carries a valid cookie, the handshake completed
 * through it.  The kernel's cookie is stood in for by one of ours: they
 * are the same function and secret.
 */
static void kernel_cookie(struct ctx *c, int family)
{
	__u64 fam = family_stat(family), now;
	struct sg_conn f = {};
	struct hs h;
	char d[128];
	int ret;

	setup(c, ALWAYS);
	snprintf(d, sizeof(d), "IPv%d, the kernel's cookie", family);
	if (!ok(c, handshake(c, family, 42300 + family, &h), "%s: a cookie", d))
		return;
	setup(c, CFG(.cookie_mode = SG_COOKIE_NEVER));
	c->skel->bss->sg_cookie_last_ns = 0;
	now = clock_ns(CLOCK_MONOTONIC_COARSE);

	c->skel->bss->sg_kcookie_last_ns = 0;
	ret = send_ack(c, &h, h.isn + 1, h.cookie + 1);
	verdict(c, ret, XDP_PASS, "no kernel cookie seen: the ACK passes");
	counters(c, "no kernel cookie seen: not checked", fam | S(TCP) | S(TCP_ACK) | S(PASS),
		 NO_REASON);
	eq(c, flow_where(c, &h, NULL), 0, "%s: none seen: no flow", d);

	c->skel->bss->sg_kcookie_last_ns = now - 190ULL * 1000000000ULL;
	ret = send_ack(c, &h, h.isn + 1, h.cookie + 1);
	eq(c, flow_where(c, &h, NULL), 0, "%s: the last seen 190 s ago: no flow", d);

	c->skel->bss->sg_kcookie_last_ns = now - 170ULL * 1000000000ULL;
	/* The counter bits of the cookie off by 128 minutes: no MSS index helps. */
	ret = send_ack(c, &h, h.isn + 1, (h.cookie ^ 0x80000000U) + 1);
	verdict(c, ret, XDP_PASS, "a bad kernel cookie passes: the stack's to refuse");
	counters(c, "a bad kernel cookie", fam | S(TCP) | S(TCP_ACK) | S(PASS), NO_REASON);
	eq(c, flow_where(c, &h, NULL), 0, "%s: a bad one: no flow", d);

	ret = send_ack(c, &h, h.isn + 1, h.cookie + 1);
	verdict(c, ret, XDP_PASS, "a valid kernel cookie, the last seen 170 s ago: passes");
	counters(c, "a valid kernel cookie: completed",
		 fam | S(TCP) | S(TCP_ACK) | S(PASS) | S(FLOW_COMPLETED), NO_REASON);
	eq(c, flow_where(c, &h, &f), 1, "%s: the flow is in sg_flows only", d);
	eq(c, f.state, SG_TCP_ESTABLISHED, "%s: flow established", d);
	eq(c, f.opener, SG_DIR_IN, "%s: flow opened by the remote end", d);
	eq(c, f.flags, SG_FF_SYNACK_OUT, "%s: flow flags: the host's SYN-ACK went out", d);

	ret = send_ack(c, &h, h.isn + 1, h.cookie + 1);
	/* An established flow's ACK now: the express lane's (sg_ack). */
	counters(c, "the same ACK again: not completed twice",
		 fam | S(TCP) | S(TCP_ACK) | S(PASS) | S(EXPRESS), NO_REASON);
	c->skel->bss->sg_kcookie_last_ns = 0;
}

/*
 * The MSS index in the cookie.  secure_tcp_syn_cookie() adds the index of
 * the client's MSS in msstab to the cookie's low 24 bits, the rest being
 * the same for the same addresses, ports, ISN and minute: so SYNs that
 * differ only in their MSS get cookies apart by exactly their indexes'
 * difference, whichever way the program read them (Linux's 20 and 12
 * bytes straight from the packet, the MSS alone through the walk).  No
 * MSS option reads as 536 (TCP_MSS_DEFAULT).  A minute turning between
 * two SYNs changes every cookie, so the set is tried up to three times.
 */
static void mss_index(struct ctx *c, int family)
{
	/* net/ipv4/syncookies.c: 536 1300 1440 1460; syncookies.c (v6): 1220 1420 1440 8940 */
	static const int mss4[] = { 536, 1299, 1300, 1439, 1440, 1459, 1460, 9000, -1 };
	static const int idx4[] = { 0, 0, 1, 1, 2, 2, 3, 3, 0 };
	static const int mss6[] = { 536, 1220, 1419, 1420, 1440, 8939, 8940, 9000, -1 };
	static const int idx6[] = { 0, 0, 0, 1, 2, 2, 3, 3, 0 };
	const int *mss = family == 4 ? mss4 : mss6, *idx = family == 4 ? idx4 : idx6;
	const char *how[] = { "Linux's 20 bytes", "Linux's 12 bytes", "the MSS alone" };
	int n = sizeof(mss4) / sizeof(mss4[0]), try, i, k, bad = 0, got = 0;
	__u32 cookie[sizeof(mss4) / sizeof(mss4[0])][3];
	char d[160];

	setup(c, ALWAYS);
	for (try = 0; try < 3; try++) {
		bad = got = 0;
		for (i = 0; i < n; i++) {
			for (k = 0; k < 3; k++) {
				__u16 m = mss[i] < 0 ? 0 : mss[i];
				struct pkt_spec s = family == 4 ? (struct pkt_spec)V4() :
								  (struct pkt_spec)V6();
				__u8 o20[] = { O_MSS(m), O_SACK, O_TS, O_NOP, O_WS(7) };
				__u8 o12[] = { O_MSS(m), O_NOP, O_NOP, O_SACK, O_NOP, O_WS(7) };
				__u8 o4[] = { O_MSS(m) }, in[PKT_MAX_FRAME];
				static struct out o;

				s.sport = 43000 + family;
				s.seq = 0x5a5a0000;
				/* No MSS option: four NOPs in its place, or no option. */
				if (mss[i] < 0) {
					memset(o20, O_NOP, 4);
					memset(o12, O_NOP, 4);
				}
				s.tcp_opts = k == 0 ? o20 : k == 1 ? o12 : o4;
				s.tcp_opt_len = k == 0 ? sizeof(o20) : k == 1 ? sizeof(o12) :
						mss[i] < 0 ? 0 : sizeof(o4);
				if (xdp(c, in, build(&s, in), &o) != XDP_TX) {
					bad++;
					continue;
				}
				cookie[i][k] = rd32(o.data + 14 + (family == 4 ? 20 : 40) + 4);
				got++;
			}
		}
		if (got < n * 3)
			break;		/* not a minute's doing */
		for (i = 0; i < n; i++)
			for (k = 0; k < 3; k++)
				bad += ((cookie[i][k] - cookie[0][0]) & 0xffffff) != (__u32)idx[i];
		if (!bad)
			break;
	}
	for (k = 0; k < 3; k++) {
		int wrong = 0;

		for (i = 0; i < n && got == n * 3; i++)
			if (((cookie[i][k] - cookie[0][0]) & 0xffffff) != (__u32)idx[i]) {
				printf("#   MSS %d read from %s: index %u, want %d\n", mss[i], how[k],
				       (cookie[i][k] - cookie[0][0]) & 0xffffff, idx[i]);
				wrong++;
			}
		snprintf(d, sizeof(d), "IPv%d, %d MSS values read from %s: the cookie's MSS index "
			 "is msstab's", family, n, how[k]);
		ok(c, got == n * 3 && !wrong, "%s", d);
	}
}

/* ---- modes and scope ------------------------------------------------------ */

/* A SYN that must go to the stack untouched. */
static void syn_passes(struct ctx *c, const struct pkt_spec *s, __u64 mask, const char *d)
{
	__u8 in[PKT_MAX_FRAME];
	static struct out o;
	int len = build(s, in), ret;

	ret = xdp(c, in, len, &o);
	if (!verdict(c, ret, XDP_PASS, d))
		return;
	counters(c, d, mask, NO_REASON);
	ok(c, o.len == (__u32)len && !o.meta && !memcmp(o.data, in, len),
	   "%s: the SYN is unchanged", d);
}

#define SYN4_PASS (S(IPV4) | S(TCP) | S(TCP_SYN) | S(FLOW_SYN) | S(PASS))

static void modes(struct ctx *c)
{
	struct pkt_spec syn = V4(LINUX4, .sport = 43000, .seq = 1000);
	struct hs h;
	__u32 zero = 0;

	setup(c, CFG(.cookie_mode = SG_COOKIE_NEVER));
	syn_passes(c, &syn, SYN4_PASS, "cookie_mode never: SYN passes");

	setup(c, CFG(.cookie_mode = SG_COOKIE_ATTACK));
	syn.sport++;
	syn_passes(c, &syn, SYN4_PASS, "cookie_mode attack, no attack thresholds: SYN passes");

	setup(c, CFG(.cookie_mode = SG_COOKIE_ATTACK, .attack_syn_rate = 1000000));
	syn.sport++;
	syn_passes(c, &syn, SYN4_PASS, "cookie_mode attack, attack mode off: SYN passes");

	/* Attack mode on, as attack_syn() leaves it: active, in a fresh window. */
	{
		struct sg_attack a = { .window_ns = clock_ns(CLOCK_MONOTONIC), .active = 1 };
		struct sg_attack back = {};

		bpf_map_update_elem(fd(c->skel->maps.sg_attack), &zero, &a, BPF_ANY);
		if (ok(c, handshake(c, 4, 43010, &h),
		       "cookie_mode attack, attack mode on: an unproven SYN gets a cookie"))
			counters(c, "cookie_mode attack, attack mode on",
				 S(IPV4) | S(TCP) | S(TCP_SYN) | S(COOKIE_SENT), NO_REASON);
		if (h.valid)
			valid_ack(c, &h, "attack mode: the cookie ACK");
		syn.sport = 43011;
		syn_passes(c, &syn, SYN4_PASS | S(ATTACK_PROVEN),
			   "attack mode: the next SYN of a source proven by its cookie ACK");
		bpf_map_lookup_elem(fd(c->skel->maps.sg_attack), &zero, &back);
		eq(c, back.active, 1, "attack mode: still on through the test");
	}

	setup(c, CFG(.cookie_mode = SG_COOKIE_ALWAYS, .flags = SG_CFG_DRY_RUN));
	syn.sport = 43020;
	syn_passes(c, &syn, SYN4_PASS, "dry-run, cookie_mode always: SYN passes, no cookie");
	{
		struct pkt_spec s6 = V6(LINUX6, .sport = 43021, .seq = 1000);

		syn_passes(c, &s6, S(IPV6) | S(TCP) | S(TCP_SYN) | S(FLOW_SYN) | S(PASS),
			   "dry-run, cookie_mode always: IPv6 SYN passes, no cookie");
	}

	setup(c, CFG(.cookie_mode = SG_COOKIE_ALWAYS, .flags = SG_CFG_PORTS, .port = 443));
	syn.sport = 43030;
	syn_passes(c, &syn, SYN4_PASS, "ports: a SYN to a port out of scope passes");
	syn.dport = 443;
	syn.sport = 43031;
	{
		__u8 in[PKT_MAX_FRAME];
		static struct out o;

		verdict(c, xdp(c, in, build(&syn, in), &o), XDP_TX,
			"ports: a SYN to the port in scope gets a cookie");
	}
	syn.dport = SRV_PORT;

	setup(c, ALWAYS);
	{
		struct sg_lpm4 k = { .prefixlen = 32, .addr = { 198, 18, 0, 3 } };
		__u64 hits = 0;

		bpf_map_update_elem(fd(c->skel->maps.sg_allow4), &k, &hits, BPF_ANY);
		allow_counted(c, 1);
	}
	syn.sport = 43040;
	syn_passes(c, &syn, SYN4_PASS | S(ALLOWED), "allow-listed source: SYN passes");
}

/* ACKs that are not checked, or checked and passed in dry-run. */
static void ack_scope(struct ctx *c)
{
	struct hs h;
	int ret;

	setup(c, ALWAYS);
	if (!ok(c, handshake(c, 4, 44000, &h), "ack scope: a cookie is out"))
		return;

	write_cfg(c, CFG(.cookie_mode = SG_COOKIE_ALWAYS, .flags = SG_CFG_DRY_RUN));
	ret = send_ack(c, &h, h.isn + 1, h.cookie + 3);
	verdict(c, ret, XDP_PASS, "dry-run: a forged cookie ACK passes");
	counters(c, "dry-run: a forged cookie ACK",
		 S(IPV4) | S(TCP) | S(TCP_ACK) | S(WOULD_DROP) | S(PASS), SG_R_COOKIE_INVALID);

	write_cfg(c, CFG(.cookie_mode = SG_COOKIE_ALWAYS, .flags = SG_CFG_PORTS, .port = 443));
	ret = send_ack(c, &h, h.isn + 1, h.cookie + 3);
	verdict(c, ret, XDP_PASS, "ports: an ACK to a port out of scope is not checked");
	counters(c, "ports: an ACK out of scope",
		 S(IPV4) | S(TCP) | S(TCP_ACK) | S(PASS), NO_REASON);

	write_cfg(c, ALWAYS);
	{
		struct sg_lpm4 k = { .prefixlen = 32, .addr = { 198, 18, 0, 3 } };
		__u64 hits = 0;

		bpf_map_update_elem(fd(c->skel->maps.sg_allow4), &k, &hits, BPF_ANY);
		allow_counted(c, 1);
		ret = send_ack(c, &h, h.isn + 1, h.cookie + 3);
		verdict(c, ret, XDP_PASS, "allow-listed source: its ACK is not checked");
		counters(c, "allow-listed source: ACK",
			 S(IPV4) | S(TCP) | S(TCP_ACK) | S(ALLOWED) | S(PASS), NO_REASON);
		bpf_map_delete_elem(fd(c->skel->maps.sg_allow4), &k);
	}

	/* Not ACKs: SYN-ACK, RST, FIN without ACK are never cookie-checked. */
	{
		struct pkt_spec s = V4(.sport = 44001, .tcp_flags = PKT_RST | PKT_ACK,
				       .seq = 1, .ack_seq = 2);
		__u8 in[PKT_MAX_FRAME];
		static struct out o;

		verdict(c, xdp(c, in, build(&s, in), &o), XDP_PASS, "RST+ACK is not checked");
		counters(c, "RST+ACK", S(IPV4) | S(TCP) | S(TCP_RST) | S(PASS), NO_REASON);
		s.tcp_flags = PKT_SYN | PKT_ACK;
		verdict(c, xdp(c, in, build(&s, in), &o), XDP_PASS, "SYN-ACK is not checked");
		counters(c, "SYN-ACK", S(IPV4) | S(TCP) | S(TCP_SYNACK) | S(FLOW_UNEXPECTED_SYNACK) |
			 S(PASS), NO_REASON);
	}
	/* FIN+ACK with a bad cookie: checked like any ACK. */
	{
		struct pkt_spec s = V4(.sport = 44002, .tcp_flags = PKT_FIN | PKT_ACK,
				       .seq = h.isn + 1, .ack_seq = h.cookie + 1);
		__u8 in[PKT_MAX_FRAME];
		static struct out o;

		verdict(c, xdp(c, in, build(&s, in), &o), XDP_DROP,
			"FIN+ACK with another port's cookie is checked: dropped");
		counters(c, "FIN+ACK, bad cookie", S(IPV4) | S(TCP) | S(TCP_FIN) | S(DROP),
			 SG_R_COOKIE_INVALID);
	}

	/*
	 * Cookies are checked for SG_COOKIE_LIFE_NS (3 minutes) after the last
	 * one went out (sg_cookie_last_ns, the coarse clock); after that ACKs
	 * go to the stack unchecked.  The clock is moved by moving that time.
	 */
	{
		__u64 now = clock_ns(CLOCK_MONOTONIC_COARSE);

		c->skel->bss->sg_cookie_last_ns = now - 170ULL * 1000000000ULL;
		ret = send_ack(c, &h, h.isn + 1, h.cookie + 3);
		verdict(c, ret, XDP_DROP, "last cookie sent 170 s ago: ACKs still checked");
		c->skel->bss->sg_cookie_last_ns = now - 190ULL * 1000000000ULL;
		ret = send_ack(c, &h, h.isn + 1, h.cookie + 3);
		verdict(c, ret, XDP_PASS, "last cookie sent 190 s ago: ACKs not checked");
		counters(c, "no cookie out: ACK", S(IPV4) | S(TCP) | S(TCP_ACK) | S(PASS), NO_REASON);
		c->skel->bss->sg_cookie_last_ns = 0;
		ret = send_ack(c, &h, h.isn + 1, h.cookie + 3);
		verdict(c, ret, XDP_PASS, "no cookie ever sent: ACKs not checked");
		if (ok(c, handshake(c, 4, 44003, &h), "a new cookie goes out"))
			ok(c, c->skel->bss->sg_cookie_last_ns >= now,
			   "...and sets sg_cookie_last_ns: ACKs are checked again");
		ret = send_ack(c, &h, h.isn + 1, h.cookie + 3);
		verdict(c, ret, XDP_DROP, "...a forged one is dropped");
	}
}

/* ---- a real connection in a private netns ------------------------------------ */

static int netns_lab(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	if (system("ip link set lo up && ip addr add 198.18.0.1/32 dev lo && "
		   "ip addr add 198.18.0.3/32 dev lo && "
		   "ip -6 addr add 2001:2::1/128 dev lo nodad && "
		   "ip -6 addr add 2001:2::3/128 dev lo nodad") != 0)
		return -EIO;
	return 0;
}

/* @addr:@port as a socket address of @family (4 or 6); its length. */
static socklen_t sockaddr_of(struct sockaddr_storage *ss, int family, const char *addr,
			     __u16 port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	inet_pton(AF_INET6, addr, &a->sin6_addr);
	return sizeof(*a);
}

static int tcp_socket(int family, const char *addr, __u16 port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(&ss, family, addr, port);
	int s = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0), one = 1;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, len)) {
		close(s);
		return -1;
	}
	return s;
}

static int connect_to(int s, int family, const char *addr, __u16 port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(&ss, family, addr, port);

	return connect(s, (struct sockaddr *)&ss, len);
}

static __u16 local_port(int s)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);

	if (getsockname(s, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * A listener on SRV:80 and a real connection CLI -> SRV:80, made by the
 * kernel in this process's netns, which is also where BPF_PROG_TEST_RUN
 * runs the program (its rxq is this netns's loopback): bpf_skc_lookup_tcp
 * finds these sockets.
 */
static void real_sockets(struct ctx *c, int family)
{
	const char *fam = family == 4 ? "IPv4" : "IPv6";
	const char *srv = family == 4 ? SRV4 : SRV6, *cli = family == 4 ? CLI4 : CLI6;
	int lfd = -1, cfd = -1, afd = -1, ret;
	__u64 fs = family_stat(family);
	struct hs h = {}, real;
	char d[160];

#define D(s) (snprintf(d, sizeof(d), "real sockets %s: %s", fam, s), d)
	if (!c->netns) {
		skip(c, D("a real connection"), "no private network namespace (unshare or ip failed)");
		return;
	}
	setup(c, ALWAYS);
	lfd = tcp_socket(family, srv, SRV_PORT);
	cfd = tcp_socket(family, cli, 0);
	if (!ok(c, lfd >= 0 && cfd >= 0 && !listen(lfd, 8) &&
		!connect_to(cfd, family, srv, SRV_PORT) &&
		(afd = accept(lfd, NULL, NULL)) >= 0, "%s", D("listen, connect, accept"))) {
		printf("#   %s\n", strerror(errno));
		goto out;
	}
	real = (struct hs){ .family = family, .cli = cli, .srv = srv,
			    .cport = local_port(cfd), .valid = true };
	if (!ok(c, handshake(c, family, 45000, &h), "%s", D("a cookie is out")))
		goto out;

	/* The connection's own ACK: an established socket, not checked at all. */
	ret = send_ack(c, &real, 0x1234, 0x5678);
	verdict(c, ret, XDP_PASS, D("an ACK of the established connection"));
	counters(c, D("an ACK of the established connection (no cookie_valid, no cookie_invalid)"),
		 fs | S(TCP) | S(TCP_ACK) | S(PASS), NO_REASON);

	/* Only the listener is behind another port: the cookie decides. */
	{
		struct hs other = real;

		other.cport = real.cport == 45999 ? 45998 : 45999;
		dropped(c, &other, send_ack(c, &other, 0x1234, 0x5678),
			D("an ACK to the listener from an unknown port, bad cookie"));
	}
	valid_ack(c, &h, D("a valid cookie ACK to the listener"));

	/* The server closes first: its end sits in TIME_WAIT, still a socket. */
	close(afd);
	afd = -1;
	usleep(20000);
	close(cfd);
	cfd = -1;
	usleep(50000);
	ret = send_ack(c, &real, 0x1234, 0x5678);
	verdict(c, ret, XDP_PASS, D("an ACK to the connection in TIME_WAIT"));
	counters(c, D("an ACK to TIME_WAIT"), fs | S(TCP) | S(TCP_ACK) | S(PASS), NO_REASON);

	/*
	 * The client reuses its port while the server holds TIME_WAIT: the
	 * new SYN gets a cookie, and its valid ACK must reach synproxy (the
	 * TIME_WAIT socket, passed the ACK bare, answers with the old
	 * connection's ACK: lost connections in bench_flood's cookie row).
	 */
	if (ok(c, handshake(c, family, real.cport, &h), "%s",
	       D("a cookie SYN-ACK for the port in TIME_WAIT")))
		valid_ack(c, &h, D("a valid cookie ACK to the port in TIME_WAIT: marked"));
	if (family == 4 && ok(c, handshake(c, family, real.cport, &h), "%s",
			      D("another cookie SYN-ACK for the port in TIME_WAIT"))) {
		__u8 in[PKT_MAX_FRAME];
		static struct out o;
		int len = ack_frame(&h, h.isn, h.cookie + 1, in);

		verdict(c, xdp(c, in, len, &o), XDP_PASS,
			D("its zero-window probe (ACK lost) in TIME_WAIT"));
		counters(c, D("its zero-window probe in TIME_WAIT: repaired"),
			 fs | S(TCP) | S(TCP_ACK) | S(COOKIE_VALID) | S(COOKIE_PROBE) | S(PASS),
			 NO_REASON);
		eq(c, o.meta, 4, "%s", D("the repaired probe is marked for synproxy"));
		eq(c, rd32(o.data + o.meta + 14 + 20 + 4), h.isn + 1, "%s",
		   D("the probe's seq rewritten to ISN + 1"));
	}

	/* No listener at all: nothing is behind the port, the cookie decides. */
	close(lfd);
	lfd = -1;
	real.cport = 45997;
	dropped(c, &real, send_ack(c, &real, 0x1234, 0x5678),
		D("no listener: a bad cookie is dropped"));
out:
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
#undef D
}

/*
 * Invalid cookie ACKs: told once when this CPU's second reaches
 * SG_EV_COOKIE_INVALID_RATE, not before and not again in that second.
 * On one CPU (the count is per CPU), within one second of the clock.
 */
static void invalid_events(struct ctx *c)
{
	int ncpu = libbpf_num_possible_cpus(), i, drops = 0;
	struct sg_ev_cpu zero[ncpu > 0 ? ncpu : 1];
	static struct ev_log l;
	const struct sg_event *e;
	cpu_set_t old, one;
	__u32 k = 0;
	__u64 t;
	struct hs h;

	setup(c, ALWAYS);
	if (!ok(c, handshake(c, 4, 42300, &h), "invalid events: a SYN-ACK to forge against"))
		return;
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	memset(zero, 0, sizeof(zero));
	bpf_map_update_elem(fd(c->skel->maps.sg_ev_cpu), &k, zero, BPF_ANY);
	ev_read(fd(c->skel->maps.sg_events), &l);
	/* 150 ACKs take milliseconds: start them early in a second. */
	t = coarse_ns() % 1000000000ULL;
	if (t > 300000000ULL)
		usleep((1000000000ULL - t) / 1000 + 20000);
	for (i = 0; i < SG_EV_COOKIE_INVALID_RATE - 1; i++)
		drops += send_ack(c, &h, h.isn + 1, 0x5eed0000U + i * 7) == XDP_DROP;
	ev_read(fd(c->skel->maps.sg_events), &l);
	eq(c, l.n, 0, "invalid events: %d invalid ACKs in a second: no event",
	   SG_EV_COOKIE_INVALID_RATE - 1);
	drops += send_ack(c, &h, h.isn + 1, 0x5eee0000U) == XDP_DROP;
	ev_read(fd(c->skel->maps.sg_events), &l);
	e = ev_first(&l, SG_EV_COOKIE_INVALID);
	eq(c, ev_count(&l, SG_EV_COOKIE_INVALID) * 10 + l.n, 11,
	   "invalid events: the %dth: one cookie_invalid", SG_EV_COOKIE_INVALID_RATE);
	eq(c, e ? (long long)(e->v[0] * 1000 + e->aux) : -1,
	   SG_EV_COOKIE_INVALID_RATE * 1000 + SG_EV_COOKIE_INVALID_RATE,
	   "invalid events: ...with the count (v[0]) and the threshold (aux)");
	for (i = 0; i < 50; i++)
		drops += send_ack(c, &h, h.isn + 1, 0x5eef0000U + i * 7) == XDP_DROP;
	ev_read(fd(c->skel->maps.sg_events), &l);
	eq(c, l.n, 0, "invalid events: 50 more in that second: no more");
	eq(c, drops, SG_EV_COOKIE_INVALID_RATE + 50, "invalid events: every forged ACK dropped");
	sched_setaffinity(0, sizeof(old), &old);
}

int main(void)
{
	struct ctx c = {};
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = netns_lab();
	c.netns = !err;
	if (err)
		printf("# no private netns (%s): the real-socket tests are skipped\n",
		       strerror(-err));
	c.skel = synguard__open_and_load();
	if (!c.skel) {
		printf("not ok 1 - load synguard: %s\n1..1\n0 passed, 1 failed\n",
		       strerror(errno));
		return 1;
	}
	synack_rows(&c);
	forged(&c, 4);
	forged(&c, 6);
	probe_ack(&c, 4);
	repeated_ack(&c);
	stack_cookie(&c);
	kernel_cookie(&c, 4);
	kernel_cookie(&c, 6);
	mss_index(&c, 4);
	mss_index(&c, 6);
	modes(&c);
	bad_checksums(&c);
	ack_scope(&c);
	invalid_events(&c);
	real_sockets(&c, 4);
	real_sockets(&c, 6);
	synguard__destroy(c.skel);
	c.failed += !books_report(++c.n);
	printf("1..%d\n", c.n);
	if (c.skipped)
		printf("# %d skipped\n", c.skipped);
	printf("%d passed, %d failed\n", c.n - c.failed, c.failed);
	return c.failed ? 1 : 0;
}
