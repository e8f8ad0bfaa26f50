/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * top in three parts: top_data.c reads an attachment and computes the
 * rates, top_view.c renders a reading as text and paints it, top.c runs
 * the loop (the interval, keys, signals, the terminal).
 */
#ifndef SYNGUARD_TOP_H
#define SYNGUARD_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include "synguard.h"
#include "flows.h"
#include "pin.h"
#include "stats.h"


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

/* One reading of @p (sources from p->src_fd, p->over_fd if open); 0 or -errno. */
int top_read(const struct sg_pins *p, struct top_reading *r);
void top_srcs_free(struct top_srcs *s);
/*
 * SYN and drop rates of each source over @secs.  A source the last
 * reading did not have is new; one whose count went down was evicted and
 * came back, its count restarted from 0.
 */
void top_srcs_rates(struct top_srcs *cur, const struct top_srcs *prev, double secs);
/* The @max sources with the highest rates into @rank, busiest first; how many. */
size_t top_srcs_rank(const struct top_srcs *s, const struct top_src **rank, size_t max);

enum top_by {
	TOP_BY_SYN_RATE,	/* the SYN rate, then the drop rate, then the SYNs */
	TOP_BY_DROPS,		/* the drop rate, then the drops */
};
/*
 * The @max first sources @by into @rank; how many.  With @rates, by the
 * rates (only sources with one); without (a first reading), by the counts.
 */
size_t top_srcs_rank_by(const struct top_srcs *s, enum top_by by, bool rates,
			const struct top_src **rank, size_t max);
/*
 * Every entry of sg_src (p->src_fd), sorted by key, with the drops sg_over
 * (p->over_fd, if open) holds for them not yet folded in; 0 or -errno.
 */
int top_srcs_load(const struct sg_pins *p, struct top_srcs *out);
/* "198.18.0.0/24", or the address alone for a full-length prefix. */
void top_src_name(const struct top_src *s, char *buf, size_t len);

/*
 * The view as text, lines ending in '\n', NULL when out of memory; on a
 * live window shorter than @rows lines, without the histogram bars.
 */
char *top_render(struct top_view *v, size_t *len, int rows);
/*
 * Paints @text from the top left: each line cut to the width (one column
 * short, so no line ever wraps), no more lines than rows (so nothing
 * scrolls), the rest of each line and of the screen cleared; the first
 * line in reverse video.  0 or -errno.
 */
int top_paint(const char *text, size_t len);

#endif
