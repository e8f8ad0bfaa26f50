// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Attack mode as stats reports it. */
#include <stdbool.h>
#include <time.h>
#include "attack.h"
#include "detect.h"

#define NSEC 1000000000ULL

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC: turn one into Unix time. */
static double ktime_to_unix(__u64 ns)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return real.tv_sec + real.tv_nsec / 1e9 -
	       ((double)(mono.tv_sec * NSEC + mono.tv_nsec) - (double)ns) / 1e9;
}

/* Calls @fn for each logged transition, oldest first. */
static void for_each_log(const struct sg_attack *a,
			 void (*fn)(FILE *f, double at, bool entered, int n), FILE *f)
{
	int i, n = 0;

	for (i = 0; i < SG_ATTACK_LOG; i++) {
		__u64 v = a->log_ns[(a->log_next + i) % SG_ATTACK_LOG];

		if (v)
			fn(f, ktime_to_unix(v & ~1ULL), v & 1, n++);
	}
}

void attack_thresholds(const struct sg_attack *a, const struct sg_config *cfg,
		       struct attack_thresholds *t)
{
	static const char *const whys[] = { "", "syn_rate", "half_open", "syn_rate+half_open" };

	t->baseline = (double)a->baseline_fp / (1 << SG_AUTO_FP_SHIFT);
	if (cfg->flags & SG_CFG_AUTO_SYN_RATE) {
		t->syn_kind = "learned";
		t->syn_metric = "unanswered";
		/* Before the first window: what the program will start from. */
		t->syn = a->syn_threshold ? a->syn_threshold :
			 detect_threshold(a->baseline_fp, cfg->attack_syn_rate);
		t->syn_measured = a->unanswered;
	} else {
		t->syn_kind = cfg->attack_syn_rate ? "set" : "off";
		t->syn_metric = "all";
		t->syn = cfg->attack_syn_rate;
		t->syn_measured = a->last_rate;
	}
	t->half_open_kind = !cfg->attack_half_open ? "off" :
			    cfg->flags & SG_CFG_AUTO_HALF_OPEN ? "auto" : "set";
	t->half_open = cfg->attack_half_open;
	t->why = whys[a->why & 3];
}

void attack_thresholds_text(FILE *f, const struct attack_thresholds *t)
{
	if (t->syn && *t->syn_kind == 'l')
		fprintf(f, "SYN rate %llu unanswered SYNs/s (learned: baseline %.1f/s)",
			(unsigned long long)t->syn, t->baseline);
	else if (t->syn)
		fprintf(f, "SYN rate %llu SYNs/s (set)", (unsigned long long)t->syn);
	else
		fputs("SYN rate off", f);
	if (t->half_open)
		fprintf(f, ", half-open %llu (%s)", (unsigned long long)t->half_open,
			*t->half_open_kind == 'a' ? "auto: the host's SYN backlog" : "set");
	else
		fputs(", half-open off", f);
}

void attack_thresholds_line(FILE *f, const struct sg_attack *a, const struct sg_config *cfg)
{
	struct attack_thresholds t;

	attack_thresholds(a, cfg, &t);
	fputs("thresholds: ", f);
	attack_thresholds_text(f, &t);
	fprintf(f, "; last window %llu unanswered", (unsigned long long)a->unanswered);
	if (a->active && *t.why)
		fprintf(f, "; on by %s", t.why);
	fputc('\n', f);
}

static void log_text(FILE *f, double at, bool entered, int n)
{
	char buf[64];
	time_t t = (time_t)at;
	struct tm tm;

	(void)n;
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	fprintf(f, "    %s.%03d %s attack mode\n", buf, (int)((at - t) * 1000),
		entered ? "entered" : "left");
}

void attack_print_text(FILE *f, const struct sg_attack *a, const struct sg_config *cfg,
		       const __u64 *stat)
{
	fprintf(f, "  attack mode %s: last window %llu SYN/s, half-open estimate %llu; "
		"entered %llu, left %llu; proven %llu, admitted %llu\n",
		a->active ? "ON" : "off", (unsigned long long)a->last_rate,
		(unsigned long long)a->half_open_est,
		(unsigned long long)stat[SG_ATTACK_ENTERED],
		(unsigned long long)stat[SG_ATTACK_LEFT],
		(unsigned long long)stat[SG_ATTACK_PROVEN],
		(unsigned long long)stat[SG_ATTACK_ADMITTED]);
	if (cfg) {
		fputs("  ", f);
		attack_thresholds_line(f, a, cfg);
	}
	for_each_log(a, log_text, f);
}

static void log_json(FILE *f, double at, bool entered, int n)
{
	fprintf(f, "%s{\"at\":%.3f,\"event\":\"%s\"}", n ? "," : "", at,
		entered ? "entered" : "left");
}

void attack_print_json(FILE *f, const struct sg_attack *a, const struct sg_config *cfg,
		       const __u64 *stat)
{
	struct attack_thresholds t;

	fprintf(f, "\"attack\":{\"active\":%s,\"syn_rate\":%llu,\"half_open_estimate\":%llu,"
		"\"entered\":%llu,\"left\":%llu,\"proven\":%llu,\"admitted\":%llu,\"log\":[",
		a->active ? "true" : "false", (unsigned long long)a->last_rate,
		(unsigned long long)a->half_open_est,
		(unsigned long long)stat[SG_ATTACK_ENTERED],
		(unsigned long long)stat[SG_ATTACK_LEFT],
		(unsigned long long)stat[SG_ATTACK_PROVEN],
		(unsigned long long)stat[SG_ATTACK_ADMITTED]);
	for_each_log(a, log_json, f);
	fprintf(f, "],\"unanswered\":%llu", (unsigned long long)a->unanswered);
	if (cfg) {
		attack_thresholds(a, cfg, &t);
		fprintf(f, ",\"why\":\"%s\",\"thresholds\":{\"syn_rate\":%llu,"
			"\"syn_rate_kind\":\"%s\",\"syn_rate_judges\":\"%s\","
			"\"syn_baseline\":%.3f,\"half_open\":%llu,\"half_open_kind\":\"%s\"}",
			a->active ? t.why : "", (unsigned long long)t.syn, t.syn_kind,
			t.syn_metric, t.baseline, (unsigned long long)t.half_open,
			t.half_open_kind);
	}
	fputc('}', f);
}
