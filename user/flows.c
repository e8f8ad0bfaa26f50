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

#define SG_STATE_NAME(id, name) name,
const char *const state_names[SG_TCP_STATE_MAX] = { SG_STATE_LIST(SG_STATE_NAME) };

#define BATCH 4096
#define NSEC 1000000000ULL

static __u64 mono_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* An entry of sg_half (@half) or of sg_flows: its state, if it counts now. */
static int live_state(const void *v, bool half, const struct sg_config *cfg, __u64 now)
{
	const struct sg_flow *f = v;
	const struct sg_conn *c = v;
	bool gone = false;
	int state;

	state = half ? f->state : c->state;
	switch (state) {
	case SG_TCP_SYN_RCVD:
		gone = now - f->synack_ns >= cfg->half_open_s * NSEC;
		break;
	case SG_TCP_SYN_SEEN:
		gone = now - f->syn_ns >= cfg->half_open_s * NSEC;
		break;
	case SG_TCP_SYN_SENT:
		gone = now - f->syn_ns >= FLOWS_SYN_SENT_S * NSEC;
		break;
	case SG_TCP_TIME_WAIT:
	case SG_TCP_REMOTE_TIME_WAIT:
		/* Ticks wrap: their unsigned difference is the age. */
		gone = ((__u64)(__u32)((now >> SG_TICK_SHIFT) - c->last) << SG_TICK_SHIFT) >=
		       cfg->time_wait_s * NSEC;
		break;
	}
	return gone ? -1 : state;
}

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

/* What count_map() gathers as map_walk() hands it batches. */
struct count_ctx {
	const struct sg_config *cfg;
	__u64 now, *states, *entries;
	size_t value_size;
	bool half;			/* sg_half (struct sg_flow), else sg_flows */
	struct sg_flow_key *dead;	/* expired: removed after the walk */
	__u64 ndead, cap;
};

static int count_batch(const void *keys, const void *vals, __u32 n, void *arg)
{
	const struct sg_flow_key *k = keys;
	struct count_ctx *c = arg;
	__u32 i;

	for (i = 0; i < n; i++) {
		int state = live_state((const char *)vals + i * c->value_size, c->half,
				       c->cfg, c->now);

		(*c->entries)++;
		if (state >= SG_TCP_STATE_MAX)
			continue;
		if (state >= 0) {
			c->states[state]++;
			continue;
		}
		if (c->ndead == c->cap) {
			__u64 want = c->cap ? c->cap * 2 : BATCH;
			struct sg_flow_key *more = realloc(c->dead, want * sizeof(*more));

			if (!more)
				continue;	/* counted right; removed next time */
			c->dead = more;
			c->cap = want;
		}
		c->dead[c->ndead++] = k[i];
	}
	return 0;
}

/*
 * Counts the live entries of one map by state, and removes the expired
 * ones it found (after the walk: deleting under a batch cursor would move
 * it).  The program never runs on a flow that has gone quiet, so this is
 * where expired flows leave the tables.  0 or -errno.
 */
static int count_map(int fd, bool half, const struct sg_config *cfg, __u64 *states,
		     __u64 *entries)
{
	struct count_ctx c = { .cfg = cfg, .now = mono_ns(), .states = states,
			       .entries = entries, .half = half,
			       .value_size = half ? sizeof(struct sg_flow) : sizeof(struct sg_conn) };
	int err = map_walk(fd, sizeof(struct sg_flow_key), c.value_size, count_batch, &c);
	__u64 i;

	for (i = 0; i < c.ndead; i++)
		bpf_map_delete_elem(fd, &c.dead[i]);
	free(c.dead);
	return err;
}

