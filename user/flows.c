// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flow gauges and handshake latency, from the pinned flow maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "flows.h"
#include "json.h"
#include "flow_walk.skel.h"

#define SG_STATE_NAME(id, name) name,
const char *const state_names[SG_TCP_STATE_MAX] = { SG_STATE_LIST(SG_STATE_NAME) };

#define BATCH 4096
#define NSEC 1000000000ULL

int map_walk(int fd, size_t key_size, size_t value_size,
	     int (*fn)(const void *keys, const void *vals, __u32 n, void *arg),
	     void *arg)
{
	void *keys = calloc(BATCH, key_size), *vals = calloc(BATCH, value_size);
	bool first = true, done = false;
	__u32 batch = 0, count;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!done && !err) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		count = BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals,
					 &count, &opts)) {
			err = -errno;
			if (err != -ENOENT)
				break;
			err = 0;	/* the last, partial batch */
			done = true;
		}
		first = false;
		if (count)
			err = fn(keys, vals, count, arg);
	}
out:
	free(keys);
	free(vals);
	return err;
}

struct flow_walk *flows_walker(const struct sg_flow_maps *m)
{
	struct flow_walk *skel = flow_walk__open();
	int err;

	if (!skel)
		return NULL;
	err = bpf_map__reuse_fd(skel->maps.sg_half, m->half_fd) ?:
	      bpf_map__reuse_fd(skel->maps.sg_flows, m->flows_fd) ?:
	      bpf_map__reuse_fd(skel->maps.sg_gauge, m->gauge_fd) ?:
	      bpf_map__reuse_fd(skel->maps.sg_gauge_base, m->gauge_base_fd) ?:
	      flow_walk__load(skel);
	if (err) {
		flow_walk__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

/*
 * The kernel's HZ, from the coarse clock's resolution (one tick), or 0.
 */
static __u32 kernel_hz(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) || res.tv_sec || !res.tv_nsec)
		return 0;
	return (__u32)((NSEC + res.tv_nsec / 2) / res.tv_nsec);
}

/*
 * The tcp_synack_retries a half_open_timeout stands for: n when it is
 * 2^(n+1) - 1 s (the default, read from the sysctl at attach, is), else
 * 0, and half-open flows age by the timeout alone.
 */
__u32 flows_synack_retries(__u32 half_open_s)
{
	__u32 n;

	for (n = 1; n <= SG_REQSK_RETRIES_MAX; n++)
		if (half_open_s == (1U << (n + 1)) - 1)
			return n;
	return 0;
}

/*
 * Runs bpf/flow_walk.bpf.c on the flow tables: it counts their live
 * entries by state in the kernel (sg_flows' from its gauges where they
 * hold) and removes the expired ones.  An attachment has it pinned
 * (m->walk_fd); otherwise it is loaded here, 15 to 40 ms.  0 or -errno.
 */
static int walk_flows(const struct sg_flow_maps *m, const struct sg_config *cfg,
		      __u32 walk, struct sg_flow_summary *out)
{
	struct sg_walk w = { .half_open_ns = cfg->half_open_s * NSEC,
			     .syn_sent_ns = FLOWS_SYN_SENT_S * NSEC,
			     .time_wait_ns = cfg->time_wait_s * NSEC,
			     .ncpu = libbpf_num_possible_cpus(), .flags = walk,
			     .hz = kernel_hz(),
			     .synack_retries = flows_synack_retries(cfg->half_open_s) };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &w, .ctx_size_in = sizeof(w));
	struct flow_walk *skel = NULL;
	int err = 0, i, prog = m->walk_fd;

	if ((int)w.ncpu <= 0)
		return -EINVAL;
	if (prog < 0) {
		skel = flows_walker(m);
		if (!skel)
			return -errno;
		prog = bpf_program__fd(skel->progs.sg_walk);
	}
	if (bpf_prog_test_run_opts(prog, &o))
		err = -errno;
	else if (o.retval)
		err = -EINVAL;	/* sg_gauge_base has no entry: not our maps */
	flow_walk__destroy(skel);
	if (err)
		return err;
	for (i = 0; i < SG_TCP_STATE_MAX; i++)
		out->state[i] = w.state[i];
	out->half_entries = w.half_entries;
	out->flow_entries = w.flow_entries;
	out->walk = w.flags;
	out->jiffies = w.jiffies;
	return 0;
}

