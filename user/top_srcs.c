// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The top sources of `top`, in `stats --json` and the exporter's metrics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "common.h"
#include "json.h"
#include "pin.h"
#include "top_srcs.h"

int top_srcs_opt(const char *arg, size_t *n)
{
	__u64 v;

	if (parse_u64(arg, 0, TOP_SRCS_MAX, &v)) {
		err_msg("--top takes a number from 0 to %d, not '%s'", TOP_SRCS_MAX, arg);
		return EXIT_USAGE;
	}
	*n = v;
	return EXIT_OK;
}

int top_srcs_update(struct top_srcs_reader *r, const struct sg_pins *p)
{
	struct top_srcs next = {};
	double at;
	int err;

	err = top_srcs_load(p, &next);
	at = now_mono();
	if (err) {
		top_srcs_free(&next);
		return err;
	}
	r->secs = r->at ? at - r->at : 0;
	if (r->secs > 0)
		top_srcs_rates(&next, &r->cur, r->secs);
	top_srcs_free(&r->prev);
	r->prev = r->cur;
	r->cur = next;
	r->at = at;
	return 0;
}

void top_srcs_reader_free(struct top_srcs_reader *r)
{
	top_srcs_free(&r->cur);
	top_srcs_free(&r->prev);
	r->at = r->secs = 0;
}

static double top_blocked_s(const struct top_src *s)
{
	struct timespec ts;
	__u64 now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return s->st.blocked_until > now ? (s->st.blocked_until - now) / 1e9 : 0;
}

static void top_list_json(struct json *j, const char *name, const struct top_srcs_reader *r,
			  enum top_by by)
{
	const struct top_src **rank = calloc(r->n ? r->n : 1, sizeof(*rank));
	char src[INET6_ADDRSTRLEN + 8];
	size_t i, n = rank ? top_srcs_rank_by(&r->cur, by, r->secs > 0, rank, r->n) : 0;

	json_arr_open(j, name);
	for (i = 0; i < n; i++) {
		top_src_name(rank[i], src, sizeof(src));
		json_obj_open(j, NULL);
		json_string(j, "source", src);
		json_u64(j, "syns", rank[i]->st.syns);
		json_u64(j, "dropped", rank[i]->st.dropped);
		if (r->secs > 0) {
			json_double(j, "syn_rate", rank[i]->syn_rate);
			json_double(j, "drop_rate", rank[i]->drop_rate);
		}
		json_double(j, "blocked_s", top_blocked_s(rank[i]));
		json_obj_close(j);
	}
	json_arr_close(j);
	free(rank);
}

void top_srcs_json(struct json *j, const struct top_srcs_reader *r)
{
	json_obj_open(j, "top_sources");
	json_u64(j, "n", r->n);
	json_u64(j, "sources", r->cur.n);
	json_bool(j, "rates", r->secs > 0);
	top_list_json(j, "by_syn_rate", r, TOP_BY_SYN_RATE);
	top_list_json(j, "by_drops", r, TOP_BY_DROPS);
	json_obj_close(j);
}

void top_srcs_prom(FILE *f, const struct top_srcs_reader *r)
{
	const struct top_src **rank = calloc(r->n ? 2 * r->n : 1, sizeof(*rank));
	char src[INET6_ADDRSTRLEN + 8];
	size_t n, m, i, j, k;
	static const struct {
		const char *name, *help;
		bool rate;
	} metrics[] = {
		{ "syn_rate", "SYNs a second of the top sources over the last scrape interval.", true },
		{ "drop_rate", "SYNs dropped a second of the top sources, the same way.", true },
		{ "syns", "SYNs counted for the top sources (since their entry began).", false },
		{ "dropped", "SYNs dropped of the top sources (since their entry began).", false },
	};

	if (!rank)
		return;
	/* The union of the two lists: at most 2N sources, whatever the flood. */
	n = top_srcs_rank_by(&r->cur, TOP_BY_SYN_RATE, r->secs > 0, rank, r->n);
	m = top_srcs_rank_by(&r->cur, TOP_BY_DROPS, r->secs > 0, rank + n, r->n);
	for (i = n, k = n; i < n + m; i++) {
		for (j = 0; j < n && rank[j] != rank[i]; j++)
			;
		if (j == n)
			rank[k++] = rank[i];
	}
	fprintf(f, "# HELP synguard_top_sources_listed Sources in the top lists (by SYN rate "
		"and by drops, --top %zu each); sg_src holds %zu.\n"
		"# TYPE synguard_top_sources_listed gauge\nsynguard_top_sources_listed %zu\n",
		r->n, r->cur.n, k);
	for (j = 0; j < sizeof(metrics) / sizeof(metrics[0]); j++) {
		fprintf(f, "# HELP synguard_top_source_%s %s\n# TYPE synguard_top_source_%s gauge\n",
			metrics[j].name, metrics[j].help, metrics[j].name);
		/* No rates before a second scrape: the family, without samples. */
		for (i = 0; i < k && !(metrics[j].rate && !(r->secs > 0)); i++) {
			top_src_name(rank[i], src, sizeof(src));
			fprintf(f, "synguard_top_source_%s{source=\"%s\"} ", metrics[j].name, src);
			if (j == 0)
				fprintf(f, "%.3f\n", rank[i]->syn_rate);
			else if (j == 1)
				fprintf(f, "%.3f\n", rank[i]->drop_rate);
			else
				fprintf(f, "%llu\n", (unsigned long long)(j == 2 ? rank[i]->st.syns :
									  rank[i]->st.dropped));
		}
	}
	free(rank);
}
