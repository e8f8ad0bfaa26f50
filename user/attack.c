// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Attack mode as stats reports it. */
#include <stdbool.h>
#include <time.h>
#include "attack.h"
#include "detect.h"
#include "json.h"

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
			 void (*fn)(void *arg, double at, bool entered), void *arg)
{
	int i;

	for (i = 0; i < SG_ATTACK_LOG; i++) {
		__u64 v = a->log_ns[(a->log_next + i) % SG_ATTACK_LOG];

		if (v)
			fn(arg, ktime_to_unix(v & ~1ULL), v & 1);
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

static void log_text(void *arg, double at, bool entered)
{
	FILE *f = arg;
	char buf[64];
	time_t t = (time_t)at;
	struct tm tm;

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

static void log_json(void *arg, double at, bool entered)
{
	struct json *j = arg;

	json_obj_open(j, NULL);
	json_double(j, "at", at);
	json_string(j, "event", entered ? "entered" : "left");
	json_obj_close(j);
}

void attack_json(struct json *j, const struct sg_attack *a, const struct sg_config *cfg,
		 const __u64 *stat)
{
	struct attack_thresholds t;

	json_obj_open(j, "attack");
	json_bool(j, "active", a->active);
	json_u64(j, "syn_rate", a->last_rate);
	json_u64(j, "half_open_estimate", a->half_open_est);
	json_u64(j, "entered", stat[SG_ATTACK_ENTERED]);
	json_u64(j, "left", stat[SG_ATTACK_LEFT]);
	json_u64(j, "proven", stat[SG_ATTACK_PROVEN]);
	json_u64(j, "admitted", stat[SG_ATTACK_ADMITTED]);
	json_arr_open(j, "log");
	for_each_log(a, log_json, j);
	json_arr_close(j);
	json_u64(j, "unanswered", a->unanswered);
	if (cfg) {
		attack_thresholds(a, cfg, &t);
		json_string(j, "why", a->active ? t.why : "");
		json_obj_open(j, "thresholds");
		json_u64(j, "syn_rate", t.syn);
		json_string(j, "syn_rate_kind", t.syn_kind);
		json_string(j, "syn_rate_judges", t.syn_metric);
		json_double(j, "syn_baseline", t.baseline);
		json_u64(j, "half_open", t.half_open);
		json_string(j, "half_open_kind", t.half_open_kind);
		json_obj_close(j);
	}
	json_obj_close(j);
}
