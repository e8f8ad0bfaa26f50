// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* top's data: one reading of an attachment, its sources and their rates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "top.h"

static int top_key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct top_src *)a)->key,
		      &((const struct top_src *)b)->key, sizeof(struct sg_src_key));
}

void top_srcs_free(struct top_srcs *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int top_srcs_batch(const void *keys, const void *vals, __u32 n, void *arg)
{
	const struct sg_src_key *k = keys;
	const struct sg_src_state *v = vals;
	struct top_srcs *out = arg;
	struct top_src *grown;
	__u32 i;

	grown = realloc(out->v, (out->n + n) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	out->v = grown;
	for (i = 0; i < n; i++) {
		struct top_src *s = &out->v[out->n++];

		memset(s, 0, sizeof(*s));
		s->key = k[i];
		s->st = v[i];
	}
	return 0;
}

/* Every entry of sg_src, sorted by key; 0 or -errno. */
static int top_srcs_read(int fd, struct top_srcs *out)
{
	int err;

	top_srcs_free(out);
	err = map_walk(fd, sizeof(struct sg_src_key), sizeof(struct sg_src_state),
		       top_srcs_batch, out);
	if (!err && out->n)
		qsort(out->v, out->n, sizeof(*out->v), top_key_cmp);
	return err;
}

/*
 * The drops sg_over made that its slots have not folded into sg_src yet:
 * added to the entries they belong to, so the counts are whole.  0 or
 * -errno.
 */
static int top_srcs_add_over(int over_fd, struct top_srcs *s)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	size_t vsz = (sizeof(struct sg_over) + 7) & ~(size_t)7;
	struct top_src want, *hit;
	char *buf;
	__u32 i;

	if (ncpu < 1)
		return ncpu ? ncpu : -EINVAL;
	buf = calloc(ncpu, vsz);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < SG_OVER_SLOTS; i++) {
		if (bpf_map_lookup_elem(over_fd, &i, buf))
			continue;
		for (c = 0; c < ncpu; c++) {
			const struct sg_over *o = (const void *)(buf + c * vsz);

			if (!o->pending || !s->n)
				continue;
			want.key = o->key;
			hit = bsearch(&want, s->v, s->n, sizeof(*s->v), top_key_cmp);
			if (hit) {
				hit->st.syns += o->pending;
				hit->st.dropped += o->pending;
			}
		}
	}
	free(buf);
	return 0;
}

void top_srcs_rates(struct top_srcs *cur, const struct top_srcs *prev,
			   double secs)
{
	const struct top_src *p;
	struct top_src *s;
	__u64 syns, dropped;
	size_t i;

	for (i = 0; i < cur->n; i++) {
		s = &cur->v[i];
		p = prev->n ? bsearch(s, prev->v, prev->n, sizeof(*s), top_key_cmp) : NULL;
		syns = s->st.syns;
		dropped = s->st.dropped;
		if (p && p->st.syns <= syns && p->st.dropped <= dropped) {
			syns -= p->st.syns;
			dropped -= p->st.dropped;
		}
		s->syn_rate = secs > 0 ? syns / secs : 0;
		s->drop_rate = secs > 0 ? dropped / secs : 0;
	}
}

static int top_rank_cmp(const void *a, const void *b)
{
	const struct top_src *x = *(const struct top_src *const *)a;
	const struct top_src *y = *(const struct top_src *const *)b;

	if (x->syn_rate != y->syn_rate)
		return x->syn_rate < y->syn_rate ? 1 : -1;
	if (x->drop_rate != y->drop_rate)
		return x->drop_rate < y->drop_rate ? 1 : -1;
	if (x->st.syns != y->st.syns)
		return x->st.syns < y->st.syns ? 1 : -1;
	return top_key_cmp(x, y);
}

int top_read(const struct sg_pins *p, struct top_reading *r)
{
	struct sg_flow_maps fm;
	int err;

	pins_flow_maps(p, &fm);
	err = stats_read(p->stats_fd, p->drops_fd, &r->c);
	if (!err)
		err = flows_read(&fm, &p->cfg, 0, &r->flows);
	if (!err) {
		__u32 zero = 0;

		err = bpf_map_lookup_elem(p->attack_fd, &zero, &r->attack) ? -errno : 0;
	}
	if (!err && p->src_fd >= 0)
		err = top_srcs_load(p, &r->srcs);
	r->at = now_mono();
	return err;
}

int top_srcs_load(const struct sg_pins *p, struct top_srcs *out)
{
	int err = p->src_fd >= 0 ? top_srcs_read(p->src_fd, out) : -ENOENT;

	/* No sg_over (an older attachment): the counts are as they were then. */
	if (!err && p->over_fd >= 0)
		err = top_srcs_add_over(p->over_fd, out);
	return err;
}

/* By drops: the drop rate, then the drops. */
static int top_rank_drops_cmp(const void *a, const void *b)
{
	const struct top_src *x = *(const struct top_src *const *)a;
	const struct top_src *y = *(const struct top_src *const *)b;

	if (x->drop_rate != y->drop_rate)
		return x->drop_rate < y->drop_rate ? 1 : -1;
	if (x->st.dropped != y->st.dropped)
		return x->st.dropped < y->st.dropped ? 1 : -1;
	return top_key_cmp(x, y);
}

size_t top_srcs_rank(const struct top_srcs *s, const struct top_src **rank, size_t max)
{
	return top_srcs_rank_by(s, TOP_BY_SYN_RATE, true, rank, max);
}

size_t top_srcs_rank_by(const struct top_srcs *s, enum top_by by, bool rates,
			const struct top_src **rank, size_t max)
{
	const struct top_src **all, *v;
	size_t i, n = 0;
	bool in;

	all = calloc(s->n ? s->n : 1, sizeof(*all));
	if (!all)
		return 0;
	for (i = 0; i < s->n; i++) {
		v = &s->v[i];
		if (by == TOP_BY_DROPS)
			in = rates ? v->drop_rate > 0 : v->st.dropped > 0;
		else
			in = rates ? v->syn_rate > 0 || v->drop_rate > 0 : v->st.syns > 0;
		if (in)
			all[n++] = v;
	}
	qsort(all, n, sizeof(*all), by == TOP_BY_DROPS ? top_rank_drops_cmp : top_rank_cmp);
	if (n > max)
		n = max;
	memcpy(rank, all, n * sizeof(*all));
	free(all);
	return n;
}
