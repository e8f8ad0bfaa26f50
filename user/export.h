/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_EXPORT_H
#define SYNGUARD_EXPORT_H

#include <stdio.h>
#include <linux/types.h>
#include "flows.h"
#include "pin.h"
#include "stats.h"

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
