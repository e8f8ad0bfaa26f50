// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* top: a live view of an attachment, or plain reports when not on a terminal. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attack.h"
#include "common.h"
#include "names.h"
#include "cmd.h"
#include "flows.h"
#include "pin.h"
#include "stats.h"
#include "term.h"

#define TOP_SOURCES 10		/* rows of the sources table */
#define TOP_PLAIN_WIDTH 100	/* the width of a plain report */
#define TOP_HIST_WIDTH 58	/* one histogram's column */
#define TOP_HIST_LINES (SG_HIST_BUCKETS + 1)
#define NSEC 1000000000ULL

/* One sg_src entry and its rates over the last interval. */
struct top_src {
	struct sg_src_key key;
	struct sg_src_state st;
	double syn_rate, drop_rate;
};

/* A reading of sg_src, sorted by key so the next one finds its entries. */
struct top_srcs {
	struct top_src *v;
	size_t n;
};

/* One reading of everything the view shows. */
struct top_reading {
	struct sg_counters c;
	struct sg_flow_summary flows;
	struct sg_attack attack;
	struct top_srcs srcs;
	double at;		/* now_mono() */
};

struct top_view {
	const struct sg_source *src;
	const struct sg_config *cfg;
	const struct top_reading *cur;
	const struct top_reading *prev;	/* NULL: no rates yet */
	bool src_map;		/* sg_src could be opened */
	bool live;		/* on the terminal, not a plain report */
	bool compact;		/* latency as percentiles only, no bars */
	int width;
};

static volatile sig_atomic_t stop, resized, suspended;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else if (sig == SIGTSTP)
		suspended = 1;
	else
		stop = 1;
}

static int top_key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct top_src *)a)->key,
		      &((const struct top_src *)b)->key, sizeof(struct sg_src_key));
}

static void top_srcs_free(struct top_srcs *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int top_srcs_batch(const void *keys, const void *vals, __u32 n, void *arg)
{
	const struct sg_src_key *k = keys;
	const struct sg_src_state *v = vals;
	struct top_srcs *out = arg;
	struct top_src *grown;
	__u32 i;

	grown = realloc(out->v, (out->n + n) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	out->v = grown;
	for (i = 0; i < n; i++) {
		struct top_src *s = &out->v[out->n++];

		memset(s, 0, sizeof(*s));
		s->key = k[i];
		s->st = v[i];
	}
	return 0;
}

/* Every entry of sg_src, sorted by key; 0 or -errno. */
static int top_srcs_read(int fd, struct top_srcs *out)
{
	int err;

	top_srcs_free(out);
	err = map_walk(fd, sizeof(struct sg_src_key), sizeof(struct sg_src_state),
		       top_srcs_batch, out);
	if (!err && out->n)
		qsort(out->v, out->n, sizeof(*out->v), top_key_cmp);
	return err;
}

/*
 * The drops sg_over made that its slots have not folded into sg_src yet:
 * added to the entries they belong to, so the counts are whole.  0 or
 * -errno.
 */
static int top_srcs_add_over(int over_fd, struct top_srcs *s)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	size_t vsz = (sizeof(struct sg_over) + 7) & ~(size_t)7;
	struct top_src want, *hit;
	char *buf;
	__u32 i;

	if (ncpu < 1)
		return ncpu ? ncpu : -EINVAL;
	buf = calloc(ncpu, vsz);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < SG_OVER_SLOTS; i++) {
		if (bpf_map_lookup_elem(over_fd, &i, buf))
			continue;
		for (c = 0; c < ncpu; c++) {
			const struct sg_over *o = (const void *)(buf + c * vsz);

			if (!o->pending || !s->n)
				continue;
			want.key = o->key;
			hit = bsearch(&want, s->v, s->n, sizeof(*s->v), top_key_cmp);
			if (hit) {
				hit->st.syns += o->pending;
				hit->st.dropped += o->pending;
			}
		}
	}
	free(buf);
	return 0;
}

/*
 * SYN and drop rates of each source over @secs.  A source the last
 * reading did not have is new; one whose count went down was evicted and
 * came back, its count restarted from 0.
 */
