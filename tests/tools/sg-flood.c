// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sg-flood: a high-rate TCP frame generator for the netns lab.  An XDP
 * program (sg_flood.bpf.c) is run with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on a template frame; it writes each frame's
 * source address and ports, sequence number and checksums and returns
 * XDP_TX, so the kernel sends it out of --dev without a socket or an skb.
 * On a veth the peer needs an XDP program (or GRO) or the frames are
 * silently dropped (tests/lib.sh: lab_xdp_pass).
 *
 * It refuses addresses outside the benchmarking ranges 198.18.0.0/15 and
 * 2001:2::/48 and a device in the initial network namespace: run it with
 * `ip netns exec NS`.  Every run is bounded by --count and --duration.
 *
 * Exit codes: 0 sent; 1 the kernel said no; 2 bad usage or a refused
 * address or namespace; 4 not root.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pktbuild.h"
#include "sg_flood.skel.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_ROOT 4

#define MAX_THREADS 64
#define CHUNK_MAX 65536		/* frames per test run: ~15 ms at full rate */
#define BATCH_SIZE 64		/* frames per batch inside one test run */
#define PROC_NET_INIT_INO 0xEFFFFFF9U	/* include/linux/proc_ns.h */

struct flood_state {		/* sg_flood.bpf.c's per-CPU value */
	__u64 next;
	__u64 stride;
	__u64 sent;
	__u64 gap_ns, next_ns, quota, end_ns;	/* --smooth */
};

/* --smooth: runs a test run makes; most return at once (~40 ms in all). */
#define SMOOTH_REPEAT (1U << 20)

struct opts {
	const char *dev, *dst, *src;
	__u8 smac[6], dmac[6];
	bool have_smac, have_dmac, json, random, no_options, options_set, verbose, smooth;
	unsigned long long count;
	double duration, rate;
	unsigned int threads;
	__u32 dport_lo, dport_count, sport_lo, sport_count;
	__u32 sources;		/* 0: every address of the prefix, up to 2^24 */
	__u8 flags;
};

static volatile sig_atomic_t stop;
static unsigned long long claimed;	/* frames handed to threads (atomics) */

struct worker {
	pthread_t tid;
	int prog_fd, map_fd, ifindex, cpu, ncpu, err;
	unsigned long long quota;	/* --smooth: this thread's share of --count */
	const struct opts *o;
	const __u8 *frame;
	unsigned int frame_len;
	struct timespec end;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sg-flood: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: ip netns exec NS sg-flood --dev IFACE --dst-mac MAC --dst ADDR --src PREFIX\n"
"                          --count N --duration SEC [options]\n"
"Sends TCP frames out of IFACE with XDP_TX from BPF_PROG_TEST_RUN live frames.\n"
"  --dev IFACE         device to send from, in the current (non-initial) netns\n"
"  --dst-mac MAC       destination MAC (the receiver's)\n"
"  --src-mac MAC       source MAC (default: IFACE's)\n"
"  --dst ADDR          destination, in 198.18.0.0/15 or 2001:2::/48\n"
"  --dport P[-Q]       destination port or range (80)\n"
"  --src PREFIX        sources are drawn from this prefix, inside the ranges above;\n"
"                      an IPv6 prefix shorter than /64 spreads them over its /64s\n"
"                      (source i in the (i mod N)-th, N = 2^(64 - PLEN), at most\n"
"                      65536): many networks, not one\n"
"  --sources N         use the first N addresses of the prefix (default: all, at most 2^24)\n"
"  --random            draw each source at random (default: in turn)\n"
"  --sport P[-Q]       source port or range (1024-65535, in turn)\n"
"  --count N           stop after N frames (required, >= 1)\n"
"  --duration SEC      stop after SEC seconds (required, > 0)\n"
"  --rate PPS          frames per second in all, paced by batches (0: full rate)\n"
"  --smooth            with --rate: pace each frame in the program, no batches\n"
"                      (each sending CPU spins): a steady stream, and few test\n"
"                      runs a second, whose teardowns every CPU feels\n"
"  --threads N         sending threads, each pinned to its own CPU (1)\n"
"  --flags LIST        TCP flags: syn, synack, ack, rst, rstack, fin, finack,\n"
"                      or a comma list of syn,ack,fin,rst,psh,urg (syn)\n"
"  --options           Linux SYN options: MSS 1460, SACK permitted, timestamps,\n"
"                      window scale 7 (the default when SYN is set)\n"
"  --no-options        no TCP options\n"
"  --json              the final report as one JSON object\n"
"  -v, --verbose       libbpf's log\n"
"  -h, --help\n"
"Prints: sent N frames in S s: P pps.  Exit: 0 ok, 1 failed, 2 bad usage or\n"
"refused (address outside the lab ranges, device in the initial netns), 4 not root.\n");
}

