/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_FLOWS_H
#define SYNGUARD_FLOWS_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "synguard.h"

/* A SYN_SENT flow is given up after tcp_syn_retries 6: 1+2+...+64 s. */
#define FLOWS_SYN_SENT_S 127

extern const char *const state_names[SG_TCP_STATE_MAX];
extern const char *const hist_names[SG_HIST_MAX];

/*
 * The flow tables as they are now: gauges derived from the live maps with
 * the timeouts applied, so they are exact whatever the LRU evicted.
 */
struct sg_flow_summary {
	__u64 state[SG_TCP_STATE_MAX];
	__u64 half_entries;	/* entries in sg_half, expired included */
	__u64 flow_entries;	/* entries in sg_flows, expired included */
	__u64 hist[SG_HIST_MAX][SG_HIST_BUCKETS];
	__u64 hist_sum_ns[SG_HIST_MAX];
	__u32 half_max, flows_max;
};

/* Handshakes neither completed nor in progress: reset, expired, evicted. */
__u64 flows_failed(const struct sg_flow_summary *s, const __u64 *stat);
/*
 * Every entry of a hash map, by batch lookups: @fn gets each batch of
 * keys and values; its non-zero return ends the walk.  0 or -errno.
 */
int map_walk(int fd, size_t key_size, size_t value_size,
	     int (*fn)(const void *keys, const void *vals, __u32 n, void *arg),
	     void *arg);
int flows_read(int half_fd, int flows_fd, int hist_fd, const struct sg_config *cfg,
	       struct sg_flow_summary *out);
/* Upper bound in microseconds of the bucket holding the @pct percentile. */
__u64 flows_percentile(const __u64 *hist, double pct);
void flows_print_text(FILE *f, const struct sg_flow_summary *s, const __u64 *stat);
void flows_print_json(FILE *f, const struct sg_flow_summary *s, const __u64 *stat);

#endif