static void top_srcs_rates(struct top_srcs *cur, const struct top_srcs *prev,
			   double secs)
{
	const struct top_src *p;
	struct top_src *s;
	__u64 syns, dropped;
	size_t i;

	for (i = 0; i < cur->n; i++) {
		s = &cur->v[i];
		p = prev->n ? bsearch(s, prev->v, prev->n, sizeof(*s), top_key_cmp) : NULL;
		syns = s->st.syns;
		dropped = s->st.dropped;
		if (p && p->st.syns <= syns && p->st.dropped <= dropped) {
			syns -= p->st.syns;
			dropped -= p->st.dropped;
		}
		s->syn_rate = secs > 0 ? syns / secs : 0;
		s->drop_rate = secs > 0 ? dropped / secs : 0;
	}
}

static int top_rank_cmp(const void *a, const void *b)
{
	const struct top_src *x = *(const struct top_src *const *)a;
	const struct top_src *y = *(const struct top_src *const *)b;

	if (x->syn_rate != y->syn_rate)
		return x->syn_rate < y->syn_rate ? 1 : -1;
	if (x->drop_rate != y->drop_rate)
		return x->drop_rate < y->drop_rate ? 1 : -1;
	if (x->st.syns != y->st.syns)
		return x->st.syns < y->st.syns ? 1 : -1;
	return top_key_cmp(x, y);
}

static int top_read(const struct sg_pins *p, int src_fd, int over_fd,
		    struct top_reading *r)
{
	struct sg_flow_maps fm;
	int err;

	pins_flow_maps(p, &fm);
	err = stats_read(p->stats_fd, p->drops_fd, &r->c);
	if (!err)
		err = flows_read(&fm, &p->cfg, 0, &r->flows);
	if (!err) {
		__u32 zero = 0;

		err = bpf_map_lookup_elem(p->attack_fd, &zero, &r->attack) ? -errno : 0;
	}
	if (!err && src_fd >= 0)
		err = top_srcs_read(src_fd, &r->srcs);
	if (!err && src_fd >= 0 && over_fd >= 0)
		err = top_srcs_add_over(over_fd, &r->srcs);
	r->at = now_mono();
	return err;
}

static double top_rate(const struct top_view *v, int stat)
{
	double secs = v->prev ? v->cur->at - v->prev->at : 0;
	__u64 before = v->prev ? v->prev->c.stat[stat] : 0;

	return stats_rate(v->cur->c.stat[stat], before, secs);
}

/* "label 12.3" into a rates line; "-" before there is a rate. */
static void top_rate_item(FILE *f, const struct top_view *v, const char *label,
			  int stat, bool first)
{
	fputs(first ? "" : "   ", f);
	if (v->prev)
		fprintf(f, "%s %.1f", label, top_rate(v, stat));
	else
		fprintf(f, "%s -", label);
}

static void top_header(FILE *f, const struct top_view *v)
{
	const struct sg_source *s = v->src;
	char clock[16] = "";
	time_t now = time(NULL);
	struct tm tm;

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
	fprintf(f, "synguard top  %s  netns %s  %s XDP  prog %u  dry-run %s  %s\n",
		s->ifname, s->netns[0] ? s->netns : "-",
		xdp_mode_name(s->meta ? s->meta->mode : 0),
		s->prog_id, s->dry_run ? "ON" : "off", clock);
	if (!v->prev)
		fprintf(f, "measuring...%s\n", v->live ? "  (q quits)" : "");
	else
		fprintf(f, "rates over the last %.2f s%s\n", v->cur->at - v->prev->at,
			v->live ? "  (q quits)" : "");
}

