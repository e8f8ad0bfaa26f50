/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the benchmarks share: timing, medians, running frames through a
 * program with BPF_PROG_TEST_RUN, and what the kernel says a map costs.
 * Map sizes are read from the kernel at run time, never from our structs:
 * the flow value layout is allowed to change under the benchmarks.
 */
#ifndef SYNGUARD_BENCH_UTIL_H
#define SYNGUARD_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "pktbuild.h"

#define NSEC_PER_SEC 1000000000ULL

/* CLOCK_MONOTONIC in ns (what bpf_ktime_get_ns() reads). */
__u64 bench_now_ns(void);
/* Keeps the process on one CPU, so per-CPU maps and caches stay put. */
void bench_pin_cpu(int cpu);
/* Median of @n values; sorts @v. */
double bench_median(double *v, int n);

/* A frame built from a spec. */
struct frame {
	__u8 data[256];
	int len;
};

/* Builds @spec into @f; exits on a spec pkt_build() refuses (a bench bug). */
void frame_build(struct frame *f, const struct pkt_spec *spec);
/*
 * Runs @f through @prog_fd @repeat times; returns the kernel's average ns
 * per run (opts.duration), -1 on error.  *@retval gets the verdict.
 */
double frame_run(int prog_fd, const struct frame *f, __u32 repeat, __u32 *retval);

/* The map's memlock (bytes) as /proc/self/fdinfo tells it, 0 if unknown. */
__u64 map_memlock(int fd);
/* key_size, value_size, max_entries of the map; 0 or -errno. */
int map_sizes(int fd, __u32 *key_size, __u32 *value_size, __u32 *max_entries);
/* Entries in a hash map, by batch lookups; -errno on error. */
long long map_count(int fd);
/* Empties a hash map by batch lookup-and-delete; 0 or -errno. */
int map_clear(int fd);

#endif