static int parse_ull(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out < min || *out > max)
		return -1;
	return 0;
}

static int parse_double(const char *s, double min, double max, double *out)
{
	char *end;

	if (!s || !*s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || !(*out >= min) || !(*out <= max))
		return -1;
	return 0;
}

static int parse_range(const char *s, __u32 min, __u32 *lo, __u32 *count)
{
	unsigned long long a, b;
	char buf[32], *dash;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_ull(buf, min, 65535, &a))
		return -1;
	b = a;
	if (dash && parse_ull(dash + 1, a, 65535, &b))
		return -1;
	*lo = a;
	*count = b - a + 1;
	return 0;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_flags(const char *s, __u8 *flags)
{
	static const struct { const char *name; __u8 bits; } names[] = {
		{ "syn", PKT_SYN }, { "synack", PKT_SYN | PKT_ACK }, { "ack", PKT_ACK },
		{ "rst", PKT_RST }, { "rstack", PKT_RST | PKT_ACK }, { "fin", PKT_FIN },
		{ "finack", PKT_FIN | PKT_ACK }, { "psh", PKT_PSH }, { "urg", PKT_URG },
	};
	char buf[64], *tok, *save;
	unsigned int i;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*flags = 0;
	for (tok = strtok_r(buf, ",+", &save); tok; tok = strtok_r(NULL, ",+", &save)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(tok, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		*flags |= names[i].bits;
	}
	return *flags ? 0 : -1;
}

/* --- the lab's limits ----------------------------------------------------- */

/* Whether ADDR/PLEN lies inside 198.18.0.0/15 or 2001:2::/48. */
static bool in_lab(int family, const void *addr, unsigned int plen)
{
	if (family == AF_INET) {
		__u32 a = ntohl(*(const __u32 *)addr);

		return plen >= 15 && (a & 0xfffe0000) == 0xc6120000;
	}
	static const __u8 lab6[6] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 };

	return plen >= 48 && !memcmp(addr, lab6, sizeof(lab6));
}

