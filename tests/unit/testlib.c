// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "testlib.h"

int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

void clear_map(int map_fd, size_t key_size)
{
	__u8 key[64], next[64];

	if (key_size > sizeof(key))
		return;
	while (!bpf_map_get_next_key(map_fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(map_fd, key))
			break;
	}
}

const char *verdict_name(int v)
{
	switch (v) {
	case XDP_ABORTED: return "XDP_ABORTED";
	case XDP_DROP: return "XDP_DROP";
	case XDP_PASS: return "XDP_PASS";
	case XDP_TX: return "XDP_TX";
	case XDP_REDIRECT: return "XDP_REDIRECT";
	}
	return "?";
}

__u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static unsigned int books_frames, books_broken;

bool books_check(const struct sg_counters *before, const struct sg_counters *after,
		 const char *what)
{
	__u64 d[SG_STAT_MAX], reasons = 0, unparsed;
	bool ok;
	int i;

	for (i = 0; i < SG_STAT_MAX; i++)
		d[i] = after->stat[i] - before->stat[i];
	for (i = 0; i < SG_REASON_MAX; i++)
		reasons += after->reason[i] - before->reason[i];
	unparsed = after->reason[SG_R_UNPARSED_VLAN] - before->reason[SG_R_UNPARSED_VLAN] +
		   after->reason[SG_R_UNPARSED_IPV6_EXT] - before->reason[SG_R_UNPARSED_IPV6_EXT];
	books_frames++;
	ok = d[SG_PASS] + d[SG_DROP] + d[SG_COOKIE_SENT] == d[SG_FRAMES] &&
	     d[SG_WOULD_DROP] <= d[SG_PASS] &&
	     (reasons == d[SG_DROP] + d[SG_WOULD_DROP] ||
	      /* --unparsed pass: the reason is counted, the frame passed */
	      (reasons == unparsed && !d[SG_DROP] && !d[SG_WOULD_DROP] && d[SG_PASS] == reasons));
	if (ok)
		return true;
	if (books_broken++ < 20)
		printf("#   books of %s: frames +%llu, pass +%llu, drop +%llu, tx (cookie_sent) +%llu, "
		       "would_drop +%llu, reasons +%llu\n", what, (unsigned long long)d[SG_FRAMES],
		       (unsigned long long)d[SG_PASS], (unsigned long long)d[SG_DROP],
		       (unsigned long long)d[SG_COOKIE_SENT], (unsigned long long)d[SG_WOULD_DROP],
		       (unsigned long long)reasons);
	return false;
}

bool books_report(int n)
{
	bool ok = books_frames && !books_broken;

	printf("%s %d - every frame: pass + drop + tx = frames, one reason a drop or would-drop "
	       "(%u frames, %u broken)\n", ok ? "ok" : "not ok", n, books_frames, books_broken);
	return ok;
}

void tap_eq(int *n, int *failed, const char *desc, long long got, long long want)
{
	(*n)++;
	if (got == want) {
		printf("ok %d - %s\n", *n, desc);
		return;
	}
	(*failed)++;
	printf("not ok %d - %s\n#   got %lld, want %lld\n", *n, desc, got, want);
}

int tap_load_failed(void)
{
	printf("not ok 1 - load synguard: %s\n0 passed, 1 failed\n", strerror(errno));
	return 1;
}

static int ev_collect(void *arg, void *data, size_t size)
{
	struct ev_log *l = arg;

	if (size >= sizeof(struct sg_event) && l->n < EV_LOG_MAX)
		memcpy(&l->e[l->n++], data, sizeof(struct sg_event));
	return 0;
}

void ev_read(int rb_fd, struct ev_log *l)
{
	struct ring_buffer *rb = ring_buffer__new(rb_fd, ev_collect, l, NULL);

	l->n = 0;
	if (rb)
		ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

int ev_count(const struct ev_log *l, __u32 type)
{
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->e[i].type == type;
	return n;
}

const struct sg_event *ev_first(const struct ev_log *l, __u32 type)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->e[i].type == type)
			return &l->e[i];
	return NULL;
}
