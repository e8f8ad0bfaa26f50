// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "names.h"
#include "stats.h"
#include "pin.h"
#include "attack.h"
#include "json.h"
#include "top_srcs.h"

#define SG_NAME_ENTRY(id, name) name,
const char *const stats_names[SG_STAT_MAX] = { SG_STAT_LIST(SG_NAME_ENTRY) };
const char *const reason_names[SG_REASON_MAX] = { SG_REASON_LIST(SG_NAME_ENTRY) };

/*
 * @n counters of a per-CPU counter map, summed over the CPUs.  The map is
 * one entry holding every counter (struct sg_stat_vals), or, pinned by an
 * older synguard, one __u64 entry per counter; counters the map does not
 * have (appended since it was made) read 0.
 */
static int sum_percpu(int fd, __u32 n, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), have, k;
	__u64 *vals;
	int c;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	memset(out, 0, n * sizeof(*out));
	if (info.max_entries == 1 && info.value_size % 8 == 0) {
		/* Per CPU, the value is rounded up to 8 bytes: it is already. */
		have = info.value_size / 8;
		vals = calloc((size_t)ncpu * have, sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		k = 0;
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (c = 0; c < ncpu; c++)
			for (k = 0; k < have && k < n; k++)
				out[k] += vals[(size_t)c * have + k];
		free(vals);
		return 0;
	}
	if (info.value_size != sizeof(*vals))
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (n > info.max_entries)
		n = info.max_entries;
	for (k = 0; k < n; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		out[k] = 0;
		for (c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

int stats_read(int stats_fd, int drops_fd, struct sg_counters *out)
{
	int err = sum_percpu(stats_fd, SG_STAT_MAX, out->stat);

	return err ? err : sum_percpu(drops_fd, SG_REASON_MAX, out->reason);
}

double stats_rate(__u64 now, __u64 before, double secs)
{
	return secs > 0 && now >= before ? (now - before) / secs : 0;
}

static void print_header_text(FILE *f, const struct sg_source *src)
{
	char since[64] = "";

	if (src->file) {
		fprintf(f, "synguard replay of %s%s\n", src->file,
			src->dry_run ? " (dry-run)" : "");
		return;
	}
	if (src->meta) {
		time_t t = src->meta->attached_at;
		struct tm tm;

		strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S",
			 localtime_r(&t, &tm));
	}
	fprintf(f, "synguard on %s%s%s: %s, prog %u", src->ifname,
		src->netns[0] ? " netns " : "", src->netns,
		xdp_mode_name(src->meta ? src->meta->mode : 0), src->prog_id);
	chain_next_text(f, &src->next);
	fprintf(f, ", since %s%s\n", since, src->dry_run ? ", DRY-RUN" : "");
}

/* Every counter, one per line, and the drops by reason that are not 0. */
static void stats_text_all(FILE *f, const struct sg_source *src,
			   const struct sg_counters *c,
			   const struct sg_counters *prev, double secs)
{
	int i;

	fprintf(f, "  %-18s %14s%s\n", "counter", "total", prev ? "        per sec" : "");
	for (i = 0; i < SG_STAT_MAX; i++) {
		fprintf(f, "  %-18s %14llu", stats_names[i],
			(unsigned long long)c->stat[i]);
		if (prev)
			fprintf(f, " %14.1f", stats_rate(c->stat[i], prev->stat[i], secs));
		fputc('\n', f);
	}
	fprintf(f, "  drops by reason%s:\n", src->dry_run ? " (would drop)" : "");
	for (i = 0; i < SG_REASON_MAX; i++) {
		if (!c->reason[i] && !(prev && prev->reason[i]))
			continue;
		fprintf(f, "    %-16s %14llu", reason_names[i],
			(unsigned long long)c->reason[i]);
		if (prev)
			fprintf(f, " %14.1f", stats_rate(c->reason[i], prev->reason[i], secs));
		fputc('\n', f);
	}
}

/* "@sep label N", and its rate when there is one. */
static void glance_item(FILE *f, const char *sep, const char *label, __u64 now,
			const __u64 *before, double secs)
{
	fprintf(f, "%s%s %llu", sep, label, (unsigned long long)now);
	if (before)
		fprintf(f, " (%.1f/s)", stats_rate(now, *before, secs));
}

/*
 * What is happening, in a few lines: the frames and what became of them,
 * the drops by reason that are not 0; the flows, handshakes and attack
 * mode follow.  --all prints every counter instead.
 */
static void stats_text_glance(FILE *f, const struct sg_source *src,
			      const struct sg_counters *c,
			      const struct sg_counters *prev, double secs)
{
	const __u64 *ps = prev ? prev->stat : NULL, *pr = prev ? prev->reason : NULL;
	int drop = src->dry_run ? SG_WOULD_DROP : SG_DROP, i, n = 0;

	glance_item(f, "  ", "frames", c->stat[SG_FRAMES], ps ? &ps[SG_FRAMES] : NULL, secs);
	glance_item(f, ", ", "SYNs", c->stat[SG_TCP_SYN], ps ? &ps[SG_TCP_SYN] : NULL, secs);
	glance_item(f, ", ", src->dry_run ? "would drop" : "dropped", c->stat[drop],
		    ps ? &ps[drop] : NULL, secs);
	if (c->stat[SG_COOKIE_SENT] || (src->cookies && strcmp(src->cookies, "never")))
		glance_item(f, ", ", "SYN cookies sent", c->stat[SG_COOKIE_SENT],
			    ps ? &ps[SG_COOKIE_SENT] : NULL, secs);
	fprintf(f, "\n  drops by reason%s:", src->dry_run ? " (would drop)" : "");
	for (i = 0; i < SG_REASON_MAX; i++) {
		if (!c->reason[i] && !(pr && pr[i]))
			continue;
		glance_item(f, n++ ? ", " : " ", reason_names[i], c->reason[i], pr ? &pr[i] : NULL, secs);
	}
	fputs(n ? "\n" : " none\n", f);
}

/* The SYN cookie path: its mode, what went out, what came back. */
static void stats_text_cookies(FILE *f, const struct sg_source *src,
			       const struct sg_counters *c)
{
	fprintf(f, "  SYN cookies %s: sent %llu, valid %llu, invalid %llu, fallback %llu\n",
		src->cookies, (unsigned long long)c->stat[SG_COOKIE_SENT],
		(unsigned long long)c->stat[SG_COOKIE_VALID],
		(unsigned long long)c->reason[SG_R_COOKIE_INVALID],
		(unsigned long long)c->stat[SG_COOKIE_FALLBACK]);
}

void stats_print_text(FILE *f, const struct sg_source *src,
		      const struct sg_counters *c,
		      const struct sg_counters *prev, double secs, bool all)
{
	print_header_text(f, src);
	if (all)
		stats_text_all(f, src, c, prev, secs);
	else
		stats_text_glance(f, src, c, prev, secs);
	if (src->flows)
		flows_print_text(f, src->flows, c->stat, all);
	if (src->attack)
		attack_print_text(f, src->attack, src->cfg, c->stat);
	if (!all && src->cookies)
		stats_text_cookies(f, src, c);
	if (!all)
		fputs("  (--all prints every counter)\n", f);
	fflush(f);
}

static void json_counters(struct json *j, const char *key, const char *const *names,
			  const __u64 *v, int n)
{
	int i;

	json_obj_open(j, key);
	for (i = 0; i < n; i++)
		json_u64(j, names[i], v[i]);
	json_obj_close(j);
}

static void json_rates(struct json *j, const char *key, const char *const *names,
		       const __u64 *v, const __u64 *p, int n, double secs)
{
	int i;

	json_obj_open(j, key);
	for (i = 0; i < n; i++)
		json_double(j, names[i], stats_rate(v[i], p[i], secs));
	json_obj_close(j);
}

static void stats_json_source(struct json *j, const struct sg_source *src)
{
	if (src->file) {
		json_string(j, "file", src->file);
		return;
	}
	json_string(j, "interface", src->ifname);
	json_string(j, "netns", src->netns);
	json_string(j, "mode", xdp_mode_name(src->meta ? src->meta->mode : 0));
	json_u64(j, "prog_id", src->prog_id);
	json_u64(j, "attached_at", src->meta ? src->meta->attached_at : 0);
	chain_next_json(j, &src->next);
}

void stats_json(struct json *j, const struct sg_source *src,
		const struct sg_counters *c, const struct sg_counters *prev, double secs)
{
	json_u64(j, "time", time(NULL));
	stats_json_source(j, src);
	json_bool(j, "dry_run", src->dry_run);
	json_obj_open(j, "verdicts");
	json_u64(j, "pass", c->stat[SG_PASS]);
	json_u64(j, "drop", c->stat[SG_DROP]);
	json_u64(j, "would_drop", c->stat[SG_WOULD_DROP]);
	json_u64(j, "tx", c->stat[SG_COOKIE_SENT]);
	json_obj_close(j);
	if (src->cookies) {
		json_obj_open(j, "cookies");
		json_string(j, "mode", src->cookies);
		json_u64(j, "sent", c->stat[SG_COOKIE_SENT]);
		json_u64(j, "valid", c->stat[SG_COOKIE_VALID]);
		json_u64(j, "invalid", c->reason[SG_R_COOKIE_INVALID]);
		json_u64(j, "fallback", c->stat[SG_COOKIE_FALLBACK]);
		json_obj_close(j);
	}
	json_counters(j, "drops", reason_names, c->reason, SG_REASON_MAX);
	json_counters(j, "counters", stats_names, c->stat, SG_STAT_MAX);
	if (prev) {
		json_double(j, "interval", secs);
		json_obj_open(j, "rates");
		json_rates(j, "counters", stats_names, c->stat, prev->stat,
			   SG_STAT_MAX, secs);
		json_rates(j, "drops", reason_names, c->reason, prev->reason,
			   SG_REASON_MAX, secs);
		json_obj_close(j);
	}
	if (src->flows)
		flows_json(j, src->flows, c->stat);
	if (src->attack)
		attack_json(j, src->attack, src->cfg, c->stat);
	if (src->top)
		top_srcs_json(j, src->top);
}

void stats_print_json(FILE *f, const struct sg_source *src,
		      const struct sg_counters *c,
		      const struct sg_counters *prev, double secs)
{
	struct json j;

	json_init(&j, f);
	json_obj_open(&j, NULL);
	stats_json(&j, src, c, prev, secs);
	json_obj_close(&j);
	fputc('\n', f);
	fflush(f);
}

void stats_source(struct sg_source *src, const struct sg_target *t,
		  const struct sg_pins *p)
{
	memset(src, 0, sizeof(*src));
	src->ifname = t->ifname;
	src->netns = t->netns;
	src->meta = &p->meta;
	src->prog_id = p->prog_id;
	chain_next_read(t->dir, &src->next);
	src->dry_run = p->cfg.flags & SG_CFG_DRY_RUN;
	src->cfg = &p->cfg;
	src->cookies = cookie_mode_name(p->cfg.cookie_mode);
}
