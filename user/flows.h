/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_FLOWS_H
#define SYNGUARD_FLOWS_H

#include <stdbool.h>
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
	__u32 walk;		/* SG_WALK_*: how sg_flows was read */
	__u64 jiffies;		/* jiffies64 the walk aged the entries to */
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
/* The maps flows_read reads: an attachment's pins, or a skeleton's maps. */
struct sg_flow_maps {
	int half_fd, flows_fd, hist_fd, gauge_fd, gauge_base_fd;
	int walk_fd;	/* bpf/flow_walk.bpf.c loaded on these maps, or -1 */
};

struct flow_walk;
/*
 * bpf/flow_walk.bpf.c loaded with @m's maps reused (its program:
 * skel->progs.sg_walk); NULL with errno set.  `attach` pins it, so that
 * readers need not load it (libbpf parses the kernel's BTF for its kfunc:
 * 15 to 40 ms).  flow_walk__destroy() frees it.
 */
struct flow_walk *flows_walker(const struct sg_flow_maps *m);

/*
 * The gauges and latency histograms now.  @walk: 0, or SG_WALK_FULL to
 * walk sg_flows even where its gauges hold (benchmarks, tests).  0 or
 * -errno.
 */
int flows_read(const struct sg_flow_maps *m, const struct sg_config *cfg, __u32 walk,
	       struct sg_flow_summary *out);
/* tcp_synack_retries that @half_open_s stands for (2^(n+1) - 1 s), or 0. */
__u32 flows_synack_retries(__u32 half_open_s);
/* Upper bound in microseconds of the bucket holding the @pct percentile. */
__u64 flows_percentile(const __u64 *hist, double pct);
/* The gauges (every state with @all, else those with flows), handshakes, latency. */
void flows_print_text(FILE *f, const struct sg_flow_summary *s, const __u64 *stat, bool all);
struct json;
/* "flows", "handshakes", "closes" and "latency" into the object @j has open. */
void flows_json(struct json *j, const struct sg_flow_summary *s, const __u64 *stat);

#endif
