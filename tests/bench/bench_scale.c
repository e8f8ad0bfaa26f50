// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_scale: a million concurrent flows (issue 5 §5).  Drives real
 * handshakes through the programs with BPF_PROG_TEST_RUN (SYN in through
 * XDP, SYN-ACK out through tc egress, ACK in through XDP), one distinct
 * flow each, from 198.19.0.0/16 (inside 198.18.0.0/15), and reports the
 * insertion rate, how many flows the table holds afterwards, and what the
 * kernel charges for the maps (memlock, as bpftool shows it).
 *
 * Two ways to get the maps:
 *   default    a fresh skeleton, sg_flows sized with -m (bpf_map__set_max_entries);
 *   -p DIR     the pinned maps of a live attachment (`synguard attach
 *              --flows-max N`), reused by a skeleton loaded here: its
 *              programs are test-run, the attachment's maps fill.  Then
 *              `synguard stats` can be timed on a full table.
 *
 * Sizes come from the kernel (bpf_obj_get_info_by_fd, fdinfo), not from
 * our structs.  Prints markdown; reports targets, asserts nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_util.h"
#include "flows.h"
#include "policy.h"
#include "stats.h"
#include "synguard.skel.h"
#include "flow_walk.skel.h"

#define TARGET_BYTES_PER_FLOW 128

struct scale {
	struct synguard *sg;
	int xdp, egress;
	__u32 flows, max;
	const char *pins;
};

/* Reuses every map pinned in @dir under its own name; 0 or -errno. */
static int reuse_pins(struct synguard *sg, const char *dir)
{
	struct bpf_map *m;
	char path[PATH_MAX];
	int n = 0;

	bpf_object__for_each_map(m, sg->obj) {
		int fd, err;

		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;	/* not pinned (internal maps) */
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err) {
			fprintf(stderr, "bench_scale: reuse %s: %s\n", path, strerror(-err));
			return err;
		}
		n++;
	}
	if (!n) {
		fprintf(stderr, "bench_scale: no pinned maps in %s\n", dir);
		return -ENOENT;
	}
	return 0;
}

/* Frames of flow @i: SYN in, SYN-ACK out, ACK in. */
static void flow_frames(__u32 i, struct frame *syn, struct frame *synack, struct frame *ack)
{
	char addr[32];
	__u16 sport = 1024 + i / 65536;

	snprintf(addr, sizeof(addr), "198.19.%u.%u", (i >> 8) & 0xff, i & 0xff);
	frame_build(syn, &(struct pkt_spec){ .family = 4, .src = addr, .dst = PKT_V4_DST,
		    .sport = sport, .dport = 80, .seq = 1000, .tcp_flags = PKT_SYN });
	frame_build(synack, &(struct pkt_spec){ .family = 4, .src = PKT_V4_DST, .dst = addr,
		    .sport = 80, .dport = sport, .seq = 5000, .ack_seq = 1001,
		    .tcp_flags = PKT_SYN | PKT_ACK });
	frame_build(ack, &(struct pkt_spec){ .family = 4, .src = addr, .dst = PKT_V4_DST,
		    .sport = sport, .dport = 80, .seq = 1001, .ack_seq = 5001,
		    .tcp_flags = PKT_ACK });
}

static __u64 completed(struct scale *s)
{
	struct sg_counters c;

	if (stats_read(bpf_map__fd(s->sg->maps.sg_stats), bpf_map__fd(s->sg->maps.sg_drops), &c))
		return 0;
	return c.stat[SG_FLOW_COMPLETED];
}

