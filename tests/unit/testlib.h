/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the unit tests share besides building frames (pktbuild.h). */
#ifndef SYNGUARD_TESTLIB_H
#define SYNGUARD_TESTLIB_H

#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>

/* The map's fd. */
int fd(struct bpf_map *m);
/* Deletes every entry of a hash or LPM map, keys of @key_size bytes (<= 64). */
void clear_map(int map_fd, size_t key_size);
/* "XDP_DROP" and the like; "?" for anything else. */
const char *verdict_name(int v);
/* CLOCK_MONOTONIC in ns: what bpf_ktime_get_ns() reads. */
__u64 mono_ns(void);

#endif
