/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_USER_STATS_H
#define SYNGUARD_USER_STATS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "synguard.h"
#include "chain.h"
#include "flows.h"

extern const char *const stats_names[SG_STAT_MAX];
extern const char *const reason_names[SG_REASON_MAX];

struct top_srcs_reader;

/* One reading of every counter, summed over the CPUs. */
struct sg_counters {
	__u64 stat[SG_STAT_MAX];
	__u64 reason[SG_REASON_MAX];
};

/* Where a report comes from, for its header. */
struct sg_source {
	const char *ifname;	/* NULL for a replay */
	const char *netns;	/* "" for the initial netns */
	const char *file;	/* the pcap, for a replay */
	const struct sg_meta *meta;	/* NULL for a replay */
	__u32 prog_id;
	struct chain_next next;	/* what runs after synguard */
	bool dry_run;
	const char *cookies;	/* cookie mode; NULL for a replay */
	const struct sg_flow_summary *flows;	/* NULL: no flow section */
	const struct sg_attack *attack;	/* NULL: no attack section */
	const struct sg_config *cfg;	/* the policy; NULL: thresholds not shown */
	const struct top_srcs_reader *top;	/* NULL: no top sources */
};

struct sg_target;
struct sg_pins;
/* A report header for the attachment @t opened as @p. */
void stats_source(struct sg_source *src, const struct sg_target *t,
		  const struct sg_pins *p);
int stats_read(int stats_fd, int drops_fd, struct sg_counters *out);
/* Reports; @prev and @secs are NULL/0 for a one-shot report without rates. */
/*
 * A counter's rate between two readings @secs apart; 0 when the counter
 * went down (its maps were replaced: a re-attach), never the 2^64 wrap.
 */
double stats_rate(__u64 now, __u64 before, double secs);
/*
 * A report for a person: what is happening at a glance, or with @all
 * every counter.
 */
void stats_print_text(FILE *f, const struct sg_source *src,
		      const struct sg_counters *c,
		      const struct sg_counters *prev, double secs, bool all);
/* One JSON object on one line. */
void stats_print_json(FILE *f, const struct sg_source *src,
		      const struct sg_counters *c,
		      const struct sg_counters *prev, double secs);
struct json;
/* The members of such a report, into the object @j has open. */
void stats_json(struct json *j, const struct sg_source *src,
		const struct sg_counters *c, const struct sg_counters *prev, double secs);

#endif
