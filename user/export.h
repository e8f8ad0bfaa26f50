/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_EXPORT_H
#define SYNGUARD_EXPORT_H

#include <stdio.h>
#include <linux/types.h>
#include "flows.h"
#include "pin.h"
#include "stats.h"
#include "top_srcs.h"

/*
 * What a scrape reads: the attachment behind IFACE, while there is one.
 * Zeroed, then t from attachment_open(); export_metrics() opens and
 * follows the pins, export_drop() closes them.
 */
struct exporter {
	struct sg_target t;
	struct sg_pins p;	/* open when link_id != 0 */
	struct sg_source src;
	__u32 link_id;		/* of p.link_fd; 0: nothing open */
	int shown_err;		/* what the log last said: exp_follow's answer */
	__u32 shown_prog;	/* ... and the program then */
	struct top_srcs_reader top;	/* the last reading of sg_src, for rates */
};

/* export --top N: sources in each top list (TOP_SRCS_DEFAULT). */
extern size_t export_top_n;

/*
 * One exposition into @f, of the attachment pinned now: a re-attach is
 * followed, and with nothing attached it is `synguard_up 0` alone.  0, or
 * -errno when the maps could not be read (nothing written then).
 */
int export_metrics(FILE *f, struct exporter *e);
void export_drop(struct exporter *e);

/* The metrics, in the Prometheus text format 0.0.4. */
void export_write(FILE *f, const struct sg_source *src, const struct sg_counters *c,
		  const struct sg_flow_summary *fl);

/*
 * export IFACE --textfile DIR: writes DIR/synguard_IFACE.prom for
 * node-exporter's textfile collector, atomically, every @interval seconds
 * (0: back to back), @count times (0: until SIGINT/SIGTERM).  EXIT_* code.
 */
int export_textfile(const char *ifname, const char *dir, double interval, __u64 count);

#endif
