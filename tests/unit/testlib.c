// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
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