static void top_rates(FILE *f, const struct top_view *v)
{
	double secs = v->prev ? v->cur->at - v->prev->at : 0;
	int i, shown = 0, col;

	fputc('\n', f);
	top_rate_item(f, v, "frames/s", SG_FRAMES, true);
	top_rate_item(f, v, "SYN/s", SG_TCP_SYN, false);
	top_rate_item(f, v, "SYN-ACK/s", SG_FLOW_SYNACK, false);
	top_rate_item(f, v, "completed/s", SG_FLOW_COMPLETED, false);
	top_rate_item(f, v, v->src->dry_run ? "would-drop/s" : "drops/s",
		      v->src->dry_run ? SG_WOULD_DROP : SG_DROP, false);
	fputc('\n', f);
	col = fprintf(f, "%s by reason:", v->src->dry_run ? "would-drop/s" : "drops/s");
	for (i = 0; v->prev && i < SG_REASON_MAX; i++) {
		double r = stats_rate(v->cur->c.reason[i], v->prev->c.reason[i], secs);
		char item[64];
		int n;

		if (r <= 0)
			continue;
		n = snprintf(item, sizeof(item), "  %s %.1f", reason_names[i], r);
		if (col + n > v->width - 1) {
			fputs("\n          ", f);
			col = 10;
		}
		fputs(item, f);
		col += n;
		shown++;
	}
	fputs(shown ? "\n" : v->prev ? "  none\n" : "  -\n", f);
}

/* The gauges in the order a connection goes through them. */
static const int top_states[] = {
	SG_TCP_SYN_RCVD, SG_TCP_SYN_SEEN, SG_TCP_SYN_SENT, SG_TCP_ESTABLISHED,
	SG_TCP_FIN_WAIT_1, SG_TCP_FIN_WAIT_2, SG_TCP_CLOSING, SG_TCP_TIME_WAIT,
	SG_TCP_REMOTE_TIME_WAIT, SG_TCP_CLOSE_WAIT, SG_TCP_LAST_ACK,
};

static void top_attack(FILE *f, const struct top_view *v)
{
	const struct sg_attack *a = &v->cur->attack;
	const __u64 *stat = v->cur->c.stat;
	double secs = v->prev ? v->cur->at - v->prev->at : 0;

	if (!v->cfg->attack_syn_rate && !v->cfg->attack_half_open) {
		fputs("attack mode: off (no thresholds set)\n", f);
		return;
	}
	fprintf(f, "attack mode: %s  (last window %llu SYN/s, half-open est. %llu; "
		"entered %llu, left %llu)", a->active ? "ON" : "waiting",
		(unsigned long long)a->last_rate, (unsigned long long)a->half_open_est,
		(unsigned long long)stat[SG_ATTACK_ENTERED],
		(unsigned long long)stat[SG_ATTACK_LEFT]);
	if (secs > 0)
		fprintf(f, "  proven %.1f/s, admitted %.1f/s",
			top_rate(v, SG_ATTACK_PROVEN), top_rate(v, SG_ATTACK_ADMITTED));
	fputs("\n  ", f);
	attack_thresholds_line(f, a, v->cfg);
}

/* The SYN cookie path: what went out, what came back valid or not. */
static void top_cookies(FILE *f, const struct top_view *v)
{
	const __u64 *stat = v->cur->c.stat, *reason = v->cur->c.reason;
	double secs = v->prev ? v->cur->at - v->prev->at : 0;

	fprintf(f, "SYN cookies: %s  sent %llu, valid %llu, invalid %llu",
		cookie_mode_name(v->cfg->cookie_mode),
		(unsigned long long)stat[SG_COOKIE_SENT],
		(unsigned long long)stat[SG_COOKIE_VALID],
		(unsigned long long)reason[SG_R_COOKIE_INVALID]);
	if (secs > 0)
		fprintf(f, "  (%.1f/s, %.1f/s, %.1f/s)",
			top_rate(v, SG_COOKIE_SENT), top_rate(v, SG_COOKIE_VALID),
			stats_rate(reason[SG_R_COOKIE_INVALID],
				       v->prev->c.reason[SG_R_COOKIE_INVALID], secs));
	fputc('\n', f);
}

