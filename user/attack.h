/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_ATTACK_H
#define SYNGUARD_ATTACK_H

#include <stdio.h>
#include <linux/types.h>
#include "synguard.h"

/* The thresholds in force, as reports show them. */
struct attack_thresholds {
	const char *syn_kind;	/* "learned" (auto), "set" or "off" */
	const char *syn_metric;	/* what it judges: "unanswered" or "all" SYNs/s */
	__u64 syn;		/* SYNs/s; 0: off */
	__u64 syn_measured;	/* the last window's value of what it judges */
	double baseline;	/* learned unanswered SYNs/s (auto) */
	const char *half_open_kind;	/* "auto" (the host's backlog), "set" or "off" */
	__u64 half_open;
	const char *why;	/* the threshold(s) last over: "syn_rate", ... or "" */
};

void attack_thresholds(const struct sg_attack *a, const struct sg_config *cfg,
		       struct attack_thresholds *t);
/* "THRESHOLD (KIND, ...)" phrases for text reports. */
void attack_thresholds_text(FILE *f, const struct attack_thresholds *t);
/* "thresholds: ...; last window N unanswered[; on by WHY]\n" */
void attack_thresholds_line(FILE *f, const struct sg_attack *a, const struct sg_config *cfg);

/*
 * The attack-mode state, the thresholds in force (@cfg: the policy; NULL
 * leaves them out), its transitions in order, as wall-clock times.
 */
void attack_print_text(FILE *f, const struct sg_attack *a, const struct sg_config *cfg,
		       const __u64 *stat);
struct json;
/* "attack" into the object @j has open. */
void attack_json(struct json *j, const struct sg_attack *a, const struct sg_config *cfg,
		 const __u64 *stat);

#endif
