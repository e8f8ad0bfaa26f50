// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_util.h"

__u64 bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

void bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "bench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void frame_build(struct frame *f, const struct pkt_spec *spec)
{
	f->len = pkt_build(spec, f->data, sizeof(f->data));
	if (f->len <= 0) {
		fprintf(stderr, "bench: cannot build a frame: %s\n", strerror(-f->len));
		exit(1);
	}
}

double frame_run(int prog_fd, const struct frame *f, __u32 repeat, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->data, .data_size_in = f->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	if (retval)
		*retval = o.retval;
	return o.duration;
}

__u64 map_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

int map_sizes(int fd, __u32 *key_size, __u32 *value_size, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (key_size)
		*key_size = info.key_size;
	if (value_size)
		*value_size = info.value_size;
	if (max_entries)
		*max_entries = info.max_entries;
	return 0;
}

/* Walks a hash map in batches, deleting what it reads when @del. */
static long long map_batches(int fd, bool del)
{
	__u32 ks = 0, vs = 0, batch = 0, count, chunk = 8192;
	long long total = 0;
	bool first = true;
	void *keys, *vals;
	int err;

	err = map_sizes(fd, &ks, &vs, NULL);
	if (err)
		return err;
	keys = calloc(chunk, ks);
	vals = calloc(chunk, vs);
	if (!keys || !vals) {
		total = -ENOMEM;
		goto out;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		count = chunk;
		err = (del ? bpf_map_lookup_and_delete_batch : bpf_map_lookup_batch)(
			fd, first ? NULL : &batch, &batch, keys, vals, &count, &opts);
		first = false;
		total += count;
		if (err) {
			if (errno != ENOENT)
				total = -errno;
			break;
		}
	}
out:
	free(keys);
	free(vals);
	return total;
}

long long map_count(int fd)
{
	return map_batches(fd, false);
}

int map_clear(int fd)
{
	long long n = map_batches(fd, true);

	return n < 0 ? (int)n : 0;
}