static void top_gauges(FILE *f, const struct top_view *v)
{
	const struct sg_flow_summary *fl = &v->cur->flows;
	const __u64 *stat = v->cur->c.stat;
	int n = sizeof(top_states) / sizeof(top_states[0]), per_row, i;

	/* "  name value" then "   name value": 25 and 26 columns. */
	per_row = v->width > 26 ? (v->width - 26) / 26 + 1 : 1;
	fprintf(f, "\nflows now (half-open table %llu/%u, flow table %llu/%u)\n",
		(unsigned long long)fl->half_entries, fl->half_max,
		(unsigned long long)fl->flow_entries, fl->flows_max);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s%-16s %6llu", i % per_row ? "   " : "  ",
			state_names[top_states[i]],
			(unsigned long long)fl->state[top_states[i]]);
		if (i % per_row == per_row - 1 || i == n - 1)
			fputc('\n', f);
	}
	fprintf(f, "handshakes since attach: %llu started, %llu completed, %llu failed, "
		"%llu reset; %llu answered by the kernel's SYN cookies\n",
		(unsigned long long)stat[SG_FLOW_SYN],
		(unsigned long long)stat[SG_FLOW_COMPLETED],
		(unsigned long long)flows_failed(fl, stat),
		(unsigned long long)stat[SG_FLOW_HS_RESET],
		(unsigned long long)stat[SG_SYNACK_COOKIE]);
	top_attack(f, v);
	top_cookies(f, v);
}

/* Microseconds, short: 63us, 1.0ms, 2.1s. */
static void top_us(char *buf, size_t len, __u64 us)
{
	if (us < 10000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 10000000)
		snprintf(buf, len, "%.1fms", us / 1e3);
	else
		snprintf(buf, len, "%.1fs", us / 1e6);
}

/*
 * One histogram as lines of at most @width characters: a title with the
 * percentiles, then a bar per log2 bucket from the first non-empty one to
 * the last.  Returns the number of lines.
 */
static int top_hist_lines(const struct top_view *v, int h, char lines[][128],
			  int width)
{
	const __u64 *hist = v->cur->flows.hist[h];
	char p50[16], p90[16], p99[16], bound[16];
	int lo = -1, hi = -1, b, n = 0, bar, barw, len;
	__u64 total = 0, max = 0;

	if (width > 127)
		width = 127;
	for (b = 0; b < SG_HIST_BUCKETS; b++) {
		total += hist[b];
		if (!hist[b])
			continue;
		if (lo < 0)
			lo = b;
		hi = b;
		if (hist[b] > max)
			max = hist[b];
	}
	if (!total) {
		snprintf(lines[n++], 128, "%s: no samples", hist_names[h]);
		return n;
	}
	top_us(p50, sizeof(p50), flows_percentile(hist, 50));
	top_us(p90, sizeof(p90), flows_percentile(hist, 90));
	top_us(p99, sizeof(p99), flows_percentile(hist, 99));
	snprintf(lines[n++], 128, "%s: p50 <%s p90 <%s p99 <%s (%llu)", hist_names[h],
		 p50, p90, p99, (unsigned long long)total);
	/* "  <1023us |####...| 123456789" */
	barw = width - 2 - 8 - 2 - 1 - 10;
	if (barw < 4)
		barw = 4;
	for (b = lo; b <= hi && n < TOP_HIST_LINES && !v->compact; b++) {
		/* Bucket b holds log2(us + 1) == b: us < 2^(b+1) - 1. */
		top_us(bound, sizeof(bound), (1ULL << (b + 1)) - 1);
		bar = hist[b] ? (int)((hist[b] * barw + max - 1) / max) : 0;
		len = snprintf(lines[n], 128, "  <%-7s |", bound);
		memset(lines[n] + len, '#', bar);
		memset(lines[n] + len + bar, ' ', barw - bar);
		snprintf(lines[n] + len + barw, 128 - len - barw, "| %llu",
			 (unsigned long long)hist[b]);
		n++;
	}
	return n;
}

static void top_hists(FILE *f, const struct top_view *v)
{
	static char lines[SG_HIST_MAX][TOP_HIST_LINES][128];
	int n[SG_HIST_MAX], h, i, rows, colw;
	bool side = v->width >= 2 * TOP_HIST_WIDTH + 2;

	colw = side ? TOP_HIST_WIDTH : v->width - 1;
	fprintf(f, "\nhandshake latency since attach%s\n",
		v->compact ? " (a taller window shows the log2 buckets)" : " (log2 buckets)");
	for (h = 0; h < SG_HIST_MAX; h++)
		n[h] = top_hist_lines(v, h, lines[h], colw);
	if (!side) {
		for (h = 0; h < SG_HIST_MAX; h++)
			for (i = 0; i < n[h]; i++)
				fprintf(f, "%s\n", lines[h][i]);
		return;
	}
	rows = n[0] > n[1] ? n[0] : n[1];
	for (i = 0; i < rows; i++)
		fprintf(f, "%-*s  %s\n", colw, i < n[0] ? lines[0][i] : "",
			i < n[1] ? lines[1][i] : "");
}