/* ADDR or ADDR/PLEN; the prefix's host bits must be zero. */
static int parse_prefix(const char *s, int *family, __u8 addr[16], unsigned int *plen)
{
	unsigned long long p;
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned int max, i;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = AF_INET6, max = 128;
	else
		return -1;
	*plen = max;
	if (slash) {
		if (parse_ull(slash + 1, 0, max, &p))
			return -1;
		*plen = p;
	}
	for (i = *plen; i < max; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

/*
 * The device must not be in the initial network namespace: not init_net's
 * inode, not PID 1's namespace, and when PID 1's cannot be read (a
 * sandbox), a named one (ip netns add).  Never guess in favour of sending.
 */
static int check_netns(void)
{
	struct stat self, init, named;
	struct dirent *de;
	char path[PATH_MAX];
	bool found = false;
	DIR *d;

	if (stat("/proc/self/ns/net", &self))
		return fail(EXIT_USAGE, "cannot read /proc/self/ns/net: %s", strerror(errno));
	/* The kernel gives init_net this fixed inode number (PROC_NET_INIT_INO). */
	if (self.st_ino == PROC_NET_INIT_INO)
		return fail(EXIT_USAGE, "refusing to send from the initial network "
			    "namespace: run it with ip netns exec NS");
	if (!stat("/proc/1/ns/net", &init)) {
		if (self.st_ino == init.st_ino && self.st_dev == init.st_dev)
			return fail(EXIT_USAGE, "refusing to send from the initial network "
				    "namespace: run it with ip netns exec NS");
		return 0;
	}
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (!stat(path, &named) && named.st_ino == self.st_ino &&
		    named.st_dev == self.st_dev)
			found = true;
	}
	if (d)
		closedir(d);
	if (!found)
		return fail(EXIT_USAGE, "cannot tell this network namespace from the initial "
			    "one (/proc/1/ns/net unreadable, not an ip netns): refusing");
	return 0;
}

static int dev_mac(const char *dev, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* --- sending --------------------------------------------------------------- */

static double ts_sec(const struct timespec *t)
{
	return t->tv_sec + t->tv_nsec / 1e9;
}

static void ts_add(struct timespec *t, double sec)
{
	long long ns = t->tv_nsec + (long long)(sec * 1e9);

	t->tv_sec += ns / 1000000000;
	t->tv_nsec = ns % 1000000000;
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* Claims up to @want frames of the --count budget; 0 when it is spent. */
static unsigned long long claim(unsigned long long want, unsigned long long count)
{
	unsigned long long got = __atomic_fetch_add(&claimed, want, __ATOMIC_RELAXED);

	if (got >= count)
		return 0;
	return got + want > count ? count - got : want;
}

/* --smooth: frames this worker's CPU has sent, or -1. */
static long long cpu_sent(const struct worker *w)
{
	struct flood_state *st = calloc(w->ncpu, sizeof(*st));
	long long sent = -1;

	if (st && !bpf_map_lookup_elem(w->map_fd, &(__u32){ 0 }, st))
		sent = st[w->cpu].sent;
	free(st);
	return sent;
}

/*
 * --smooth: the program paces itself (a frame every gap_ns on this CPU,
 * the rest of the runs XDP_DROP), so each call can be long: about 25 a
 * second whatever the rate, each ending within ~40 ms, when the thread
 * checks its quota, the clock and the signals.
 */
static void *worker_smooth(struct worker *w, const struct xdp_md *ctx)
{
	struct timespec now;
	long long sent;

	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_after(&now, &w->end))
			break;
		LIBBPF_OPTS(bpf_test_run_opts, topts,
			.data_in = w->frame,
			.data_size_in = w->frame_len,
			.ctx_in = ctx,
			.ctx_size_in = sizeof(*ctx),
			.repeat = SMOOTH_REPEAT,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = BATCH_SIZE);
		if (bpf_prog_test_run_opts(w->prog_fd, &topts)) {
			if (errno != EINTR)
				w->err = -errno;
			stop = 1;
			break;
		}
		sent = cpu_sent(w);
		if (sent < 0 || (unsigned long long)sent >= w->quota)
			break;
	}
	return NULL;
}

/*
 * Each BPF_PROG_TEST_RUN call with live frames sets up and tears down a
 * page_pool, and the teardown waits for an RCU grace period: a call costs
 * up to tens of ms before its first frame.  So --rate cannot be paced by
 * small calls; each call sends the frames owed since the start (at least a
 * millisecond's worth), back to back, and the average holds.  A thousand
 * calls a second are felt on every CPU (the grace periods): --smooth
 * paces in the program instead.
 */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	/* The kernel wants data_end to be the frame's length, data 0. */
	struct xdp_md ctx = { .ingress_ifindex = w->ifindex, .data_end = w->frame_len };
	double per_thread = o->rate / o->threads, owed;
	unsigned long long chunk = CHUNK_MAX, n, done = 0;
	struct timespec now, start, next;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		w->err = -EINVAL;
		return NULL;
	}
	if (o->smooth)
		return worker_smooth(w, &ctx);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_after(&now, &w->end))
			break;
		if (per_thread > 0) {
			owed = per_thread * (ts_sec(&now) - ts_sec(&start)) - done;
			if (owed < per_thread / 1000 || owed < 1) {
				/* Sleep until a millisecond's worth (or one frame) is owed. */
				next = start;
				ts_add(&next, (done + (per_thread / 1000 < 1 ? 1 : per_thread / 1000)) /
					      per_thread);
				if (ts_after(&next, &w->end))
					break;
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
				continue;
			}
			chunk = owed > CHUNK_MAX ? CHUNK_MAX : (unsigned long long)owed;
		}
		n = claim(chunk, o->count);
		if (!n)
			break;
		LIBBPF_OPTS(bpf_test_run_opts, topts,
			.data_in = w->frame,
			.data_size_in = w->frame_len,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.repeat = n,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = BATCH_SIZE);
		if (bpf_prog_test_run_opts(w->prog_fd, &topts)) {
			if (errno == EINTR)
				break;
			w->err = -errno;
			stop = 1;
			break;
		}
		done += n;
	}
	return NULL;
}