/*
 * Are the entries of the flow table @fd what this synguard reads?  An
 * attachment made by an older one outlives it with its own layout (pinned
 * maps): the walk would read its fields at the wrong offsets.
 */
static int flows_layout(int fd, size_t value_size, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size != sizeof(struct sg_flow_key) || info.value_size != value_size) {
		err_msg("flow table %s has %u/%u-byte entries, this synguard reads %zu/%zu: "
			"attached by another version? attach --force replaces it",
			info.name, info.key_size, info.value_size,
			sizeof(struct sg_flow_key), value_size);
		return -EPROTO;
	}
	*max_entries = info.max_entries;
	return 0;
}

int flows_read(const struct sg_flow_maps *m, const struct sg_config *cfg, __u32 walk,
	       struct sg_flow_summary *out)
{
	int ncpu = libbpf_num_possible_cpus(), err, c;
	__u32 k;
	__u64 *vals;

	memset(out, 0, sizeof(*out));
	err = flows_layout(m->half_fd, sizeof(struct sg_flow), &out->half_max) ?:
	      flows_layout(m->flows_fd, sizeof(struct sg_conn), &out->flows_max);
	if (!err && (m->gauge_fd < 0 || m->gauge_base_fd < 0)) {
		err_msg("the attachment has no flow gauges (sg_gauge): attached by another "
			"version? attach --force replaces it");
		err = -EPROTO;
	}
	if (!err)
		err = walk_flows(m, cfg, walk, out);
	if (err)
		return err;
	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < SG_HIST_ENTRIES; k++) {
		__u64 sum = 0;

		if (bpf_map_lookup_elem(m->hist_fd, &k, vals)) {
			err = -errno;
			break;
		}
		for (c = 0; c < ncpu; c++)
			sum += vals[c];
		if (k < SG_HIST_MAX * SG_HIST_BUCKETS)
			out->hist[k / SG_HIST_BUCKETS][k % SG_HIST_BUCKETS] = sum;
		else
			out->hist_sum_ns[k - SG_HIST_MAX * SG_HIST_BUCKETS] = sum;
	}
	free(vals);
	return err;
}

__u64 flows_percentile(const __u64 *hist, double pct)
{
	__u64 total = 0, seen = 0;
	int b;

	for (b = 0; b < SG_HIST_BUCKETS; b++)
		total += hist[b];
	if (!total)
		return 0;
	for (b = 0; b < SG_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen * 100.0 >= pct * total)
			break;
	}
	/* Bucket b holds log2(us + 1) == b: us < 2^(b+1) - 1. */
	return (1ULL << (b + 1)) - 1;
}

static __u64 hist_total(const __u64 *h)
{
	__u64 t = 0;
	int b;

	for (b = 0; b < SG_HIST_BUCKETS; b++)
		t += h[b];
	return t;
}

__u64 flows_failed(const struct sg_flow_summary *s, const __u64 *stat)
{
	__u64 live = s->state[SG_TCP_SYN_SENT] + s->state[SG_TCP_SYN_SEEN] +
		     s->state[SG_TCP_SYN_RCVD];
	__u64 done = stat[SG_FLOW_COMPLETED] + live;

	return stat[SG_FLOW_SYN] > done ? stat[SG_FLOW_SYN] - done : 0;
}

static __u64 time_wait(const struct sg_flow_summary *s)
{
	return s->state[SG_TCP_TIME_WAIT] + s->state[SG_TCP_REMOTE_TIME_WAIT];
}

const char *const hist_names[SG_HIST_MAX] = { "syn_to_synack_us",
						     "synack_to_ack_us" };

/* The states that have flows, on one line: "    half_open 3, established 2". */
static void flows_text_nonzero(FILE *f, const struct sg_flow_summary *s)
{
	int i, n = 0;

	for (i = SG_TCP_SYN_SENT; i < SG_TCP_STATE_MAX; i++)
		if (s->state[i])
			fprintf(f, "%s%s %llu", n++ ? ", " : "    ", state_names[i],
				(unsigned long long)s->state[i]);
	fputs(n ? "\n" : "    none\n", f);
}

