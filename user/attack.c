// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Attack mode as stats reports it. */
#include <stdbool.h>
#include <time.h>
#include "attack.h"

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

void attack_print_text(FILE *f, const struct sg_attack *a, const __u64 *stat)
{
	fprintf(f, "  attack mode %s: last window %llu SYN/s, half-open estimate %llu; "
		"entered %llu, left %llu; proven %llu, admitted %llu\n",
		a->active ? "ON" : "off", (unsigned long long)a->last_rate,
		(unsigned long long)a->half_open_est,
		(unsigned long long)stat[SG_ATTACK_ENTERED],
		(unsigned long long)stat[SG_ATTACK_LEFT],
		(unsigned long long)stat[SG_ATTACK_PROVEN],
		(unsigned long long)stat[SG_ATTACK_ADMITTED]);
	for_each_log(a, log_text, f);
}

static void log_json(FILE *f, double at, bool entered, int n)
{
	fprintf(f, "%s{\"at\":%.3f,\"event\":\"%s\"}", n ? "," : "", at,
		entered ? "entered" : "left");
}

void attack_print_json(FILE *f, const struct sg_attack *a, const __u64 *stat)
{
	fprintf(f, "\"attack\":{\"active\":%s,\"syn_rate\":%llu,\"half_open_estimate\":%llu,"
		"\"entered\":%llu,\"left\":%llu,\"proven\":%llu,\"admitted\":%llu,\"log\":[",
		a->active ? "true" : "false", (unsigned long long)a->last_rate,
		(unsigned long long)a->half_open_est,
		(unsigned long long)stat[SG_ATTACK_ENTERED],
		(unsigned long long)stat[SG_ATTACK_LEFT],
		(unsigned long long)stat[SG_ATTACK_PROVEN],
		(unsigned long long)stat[SG_ATTACK_ADMITTED]);
	for_each_log(a, log_json, f);
	fputs("]}", f);
}