/*
 * Are the entries of the flow table @fd what this synguard reads?  An
 * attachment made by an older one outlives it with its own layout (pinned
 * maps), and a batch lookup would write its larger values past our buffers.
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

int flows_read(int half_fd, int flows_fd, int hist_fd, const struct sg_config *cfg,
	       struct sg_flow_summary *out)
{
	int ncpu = libbpf_num_possible_cpus(), err, c;
	__u32 k;
	__u64 *vals;

	memset(out, 0, sizeof(*out));
	err = flows_layout(half_fd, sizeof(struct sg_flow), &out->half_max) ?:
	      flows_layout(flows_fd, sizeof(struct sg_conn), &out->flows_max);
	if (err)
		return err;
	err = count_map(half_fd, true, cfg, out->state, &out->half_entries);
	if (!err)
		err = count_map(flows_fd, false, cfg, out->state, &out->flow_entries);
	if (err)
		return err;
	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < SG_HIST_ENTRIES; k++) {
		__u64 sum = 0;

		if (bpf_map_lookup_elem(hist_fd, &k, vals)) {
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

void flows_print_text(FILE *f, const struct sg_flow_summary *s, const __u64 *stat)
{
	int i;

	fprintf(f, "  flows now (%llu of %u half-open slots, %llu of %u flow slots used):\n",
		(unsigned long long)s->half_entries, s->half_max,
		(unsigned long long)s->flow_entries, s->flows_max);
	for (i = SG_TCP_SYN_SENT; i < SG_TCP_STATE_MAX; i++)
		fprintf(f, "    %-18s %12llu\n", state_names[i],
			(unsigned long long)s->state[i]);
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

void flows_print_json(FILE *f, const struct sg_flow_summary *s, const __u64 *stat)
{
	int i, b;

	fputs("\"flows\":{", f);
	for (i = SG_TCP_SYN_SENT; i < SG_TCP_STATE_MAX; i++)
		fprintf(f, "\"%s\":%llu,", state_names[i], (unsigned long long)s->state[i]);
	fprintf(f, "\"time_wait_total\":%llu,\"half_open_entries\":%llu,"
		"\"half_open_max\":%u,\"flow_entries\":%llu,\"flows_max\":%u}",
		(unsigned long long)time_wait(s), (unsigned long long)s->half_entries,
		s->half_max, (unsigned long long)s->flow_entries, s->flows_max);
	fprintf(f, ",\"handshakes\":{\"started\":%llu,\"completed\":%llu,\"failed\":%llu,"
		"\"reset\":%llu,\"syn_retrans\":%llu,\"synack_retrans\":%llu,"
		"\"unexpected_synack\":%llu,\"unexpected_ack\":%llu,\"tfo\":%llu,"
		"\"simultaneous_open\":%llu}",
		(unsigned long long)stat[SG_FLOW_SYN],
		(unsigned long long)stat[SG_FLOW_COMPLETED],
		(unsigned long long)flows_failed(s, stat),
		(unsigned long long)stat[SG_FLOW_HS_RESET],
		(unsigned long long)stat[SG_FLOW_SYN_RETRANS],
		(unsigned long long)stat[SG_FLOW_SYNACK_RETRANS],
		(unsigned long long)stat[SG_FLOW_UNEXPECTED_SYNACK],
		(unsigned long long)stat[SG_FLOW_UNEXPECTED_ACK],
		(unsigned long long)stat[SG_FLOW_TFO],
		(unsigned long long)stat[SG_FLOW_SIMUL_OPEN]);
	fprintf(f, ",\"closes\":{\"graceful\":%llu,\"reset\":%llu,\"picked_up\":%llu,"
		"\"table_full\":%llu}",
		(unsigned long long)stat[SG_FLOW_CLOSED_FIN],
		(unsigned long long)stat[SG_FLOW_CLOSED_RST],
		(unsigned long long)stat[SG_FLOW_PICKED_UP],
		(unsigned long long)stat[SG_FLOW_TABLE_FULL]);
	fputs(",\"latency\":{", f);
	for (i = 0; i < SG_HIST_MAX; i++) {
		fprintf(f, "%s\"%s\":{\"samples\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,"
			"\"log2_buckets\":[", i ? "," : "", hist_names[i],
			(unsigned long long)hist_total(s->hist[i]),
			(unsigned long long)flows_percentile(s->hist[i], 50),
			(unsigned long long)flows_percentile(s->hist[i], 90),
			(unsigned long long)flows_percentile(s->hist[i], 99));
		for (b = 0; b < SG_HIST_BUCKETS; b++)
			fprintf(f, "%s%llu", b ? "," : "", (unsigned long long)s->hist[i][b]);
		fputs("]}", f);
	}
	fputc('}', f);
}