static void fill(struct scale *s)
{
	struct frame syn, synack, ack;
	__u64 t0, wall, kern = 0, done0 = completed(s), done;
	long long present, half;
	__u32 i;

	t0 = bench_now_ns();
	for (i = 0; i < s->flows; i++) {
		double d1, d2, d3;

		flow_frames(i, &syn, &synack, &ack);
		d1 = frame_run(s->xdp, &syn, 1, NULL);
		d2 = frame_run(s->egress, &synack, 1, NULL);
		d3 = frame_run(s->xdp, &ack, 1, NULL);
		if (d1 < 0 || d2 < 0 || d3 < 0) {
			fprintf(stderr, "bench_scale: test run: %s\n", strerror(errno));
			exit(1);
		}
		kern += d1 + d2 + d3;
	}
	wall = bench_now_ns() - t0;
	done = completed(s) - done0;
	present = map_count(bpf_map__fd(s->sg->maps.sg_flows));
	half = map_count(bpf_map__fd(s->sg->maps.sg_half));

	printf("| handshakes driven (SYN in, SYN-ACK out, ACK in) | %u |\n", s->flows);
	printf("| completed (hs_completed) | %llu |\n", (unsigned long long)done);
	printf("| flows in sg_flows afterwards (max_entries %u) | %lld (%lld lost to LRU eviction) |\n",
	       s->max, present, present >= 0 ? (long long)s->flows - present : 0);
	printf("| entries left in sg_half | %lld |\n", half);
	printf("| wall time | %.2f s |\n", wall / 1e9);
	printf("| handshakes/s, wall (3 test-run syscalls and 3 frames built each) | %.0f |\n",
	       s->flows / (wall / 1e9));
	printf("| program time per handshake, kernel (sum of the 3 runs' opts.duration) | %.0f ns |\n",
	       (double)kern / s->flows);
	printf("| handshakes/s the programs alone could take on one CPU | %.0f |\n",
	       s->flows / (kern / 1e9));
}

static void memory(struct scale *s)
{
	int flows_fd = bpf_map__fd(s->sg->maps.sg_flows), half_fd = bpf_map__fd(s->sg->maps.sg_half);
	__u64 mf = map_memlock(flows_fd), mh = map_memlock(half_fd), all = 0;
	__u32 ks = 0, vs = 0, fmax = 0, hmax = 0;
	long long present = map_count(flows_fd);
	struct bpf_map *m;
	double per;

	map_sizes(flows_fd, &ks, &vs, &fmax);
	map_sizes(half_fd, NULL, NULL, &hmax);
	bpf_object__for_each_map(m, s->sg->obj)
		if (bpf_map__fd(m) >= 0)
			all += map_memlock(bpf_map__fd(m));
	per = present > 0 ? (double)mf / present : 0;
	printf("| sg_flows key / value size (kernel) | %u / %u bytes |\n", ks, vs);
	printf("| sg_flows memlock (max_entries %u) | %llu bytes (%.1f MiB) |\n", fmax,
	       (unsigned long long)mf, mf / 1048576.0);
	printf("| sg_half memlock (max_entries %u) | %llu bytes (%.1f MiB) |\n", hmax,
	       (unsigned long long)mh, mh / 1048576.0);
	printf("| every map of the program, memlock | %llu bytes (%.1f MiB) |\n",
	       (unsigned long long)all, all / 1048576.0);
	printf("| sg_flows bytes per tracked flow (memlock / %lld flows) | %.1f: target ≤ %d, %s |\n",
	       present, per, TARGET_BYTES_PER_FLOW,
	       per > 0 && per <= TARGET_BYTES_PER_FLOW ? "met" : "**missed**");
	printf("| sg_half + sg_flows bytes per tracked flow | %.1f |\n",
	       present > 0 ? (double)(mf + mh) / present : 0);
	printf("| sg_flows bytes per entry it can hold (memlock / max_entries) | %.1f |\n",
	       fmax ? (double)mf / fmax : 0);
}

/* flows_read @n times (@walk: 0 or SG_WALK_FULL); the median in ms. */
static double flows_read_ms(const struct sg_flow_maps *m, const struct sg_policy *pol,
			    __u32 walk, int n, struct sg_flow_summary *sum, int *walked)
{
	double t[5];
	int i, err;

	*walked = 0;
	for (i = 0; i < n && i < 5; i++) {
		__u64 t0 = bench_now_ns();

		err = flows_read(m, &pol->cfg, walk, sum);
		if (err)
			fprintf(stderr, "bench_scale: flows_read: %s\n", strerror(-err));
		t[i] = (bench_now_ns() - t0) / 1e6;
		*walked += !!(sum->walk & SG_WALK_WALKED);
	}
	return bench_median(t, i);
}

/*
 * The core of `synguard stats`' flow gauges, without the CLI around it:
 * the first reading after the fill (it walks sg_flows if the LRU evicted,
 * and re-bases the gauges), then as `stats` reads, then forcing the walk.
 * The reader program is loaded once, as `attach` pins it.
 */