static void top_src_name(const struct top_src *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int full = s->key.family == 4 ? 32 : 128;

	inet_ntop(s->key.family == 4 ? AF_INET : AF_INET6, s->key.addr, a, sizeof(a));
	if (s->key.prefix < full)
		snprintf(buf, len, "%s/%u", a, s->key.prefix);
	else
		snprintf(buf, len, "%s", a);
}

static __u64 top_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static void top_sources(FILE *f, const struct top_view *v)
{
	const struct top_srcs *srcs = &v->cur->srcs;
	const struct sg_config *cfg = v->cfg;
	const struct top_src *rank[TOP_SOURCES], **all;
	char name[INET6_ADDRSTRLEN + 8], blocked[32];
	size_t i, n = 0;
	int namew = 15;
	__u64 now;

	fputs("\ntop sources by SYN/s", f);
	if (!cfg->src_rate) {
		fputs(" (per-source limit off)\n", f);
		return;
	}
	fprintf(f, " (limit %u/s, burst %u, per /%u and /%u)\n", cfg->src_rate,
		cfg->src_burst, cfg->prefix4, cfg->prefix6);
	if (!v->src_map) {
		fputs("  (cannot read sg_src)\n", f);
		return;
	}
	if (!v->prev) {
		fputs("  measuring...\n", f);
		return;
	}
	all = calloc(srcs->n ? srcs->n : 1, sizeof(*all));
	if (!all)
		return;
	for (i = 0; i < srcs->n; i++)
		if (srcs->v[i].syn_rate > 0 || srcs->v[i].drop_rate > 0)
			all[n++] = &srcs->v[i];
	qsort(all, n, sizeof(*all), top_rank_cmp);
	if (n > TOP_SOURCES)
		n = TOP_SOURCES;
	memcpy(rank, all, n * sizeof(*all));
	free(all);
	if (!n) {
		fputs("  no SYNs from any source in the last interval\n", f);
		return;
	}
	for (i = 0; i < n; i++) {
		top_src_name(rank[i], name, sizeof(name));
		if ((int)strlen(name) > namew)
			namew = strlen(name);
	}
	fprintf(f, "  %-*s %10s %10s %12s %12s  %s\n", namew, "SOURCE", "SYN/s",
		"DROP/s", "SYNS", "DROPPED", "BLOCKED");
	now = top_mono_ns();
	for (i = 0; i < n; i++) {
		top_src_name(rank[i], name, sizeof(name));
		blocked[0] = '\0';
		if (rank[i]->st.blocked_until > now)
			snprintf(blocked, sizeof(blocked), "%.1fs",
				 (rank[i]->st.blocked_until - now) / 1e9);
		fprintf(f, "  %-*s %10.1f %10.1f %12llu %12llu%s%s\n", namew, name,
			rank[i]->syn_rate, rank[i]->drop_rate,
			(unsigned long long)rank[i]->st.syns,
			(unsigned long long)rank[i]->st.dropped,
			blocked[0] ? "  " : "", blocked);
	}
}

static int top_lines(const char *text, size_t len)
{
	int n = 0;

	while (len--)
		n += *text++ == '\n';
	return n;
}

