// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* This build's map layouts, from its own BPF object, read once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "layout.h"
#include "synguard.h"
#include "synguard.skel.h"

#define LAYOUT_MAPS 64

static struct {
	char name[BPF_OBJ_NAME_LEN];
	__u32 type, key_size, value_size;
} maps[LAYOUT_MAPS];
static int nmaps = -1;

static void layout_read(void)
{
	struct synguard *skel = synguard__open();
	struct bpf_map *map;

	nmaps = 0;
	if (!skel)
		return;
	bpf_object__for_each_map(map, skel->obj) {
		if (nmaps == LAYOUT_MAPS || bpf_map__is_internal(map))
			continue;
		snprintf(maps[nmaps].name, sizeof(maps[nmaps].name), "%s",
			 bpf_map__name(map));
		maps[nmaps].type = bpf_map__type(map);
		maps[nmaps].key_size = bpf_map__key_size(map);
		maps[nmaps].value_size = bpf_map__value_size(map);
		nmaps++;
	}
	synguard__destroy(skel);
}

int layout_check(const char *name, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int i;

	if (nmaps < 0)
		layout_read();
	for (i = 0; i < nmaps && strcmp(maps[i].name, name); i++)
		;
	if (i == nmaps || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.type == maps[i].type && info.key_size == maps[i].key_size &&
	       info.value_size == maps[i].value_size ? 0 : -EPROTO;
}
