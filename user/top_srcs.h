/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The sources of sg_src as `top` reads and ranks them (top_data.c), for
 * `stats --json` and the exporter: the top N by SYN rate and by drops, N
 * bounded so a flood of a million sources never makes a million time
 * series.
 */
#ifndef SYNGUARD_TOP_SRCS_H
#define SYNGUARD_TOP_SRCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "synguard.h"
#include "top.h"

#define TOP_SRCS_DEFAULT 10	/* --top N: sources in each list */
#define TOP_SRCS_MAX 1000

/*
 * A reading of an attachment's sources, for stats and export: the last
 * one kept for the rates.
 */
struct top_srcs_reader {
	struct top_srcs cur, prev;
	double at;		/* now_mono() of cur; 0: none yet */
	double secs;		/* between prev and cur; 0: no rates */
	size_t n;		/* sources in each list */
};

/* --top N into @n: EXIT_OK, or EXIT_USAGE after saying why. */
int top_srcs_opt(const char *arg, size_t *n);
/* A new reading of the sources of @p: 0 or -errno. */
int top_srcs_update(struct top_srcs_reader *r, const struct sg_pins *p);
void top_srcs_reader_free(struct top_srcs_reader *r);
struct json;
/* "top_sources":{...} of the last reading, for stats --json. */
void top_srcs_json(struct json *j, const struct top_srcs_reader *r);
/* The synguard_top_source_* metrics (the union of both lists). */
void top_srcs_prom(FILE *f, const struct top_srcs_reader *r);

#endif