/* The whole view as text, lines ending in '\n'; NULL when out of memory. */
static char *top_render_once(const struct top_view *v, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	top_header(f, v);
	top_rates(f, v);
	top_gauges(f, v);
	top_hists(f, v);
	top_sources(f, v);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* On a window too short for the bars, the view without them. */
static char *top_render(struct top_view *v, size_t *len, int rows)
{
	char *text;

	v->compact = false;
	text = top_render_once(v, len);
	if (text && v->live && top_lines(text, *len) > rows) {
		free(text);
		v->compact = true;
		text = top_render_once(v, len);
	}
	return text;
}

/*
 * Paints @text from the top left: each line cut to the width (one column
 * short, so no line ever wraps), no more lines than rows (so nothing
 * scrolls), the rest of each line and of the screen cleared; the first
 * line in reverse video.
 */
static int top_paint(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	size_t cap = 0, n;
	int rows, cols, row, err;
	char *out = NULL;
	FILE *f;

	term_size(&rows, &cols);
	f = open_memstream(&out, &cap);
	if (!f)
		return -ENOMEM;
	fputs("\033[H", f);
	for (row = 0; row < rows && p < end; row++) {
		nl = memchr(p, '\n', end - p);
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > (size_t)cols - 1)
			n = cols - 1;
		if (row)
			fputs("\r\n", f);
		if (row == 0)
			fprintf(f, "\033[7m%-*.*s\033[0m", cols - 1, (int)n, p);
		else
			fprintf(f, "%.*s\033[K", (int)n, p);
		p = nl ? nl + 1 : end;
	}
	fputs("\033[J", f);
	if (fclose(f)) {
		free(out);
		return -ENOMEM;
	}
	err = term_write(out, cap);
	free(out);
	return err;
}

/* Reads what was typed; true when it says quit (q, Q, or ^C as a byte). */
static bool top_keys(bool *eof)
{
	char buf[64];
	ssize_t n, i;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n == 0)
		*eof = true;	/* stdin closed: keys are over, the view goes on */
	for (i = 0; i < n; i++)
		if (buf[i] == 'q' || buf[i] == 'Q' || buf[i] == 3)
			return true;
	return false;
}

static const struct cmd_opt top_opts[] = {
	CMD_OPT_INTERVAL("refresh every SEC seconds (1)"),
	CMD_OPT_COUNT,
	{ NULL }
};

static const struct cmd_help top_help = {
	.name = "top",
	.synopsis = "IFACE [--interval SEC] [--count N] [-n NETNS]",
	.text = "  A live view of synguard on IFACE, refreshed every SEC seconds (1):\n"
		"  rates, drops by reason, flow gauges, handshake latency and the top\n"
		"  sources by SYN rate.  q or Ctrl-C quits.  When stdout is not a\n"
		"  terminal, prints a plain report every SEC seconds instead (N of\n"
		"  them, or until interrupted).\n",
	.opts = top_opts,
};

/* SIGWINCH and SIGTSTP only matter on the terminal. */
static const int top_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP };
#define TOP_SIGS_PLAIN 3

static void top_signals(bool tty, sigset_t *blocked, sigset_t *orig)
{
	size_t i, n = tty ? sizeof(top_sigs) / sizeof(top_sigs[0]) : TOP_SIGS_PLAIN;
	struct sigaction sa = { .sa_handler = on_signal };

	/*
	 * Blocked except inside ppoll(): a signal that comes between the
	 * check of the flags and the wait is not lost for a whole interval.
	 */
	sigemptyset(blocked);
	for (i = 0; i < n; i++) {
		sigaction(top_sigs[i], &sa, NULL);
		sigaddset(blocked, top_sigs[i]);
	}
	sigprocmask(SIG_BLOCK, blocked, orig);
}

/*
 * A write to a terminal that hung up fails before the blocked SIGHUP is
 * delivered: a pending stop signal makes that failure a clean exit.
 */
static bool top_stop_pending(void)
{
	sigset_t pending;
	int i;

	if (stop)
		return true;
	if (sigpending(&pending))
		return false;
	for (i = 0; i < TOP_SIGS_PLAIN; i++)
		if (sigismember(&pending, top_sigs[i]))
			return true;
	return false;
}

/* Ctrl-Z: the terminal as it was while stopped, the view again after. */
static int top_suspend(void)
{
	term_restore();
	kill(getpid(), SIGSTOP);
	return term_enter();
}