void flows_print_text(FILE *f, const struct sg_flow_summary *s, const __u64 *stat, bool all)
{
	int i;

	fprintf(f, "  flows now (%llu of %u half-open slots, %llu of %u flow slots used):\n",
		(unsigned long long)s->half_entries, s->half_max,
		(unsigned long long)s->flow_entries, s->flows_max);
	for (i = SG_TCP_SYN_SENT; all && i < SG_TCP_STATE_MAX; i++)
		fprintf(f, "    %-18s %12llu\n", state_names[i],
			(unsigned long long)s->state[i]);
	if (!all)
		flows_text_nonzero(f, s);
	fprintf(f, "  handshakes: %llu started, %llu completed, %llu failed "
		"(%llu reset), %llu SYN and %llu SYN-ACK retransmits\n",
		(unsigned long long)stat[SG_FLOW_SYN],
		(unsigned long long)stat[SG_FLOW_COMPLETED],
		(unsigned long long)flows_failed(s, stat),
		(unsigned long long)stat[SG_FLOW_HS_RESET],
		(unsigned long long)stat[SG_FLOW_SYN_RETRANS],
		(unsigned long long)stat[SG_FLOW_SYNACK_RETRANS]);
	for (i = 0; i < SG_HIST_MAX; i++)
		fprintf(f, "  %-18s p50 <%llu  p90 <%llu  p99 <%llu  (%llu samples)\n",
			hist_names[i], (unsigned long long)flows_percentile(s->hist[i], 50),
			(unsigned long long)flows_percentile(s->hist[i], 90),
			(unsigned long long)flows_percentile(s->hist[i], 99),
			(unsigned long long)hist_total(s->hist[i]));
}

/* The "handshakes" and "closes" objects: a key and its counter (-1: failed). */
struct json_stat {
	const char *name;
	int stat;
};

static const struct json_stat json_handshakes[] = {
	{ "started", SG_FLOW_SYN },
	{ "completed", SG_FLOW_COMPLETED },
	{ "failed", -1 },
	{ "reset", SG_FLOW_HS_RESET },
	{ "syn_retrans", SG_FLOW_SYN_RETRANS },
	{ "synack_retrans", SG_FLOW_SYNACK_RETRANS },
	{ "unexpected_synack", SG_FLOW_UNEXPECTED_SYNACK },
	{ "unexpected_ack", SG_FLOW_UNEXPECTED_ACK },
	{ "tfo", SG_FLOW_TFO },
	{ "simultaneous_open", SG_FLOW_SIMUL_OPEN },
	{ NULL }
};

static const struct json_stat json_closes[] = {
	{ "graceful", SG_FLOW_CLOSED_FIN },
	{ "reset", SG_FLOW_CLOSED_RST },
	{ "picked_up", SG_FLOW_PICKED_UP },
	{ "table_full", SG_FLOW_TABLE_FULL },
	{ NULL }
};

void flows_json(struct json *j, const struct sg_flow_summary *s, const __u64 *stat)
{
	const struct json_stat *k;
	int i, b;

	json_obj_open(j, "flows");
	for (i = SG_TCP_SYN_SENT; i < SG_TCP_STATE_MAX; i++)
		json_u64(j, state_names[i], s->state[i]);
	json_u64(j, "time_wait_total", time_wait(s));
	json_u64(j, "half_open_entries", s->half_entries);
	json_u64(j, "half_open_max", s->half_max);
	json_u64(j, "flow_entries", s->flow_entries);
	json_u64(j, "flows_max", s->flows_max);
	json_obj_close(j);
	json_obj_open(j, "handshakes");
	for (k = json_handshakes; k->name; k++)
		json_u64(j, k->name, k->stat < 0 ? flows_failed(s, stat) : stat[k->stat]);
	json_obj_close(j);
	json_obj_open(j, "closes");
	for (k = json_closes; k->name; k++)
		json_u64(j, k->name, stat[k->stat]);
	json_obj_close(j);
	json_obj_open(j, "latency");
	for (i = 0; i < SG_HIST_MAX; i++) {
		json_obj_open(j, hist_names[i]);
		json_u64(j, "samples", hist_total(s->hist[i]));
		json_u64(j, "p50", flows_percentile(s->hist[i], 50));
		json_u64(j, "p90", flows_percentile(s->hist[i], 90));
		json_u64(j, "p99", flows_percentile(s->hist[i], 99));
		json_arr_open(j, "log2_buckets");
		for (b = 0; b < SG_HIST_BUCKETS; b++)
			json_u64(j, NULL, s->hist[i][b]);
		json_arr_close(j);
		json_obj_close(j);
	}
	json_obj_close(j);
}