static const struct option long_opts[] = {
	{ "dev", required_argument, NULL, 'd' },
	{ "dst-mac", required_argument, NULL, 'M' },
	{ "src-mac", required_argument, NULL, 'm' },
	{ "dst", required_argument, NULL, 'D' },
	{ "dport", required_argument, NULL, 'P' },
	{ "src", required_argument, NULL, 'S' },
	{ "sources", required_argument, NULL, 'N' },
	{ "random", no_argument, NULL, 'R' },
	{ "sport", required_argument, NULL, 'p' },
	{ "count", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 't' },
	{ "rate", required_argument, NULL, 'r' },
	{ "smooth", no_argument, NULL, 'Z' },
	{ "threads", required_argument, NULL, 'T' },
	{ "flags", required_argument, NULL, 'f' },
	{ "options", no_argument, NULL, 'o' },
	{ "no-options", no_argument, NULL, 'O' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	static const __u8 linux_syn_opts[20] = {
		0x02, 0x04, 0x05, 0xb4,		/* MSS 1460 */
		0x04, 0x02,			/* SACK permitted */
		0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0,	/* timestamps */
		0x01, 0x03, 0x03, 0x07,		/* NOP, window scale 7 */
	};
	struct opts o = { .dport_lo = 80, .dport_count = 1, .sport_lo = 1024,
			  .sport_count = 64512, .threads = 1, .flags = PKT_SYN };
	struct worker workers[MAX_THREADS] = { 0 };
	int dst_family, src_family, c, err, ifindex, ncpu, frame_len, rc = EXIT_FAIL;
	__u8 dst_addr[16], src_addr[16], frame[256];
	unsigned int dst_plen, src_plen, host_bits, i;
	unsigned long long v, sent = 0, span;
	char dst_text[INET6_ADDRSTRLEN], src_text[INET6_ADDRSTRLEN];
	bool have_count = false, have_duration = false;
	struct flood_state *state = NULL;
	struct sg_flood *skel = NULL;
	struct timespec t0, t1;
	struct sigaction sa = { .sa_handler = on_signal };
	cpu_set_t allowed;
	double secs;
	int cpus[MAX_THREADS];

	while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'D': o.dst = optarg; break;
		case 'S': o.src = optarg; break;
		case 'M':
			if (parse_mac(optarg, o.dmac))
				return fail(EXIT_USAGE, "bad --dst-mac '%s'", optarg);
			o.have_dmac = true;
			break;
		case 'm':
			if (parse_mac(optarg, o.smac))
				return fail(EXIT_USAGE, "bad --src-mac '%s'", optarg);
			o.have_smac = true;
			break;
		case 'P':
			if (parse_range(optarg, 1, &o.dport_lo, &o.dport_count))
				return fail(EXIT_USAGE, "bad --dport '%s' (1-65535, or P-Q)", optarg);
			break;
		case 'p':
			if (parse_range(optarg, 1, &o.sport_lo, &o.sport_count))
				return fail(EXIT_USAGE, "bad --sport '%s' (1-65535, or P-Q)", optarg);
			break;
		case 'N':
			if (parse_ull(optarg, 1, UINT32_MAX, &v))
				return fail(EXIT_USAGE, "bad --sources '%s'", optarg);
			o.sources = v;
			break;
		case 'R': o.random = true; break;
		case 'c':
			if (parse_ull(optarg, 1, ULLONG_MAX / 2, &o.count))
				return fail(EXIT_USAGE, "bad --count '%s' (>= 1)", optarg);
			have_count = true;
			break;
		case 't':
			if (parse_double(optarg, 0.001, 86400, &o.duration))
				return fail(EXIT_USAGE, "bad --duration '%s' (0.001-86400 s)", optarg);
			have_duration = true;
			break;
		case 'r':
			if (parse_double(optarg, 0, 1e9, &o.rate))
				return fail(EXIT_USAGE, "bad --rate '%s' (0: full rate)", optarg);
			break;
		case 'Z':
			o.smooth = true;
			break;
		case 'T':
			if (parse_ull(optarg, 1, MAX_THREADS, &v))
				return fail(EXIT_USAGE, "bad --threads '%s' (1-%d)", optarg, MAX_THREADS);
			o.threads = v;
			break;
		case 'f':
			if (parse_flags(optarg, &o.flags))
				return fail(EXIT_USAGE, "bad --flags '%s'", optarg);
			break;
		case 'o': o.no_options = false; o.options_set = true; break;
		case 'O': o.no_options = true; o.options_set = true; break;
		case 'j': o.json = true; break;
		case 'v': o.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!o.dev || !o.dst || !o.src || !o.have_dmac)
		return fail(EXIT_USAGE, "--dev, --dst-mac, --dst and --src are required");
	if (!have_count || !have_duration)
		return fail(EXIT_USAGE, "--count and --duration are both required: every flood is bounded");
	if (!o.options_set)
		o.no_options = !(o.flags & PKT_SYN);
	if (o.smooth && !(o.rate > 0))
		return fail(EXIT_USAGE, "--smooth paces --rate: give a rate");

	/* Addresses: the lab's ranges only, before touching anything. */
	if (parse_prefix(o.dst, &dst_family, dst_addr, &dst_plen) ||
	    dst_plen != (dst_family == AF_INET ? 32u : 128u))
		return fail(EXIT_USAGE, "bad --dst '%s' (an address)", o.dst);
	if (parse_prefix(o.src, &src_family, src_addr, &src_plen))
		return fail(EXIT_USAGE, "bad --src '%s' (ADDR/PLEN, host bits zero)", o.src);
	if (!in_lab(dst_family, dst_addr, dst_plen))
		return fail(EXIT_USAGE, "refusing --dst %s: not in 198.18.0.0/15 or 2001:2::/48", o.dst);
	if (!in_lab(src_family, src_addr, src_plen))
		return fail(EXIT_USAGE, "refusing --src %s: not inside 198.18.0.0/15 or 2001:2::/48", o.src);
	if (src_family != dst_family)
		return fail(EXIT_USAGE, "--src and --dst must be the same family");
	host_bits = (src_family == AF_INET ? 32 : 128) - src_plen;
	span = host_bits >= 24 ? 1ULL << 24 : 1ULL << host_bits;
	if (o.sources) {
		if (host_bits < 32 && o.sources > (1ULL << host_bits))
			return fail(EXIT_USAGE, "--sources %u: the prefix %s holds only %llu",
				    o.sources, o.src, 1ULL << host_bits);
		span = o.sources;
	}
	o.sources = span;
	inet_ntop(dst_family, dst_addr, dst_text, sizeof(dst_text));
	inet_ntop(src_family, src_addr, src_text, sizeof(src_text));

	if (geteuid() != 0)
		return fail(EXIT_ROOT, "must run as root (BPF_PROG_TEST_RUN)");
	if ((rc = check_netns()))
		return rc;
	rc = EXIT_FAIL;
	ifindex = if_nametoindex(o.dev);
	if (!ifindex)
		return fail(EXIT_USAGE, "no device '%s' in this network namespace", o.dev);
	if (!o.have_smac && (err = dev_mac(o.dev, o.smac)))
		return fail(EXIT_FAIL, "%s: cannot read its MAC: %s", o.dev, strerror(-err));

	/* Threads: one per CPU, on the CPUs this process may use. */
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return fail(EXIT_FAIL, "sched_getaffinity: %s", strerror(errno));
	for (c = 0, i = 0; c < CPU_SETSIZE && i < o.threads; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[i++] = c;
	if (i < o.threads)
		return fail(EXIT_USAGE, "--threads %u: only %u CPUs allowed", o.threads, i);

	/* The template frame. */
	struct pkt_spec spec = {
		.family = src_family == AF_INET ? 4 : 6, .src = src_text, .dst = dst_text,
		.sport = o.sport_lo, .dport = o.dport_lo, .tcp_flags = o.flags,
		.tcp_opts = o.no_options ? NULL : linux_syn_opts,
		.tcp_opt_len = o.no_options ? 0 : sizeof(linux_syn_opts),
		/* Linux's TCP sets DF (path MTU discovery); XDP synproxies drop what lacks it. */
		.frag_off = PKT_IP_DF,
	};
	memcpy(spec.smac, o.smac, 6);
	memcpy(spec.dmac, o.dmac, 6);
	/* pkt_build: a zero MAC means its default; an all-zero MAC is no MAC anyway. */
	frame_len = pkt_build(&spec, frame, sizeof(frame));
	if (frame_len < 0)
		return fail(EXIT_FAIL, "cannot build the template frame: %s", strerror(-frame_len));

	if (!o.verbose)
		libbpf_set_print(libbpf_quiet);
	skel = sg_flood__open();
	if (!skel)
		return fail(EXIT_FAIL, "cannot open the BPF object: %s", strerror(errno));
	skel->rodata->cfg_ipv6 = src_family == AF_INET6;
	skel->rodata->cfg_tcp_len = 20 + spec.tcp_opt_len;
	skel->rodata->cfg_src_base = ntohl(*(__u32 *)(src_addr + (src_family == AF_INET ? 0 : 12)));
	skel->rodata->cfg_src_count = o.sources;
	if (src_family == AF_INET6 && src_plen < 64) {
		skel->rodata->cfg_src_w1 = ntohl(*(__u32 *)(src_addr + 4));
		skel->rodata->cfg_nets = 1U << (64 - src_plen > 16 ? 16 : 64 - src_plen);
	}
	skel->rodata->cfg_random = o.random;
	skel->rodata->cfg_sport_lo = o.sport_lo;
	skel->rodata->cfg_sport_count = o.sport_count;
	skel->rodata->cfg_dport_lo = o.dport_lo;
	skel->rodata->cfg_dport_count = o.dport_count;
	skel->rodata->cfg_ack = !!(o.flags & PKT_ACK);
	if (frame_len != 54 && frame_len != 74 && frame_len != 94) {
		fail(EXIT_FAIL, "template frame of %d bytes: the program copies 54, 74 or 94",
		     frame_len);
		goto cleanup;
	}
	memcpy(skel->bss->cfg_frame, frame, frame_len);
	skel->rodata->cfg_frame_len = frame_len;
	err = sg_flood__load(skel);
	if (err) {
		fail(EXIT_FAIL, "cannot load the BPF program: %s (-v shows the verifier's log)",
		     strerror(-err));
		goto cleanup;
	}

	/* Thread i walks sources i, i + threads, ...: set each CPU's start. */
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || !(state = calloc(ncpu, sizeof(*state)))) {
		fail(EXIT_FAIL, "cannot size the per-CPU state");
		goto cleanup;
	}
	for (c = 0; c < ncpu; c++)
		state[c].stride = o.threads;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < o.threads; i++) {
		if (cpus[i] >= ncpu)
			continue;
		state[cpus[i]].next = i;
		if (o.smooth) {
			/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
			state[cpus[i]].gap_ns = (__u64)(1e9 * o.threads / o.rate) ?: 1;
			state[cpus[i]].next_ns = (__u64)t0.tv_sec * 1000000000ULL + t0.tv_nsec;
			state[cpus[i]].end_ns = state[cpus[i]].next_ns + (__u64)(o.duration * 1e9);
			state[cpus[i]].quota = o.count / o.threads + (i < o.count % o.threads);
		}
	}
	if (bpf_map__update_elem(skel->maps.flood_state, &(__u32){ 0 }, sizeof(__u32), state,
				 ncpu * sizeof(*state), BPF_ANY)) {
		fail(EXIT_FAIL, "cannot set the per-CPU state: %s", strerror(errno));
		goto cleanup;
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (i = 0; i < o.threads; i++) {
		workers[i] = (struct worker){
			.prog_fd = bpf_program__fd(skel->progs.sg_flood), .ifindex = ifindex,
			.map_fd = bpf_map__fd(skel->maps.flood_state), .ncpu = ncpu,
			.quota = o.count / o.threads + (i < o.count % o.threads),
			.cpu = cpus[i], .o = &o, .frame = frame, .frame_len = frame_len, .end = t0,
		};
		ts_add(&workers[i].end, o.duration);
		err = pthread_create(&workers[i].tid, NULL, worker_run, &workers[i]);
		if (err) {
			stop = 1;
			fail(EXIT_FAIL, "pthread_create: %s", strerror(err));
			o.threads = i;
			break;
		}
	}
	err = 0;
	for (i = 0; i < o.threads; i++) {
		pthread_join(workers[i].tid, NULL);
		if (workers[i].err && !err)
			err = workers[i].err;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = ts_sec(&t1) - ts_sec(&t0);

	if (bpf_map__lookup_elem(skel->maps.flood_state, &(__u32){ 0 }, sizeof(__u32), state,
				 ncpu * sizeof(*state), 0)) {
		fail(EXIT_FAIL, "cannot read the per-CPU state: %s", strerror(errno));
		goto cleanup;
	}
	for (c = 0; c < ncpu; c++)
		sent += state[c].sent;
	if (err) {
		fail(EXIT_FAIL, "BPF_PROG_TEST_RUN on %s: %s", o.dev, strerror(-err));
		if (err == -EINVAL || err == -EOPNOTSUPP)
			fputs("sg-flood: (live frames need Linux 5.18 or later)\n", stderr);
	}
	if (o.json)
		printf("{\"sent\": %llu, \"seconds\": %.6f, \"pps\": %.0f, \"threads\": %u, "
		       "\"interrupted\": %s, \"dev\": \"%s\", \"src\": \"%s\", \"sources\": %u, "
		       "\"dst\": \"%s\", \"frame_len\": %d}\n",
		       sent, secs, secs > 0 ? sent / secs : 0, o.threads, stop ? "true" : "false",
		       o.dev, o.src, o.sources, o.dst, frame_len);
	else
		printf("sent %llu frames in %.3f s: %.0f pps\n", sent, secs,
		       secs > 0 ? sent / secs : 0);
	fflush(stdout);
	rc = err ? EXIT_FAIL : 0;
cleanup:
	free(state);
	sg_flood__destroy(skel);
	return rc;
}
