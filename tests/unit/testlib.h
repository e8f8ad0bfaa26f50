/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the unit tests share besides building frames (pktbuild.h). */
#ifndef SYNGUARD_TESTLIB_H
#define SYNGUARD_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "stats.h"
#include "synguard.h"

/* The map's fd. */
int fd(struct bpf_map *m);
/* Deletes every entry of a hash or LPM map, keys of @key_size bytes (<= 64). */
void clear_map(int map_fd, size_t key_size);
/* "XDP_DROP" and the like; "?" for anything else. */
const char *verdict_name(int v);
/* CLOCK_MONOTONIC in ns: what bpf_ktime_get_ns() reads. */
__u64 mono_ns(void);
/* CLOCK_MONOTONIC_COARSE in ns: what bpf_ktime_get_coarse_ns() reads. */
__u64 coarse_ns(void);

/*
 * The books of one frame through synguard_xdp, from the counters around
 * it: one verdict (pass + drop + tx == frames, tx being cookie_sent; a
 * dry-run would-drop is passed, so would_drop <= pass) and exactly one
 * reason per drop or would-drop (the sum of the reasons == drop +
 * would_drop), except that a frame the unparsed policy passes counts its
 * unparsed_* reason with a pass.  Tallied in
 * testlib; a broken frame prints a diagnostic naming @what.  Returns
 * whether the frame kept them.
 */
bool books_check(const struct sg_counters *before, const struct sg_counters *after,
		 const char *what);
/*
 * One TAP line, number ++*@n: ok when @got == @want, else not ok with
 * both, and ++*@failed.
 */
void tap_eq(int *n, int *failed, const char *desc, long long got, long long want);
/* "not ok 1 - load synguard: why" and the totals; returns main's 1. */
int tap_load_failed(void);
/* One TAP line (number @n) over every frame books_check() saw: true if all kept them. */
bool books_report(int n);

/* Records of the sg_events ring buffer (bpf/events.bpf.h). */
#define EV_LOG_MAX 512
struct ev_log {
	struct sg_event e[EV_LOG_MAX];
	int n;
};

/* Everything the ring buffer @rb_fd holds into @l (at most EV_LOG_MAX), consumed. */
void ev_read(int rb_fd, struct ev_log *l);
/* How many records of @type @l has; the first, or NULL. */
int ev_count(const struct ev_log *l, __u32 type);
const struct sg_event *ev_first(const struct ev_log *l, __u32 type);

#endif
