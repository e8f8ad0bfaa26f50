// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* top's rendering: a reading as text, and that text painted on the terminal. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "attack.h"
#include "chain.h"
#include "names.h"
#include "term.h"
#include "top.h"

#define TOP_SOURCES 10		/* rows of the sources table */
#define TOP_HIST_WIDTH 58	/* one histogram's column */
#define TOP_HIST_LINES (SG_HIST_BUCKETS + 1)
#define NSEC 1000000000ULL

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
	fprintf(f, "synguard top  %s  netns %s  %s XDP  prog %u", s->ifname,
		s->netns[0] ? s->netns : "-", xdp_mode_name(s->meta ? s->meta->mode : 0),
		s->prog_id);
	chain_next_text(f, &s->next);
	fprintf(f, "  dry-run %s  %s\n", s->dry_run ? "ON" : "off", clock);
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

void top_src_name(const struct top_src *s, char *buf, size_t len)
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
	const struct top_src *rank[TOP_SOURCES];
	char name[INET6_ADDRSTRLEN + 8], blocked[32];
	size_t i, n;
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
	n = top_srcs_rank(srcs, rank, TOP_SOURCES);
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

char *top_render(struct top_view *v, size_t *len, int rows)
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

int top_paint(const char *text, size_t len)
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