int cmd_top(int argc, char **argv)
{
	struct top_reading r[2] = {};
	struct top_reading *cur = &r[1], *prev = &r[0], *tmp;
	struct top_view view = {};
	struct sg_source src = {};
	double interval = 1, deadline, left;
	__u64 count = 0, done = 0;
	sigset_t blocked, orig;
	bool tty, keys_eof = false, have_prev = false;
	char *text = NULL;
	size_t text_len = 0;
	int opt, rc, err, src_fd = -1, over_fd = -1;
	struct sg_target t;
	struct sg_pins p;

	while ((opt = cmd_opt_next(&top_help, argc, argv)) != -1) {
		switch (opt) {
		case 'i':
		case 'c':
			if (cmd_interval_opt(opt, optarg, &interval, &count))
				return EXIT_USAGE;
			break;
		default:
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("top takes one interface (see synguard top --help)");
		return EXIT_USAGE;
	}
	rc = attachment_open(argv[optind], &t, &p);
	if (rc)
		return rc;
	src_fd = p.src_fd;
	over_fd = p.over_fd;	/* absent before sg_over: counts as then */
	tty = isatty(STDOUT_FILENO);
	stats_source(&src, &t, &p);
	view.src = &src;
	view.cfg = &p.cfg;
	view.src_map = src_fd >= 0;
	view.live = tty;

	top_signals(tty, &blocked, &orig);
	err = top_read(&p, src_fd, over_fd, prev);
	if (err)
		goto out;
	if (tty) {
		err = term_enter();
		if (err)
			goto out;
	}
	deadline = prev->at + interval;
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		struct timespec ts;
		int n;

		if (stop)
			break;
		if (tty && suspended) {
			suspended = 0;
			err = top_suspend();
			if (err)
				break;
			resized = 1;	/* paint it all again */
		}
		if (tty && (resized || !text)) {
			resized = 0;
			view.cur = have_prev ? cur : prev;
			view.prev = have_prev ? prev : NULL;
			term_size(&n, &view.width);
			free(text);
			text = top_render(&view, &text_len, n);
			err = text ? top_paint(text, text_len) : -ENOMEM;
			if (err)
				break;
		}
		left = deadline - now_mono();
		if (left <= 0) {
			if (!target_attached(&t)) {
				rc = EXIT_STATE;
				break;
			}
			if (have_prev) {
				tmp = prev;
				prev = cur;
				cur = tmp;
			}
			pins_refresh_config(&p);
			src.dry_run = p.cfg.flags & SG_CFG_DRY_RUN;
			err = top_read(&p, src_fd, over_fd, cur);
			if (err)
				break;
			have_prev = true;
			top_srcs_rates(&cur->srcs, &prev->srcs, cur->at - prev->at);
			view.cur = cur;
			view.prev = prev;
			view.width = TOP_PLAIN_WIDTH;
			n = 0;
			if (tty)
				term_size(&n, &view.width);
			free(text);
			text = top_render(&view, &text_len, n);
			if (!text) {
				err = -ENOMEM;
				break;
			}
			if (tty) {
				err = top_paint(text, text_len);
				if (err)
					break;
			} else {
				fwrite(text, 1, text_len, stdout);
				fputc('\n', stdout);
				if (fflush(stdout)) {
					err = -errno;
					break;
				}
			}
			done++;
			if (count && done >= count)
				break;
			deadline += interval;
			if (deadline < now_mono())
				deadline = now_mono() + interval;
			continue;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		n = ppoll(&pfd, tty && term_keys() && !keys_eof ? 1 : 0, &ts, &orig);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (n > 0 && (pfd.revents & (POLLIN | POLLHUP)) && top_keys(&keys_eof))
			break;
		if (n > 0 && (pfd.revents & (POLLERR | POLLNVAL)))
			keys_eof = true;
	}
out:
	term_restore();
	sigprocmask(SIG_SETMASK, &orig, NULL);
	free(text);
	top_srcs_free(&r[0].srcs);
	top_srcs_free(&r[1].srcs);
	pins_close(&p);
	if (rc == EXIT_STATE) {
		err_msg("synguard was detached from %s%s%s", t.ifname,
			t.netns[0] ? " in netns " : "", t.netns);
		return rc;
	}
	if (err && !top_stop_pending()) {
		err_msg("top on %s: %s", t.ifname, strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