static void time_flows_read(struct scale *s)
{
	struct sg_flow_maps m = {
		.half_fd = bpf_map__fd(s->sg->maps.sg_half),
		.flows_fd = bpf_map__fd(s->sg->maps.sg_flows),
		.hist_fd = bpf_map__fd(s->sg->maps.sg_hist),
		.gauge_fd = bpf_map__fd(s->sg->maps.sg_gauge),
		.gauge_base_fd = bpf_map__fd(s->sg->maps.sg_gauge_base),
	};
	struct flow_walk *walker = flows_walker(&m);
	struct sg_flow_summary sum;
	struct sg_policy pol;
	double ms;
	int walked;

	if (!walker) {
		fprintf(stderr, "bench_scale: load the flow gauges' reader: %s\n", strerror(errno));
		exit(1);
	}
	m.walk_fd = bpf_program__fd(walker->progs.sg_walk);

	if (policy_read(POLICY_FDS(s->sg), &pol))
		policy_defaults(&pol);
	ms = flows_read_ms(&m, &pol, 0, 1, &sum, &walked);
	printf("| flows_read(), the first reading after the fill | %.1f ms (%llu established; %s) |\n",
	       ms, (unsigned long long)sum.state[SG_TCP_ESTABLISHED],
	       walked ? "the gauges did not add up to the map's count: sg_flows walked, gauges re-based" :
	       "from the gauges, no walk");
	ms = flows_read_ms(&m, &pol, 0, 5, &sum, &walked);
	printf("| flows_read() as `stats` reads, median of 5 | %.1f ms (%llu established; %d of 5 walked sg_flows) |\n",
	       ms, (unsigned long long)sum.state[SG_TCP_ESTABLISHED], walked);
	ms = flows_read_ms(&m, &pol, SG_WALK_FULL, 5, &sum, &walked);
	printf("| flows_read() walking sg_flows (SG_WALK_FULL: a reading after the LRU evicted or when TIME_WAIT may have expired), median of 5 | %.1f ms (%llu established) |\n",
	       ms, (unsigned long long)sum.state[SG_TCP_ESTABLISHED]);
	flow_walk__destroy(walker);
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-f FLOWS] [-m MAX] [-p PINDIR] [-c CPU]\n"
		"  -f  handshakes to drive, one distinct flow each (1000000, at most 1048576)\n"
		"  -m  sg_flows max_entries for a fresh skeleton (FLOWS)\n"
		"  -p  fill the pinned maps of an attachment in PINDIR instead\n"
		"  -c  CPU to run on (0)\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct scale s = { .flows = 1000000 };
	int opt, cpu = 0, err;

	while ((opt = getopt(argc, argv, "f:m:p:c:h")) != -1) {
		switch (opt) {
		case 'f': s.flows = strtoul(optarg, NULL, 10); break;
		case 'm': s.max = strtoul(optarg, NULL, 10); break;
		case 'p': s.pins = optarg; break;
		case 'c': cpu = atoi(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (!s.flows || s.flows > 1048576)
		usage(argv[0]);
	if (!s.max)
		s.max = s.flows;
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_pin_cpu(cpu);
	s.sg = synguard__open();
	if (!s.sg) {
		fprintf(stderr, "bench_scale: open: %s\n", strerror(errno));
		return 1;
	}
	if (s.pins)
		err = reuse_pins(s.sg, s.pins);
	else
		err = bpf_map__set_max_entries(s.sg->maps.sg_flows, s.max);
	if (!err)
		err = synguard__load(s.sg);
	if (err) {
		fprintf(stderr, "bench_scale: load: %s\n", strerror(-err));
		synguard__destroy(s.sg);
		return 1;
	}
	if (s.pins) {
		map_sizes(bpf_map__fd(s.sg->maps.sg_flows), NULL, NULL, &s.max);
	} else {
		struct sg_policy pol;

		policy_defaults(&pol);
		/* Flows, not the guard: nothing limited, attack mode off. */
		pol.cfg.src_rate = 0;
		pol.cfg.attack_syn_rate = 0;
		pol.cfg.attack_half_open = 0;
		pol.cfg.flags = 0;
		policy_write(POLICY_FDS(s.sg), &pol);
	}
	s.xdp = bpf_program__fd(s.sg->progs.synguard_xdp);
	s.egress = bpf_program__fd(s.sg->progs.synguard_egress);

	printf("### %u flows, sg_flows max_entries %u, %s\n\n", s.flows, s.max,
	       s.pins ? "the pinned maps of a live attachment" : "a fresh skeleton (not attached)");
	printf("| measure | value |\n|---|---|\n");
	fill(&s);
	memory(&s);
	time_flows_read(&s);
	printf("\n");
	synguard__destroy(s.sg);
	return 0;
}
