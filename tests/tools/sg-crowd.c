// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sg-crowd: real HTTP clients in numbers, for the lab (tests/integration,
 * tests/bench).  Connections start on a schedule, each from one of N source
 * addresses in turn (bound, so the namespace must own them), and each makes
 * one request (Connection: close) and reads the answer to its end: a
 * connection counts as good when the answer starts with "HTTP/1.x 200".
 * One thread, non-blocking sockets and epoll: 10,000 connections in 2 s,
 * which curl processes cannot start.  Addresses outside 198.18.0.0/15 are
 * refused.  Prints a line a second with --every, and a JSON summary:
 * "syn_retrans" counts connections whose SYN was sent again (a SYN or its
 * SYN-ACK lost), "connect_slow" those that took 1 s or more as this loop
 * saw them (a retransmission, or a loop that fell behind).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LAB_NET	 0xc6120000u	/* 198.18.0.0/15 */
#define LAB_MASK 0xfffe0000u
#define MAX_FDS	 65536

struct conn {
	double t0;		/* started */
	double tc;		/* connected, 0 until then */
	int state;		/* 0 free, 1 connecting, 2 reading */
	char head[16];		/* the answer's first bytes */
	int nhead;
};

static struct conn conns[MAX_FDS];
static unsigned long started, good, failed, slow, retrans, refused, timedout, reset, other, bad_answer;
static double connect_max;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int lab_addr(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1)
		return -1;
	return (ntohl(a->s_addr) & LAB_MASK) == LAB_NET ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ip netns exec NS sg-crowd --dst ADDR --src ADDR --sources N --duration SEC\n"
		"                        (--count N | --rate-from R --rate-to R) [options]\n"
		"Opens HTTP/1.1 connections (one request each, Connection: close) from N\n"
		"consecutive source addresses, in turn, to ADDR.\n"
		"  --dst ADDR       server, in 198.18.0.0/15\n"
		"  --port P         server port (80)\n"
		"  --src ADDR       first source address, in 198.18.0.0/15 (owned by this netns)\n"
		"  --sources N      sources: ADDR and the N-1 after it (1)\n"
		"  --count N        connections, spread evenly over --duration\n"
		"  --rate-from R    connections a second at the start, rising (or falling)\n"
		"  --rate-to R      linearly to this at --duration (with --rate-from)\n"
		"  --duration SEC   the schedule's length, > 0\n"
		"  --timeout SEC    a connection's limit, from its start (10)\n"
		"  --every          a line a second: t, started, good, failed so far\n"
		"Prints a JSON summary.  Exit: 0 every connection good, 1 some not, 2 bad usage.\n");
}

static void finish(int ep, int fd, int ok, int err)
{
	struct conn *c = &conns[fd];

	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	if (ok) {
		good++;
	} else {
		failed++;
		if (err == ECONNREFUSED)
			refused++;
		else if (err == ETIMEDOUT)
			timedout++;
		else if (err == ECONNRESET || err == EPIPE)
			reset++;
		else if (err == -1)
			bad_answer++;
		else
			other++;
	}
	c->state = 0;
}

static void start(int ep, struct sockaddr_in *src, struct sockaddr_in *dst, double t)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	int fd, one = 1;

	started++;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || fd >= MAX_FDS) {
		if (fd >= 0)
			close(fd);
		failed++;
		other++;
		return;
	}
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)src, sizeof(*src)) < 0 ||
	    (connect(fd, (struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS)) {
		close(fd);
		failed++;
		other++;
		return;
	}
	conns[fd] = (struct conn){ .t0 = t, .state = 1 };
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void ready(int ep, int fd, double t)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n";
	struct conn *c = &conns[fd];
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	char buf[4096];
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	if (c->state == 1) {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			finish(ep, fd, 0, err);
			return;
		}
		c->tc = t;
		if (t - c->t0 > connect_max)
			connect_max = t - c->t0;
		if (t - c->t0 >= 1.0)	/* late: a retransmission, or this loop's */
			slow++;
		/* The SYN retransmitted: lost, or its SYN-ACK was (not this loop's lag). */
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) && ti.tcpi_total_retrans)
			retrans++;
		if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != sizeof(req) - 1) {
			finish(ep, fd, 0, errno);
			return;
		}
		c->state = 2;
		epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		return;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			int k = n < (ssize_t)sizeof(c->head) - c->nhead ? n : (ssize_t)sizeof(c->head) - c->nhead;

			memcpy(c->head + c->nhead, buf, k);
			c->nhead += k;
			continue;
		}
		if (n == 0) {
			int ok = c->nhead >= 12 && !memcmp(c->head, "HTTP/1.", 7) &&
				 !memcmp(c->head + 8, " 200", 4);

			finish(ep, fd, ok, ok ? 0 : -1);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		finish(ep, fd, 0, errno);
		return;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", 1, 0, 'd' }, { "port", 1, 0, 'p' }, { "src", 1, 0, 's' },
		{ "sources", 1, 0, 'n' }, { "count", 1, 0, 'c' }, { "rate-from", 1, 0, 'f' },
		{ "rate-to", 1, 0, 't' }, { "duration", 1, 0, 'D' }, { "timeout", 1, 0, 'T' },
		{ "every", 0, 0, 'e' }, { "help", 0, 0, 'h' }, { 0 },
	};
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in src = { .sin_family = AF_INET };
	double dur = 0, tmo = 10, r0 = -1, r1 = -1, t, t0, last_start = 0, next_line = 1;
	unsigned long count = 0, nsrc = 1, want, active;
	struct epoll_event evs[256];
	struct rlimit rl;
	int o, ep, every = 0, have_dst = 0, have_src = 0;
	uint32_t s0 = 0;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'd': if (lab_addr(optarg, &dst.sin_addr)) goto bad; have_dst = 1; break;
		case 's': if (lab_addr(optarg, &src.sin_addr)) goto bad; have_src = 1; break;
		case 'p': dst.sin_port = htons(atoi(optarg)); break;
		case 'n': nsrc = strtoul(optarg, NULL, 10); break;
		case 'c': count = strtoul(optarg, NULL, 10); break;
		case 'f': r0 = atof(optarg); break;
		case 't': r1 = atof(optarg); break;
		case 'D': dur = atof(optarg); break;
		case 'T': tmo = atof(optarg); break;
		case 'e': every = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!have_dst || !have_src || dur <= 0 || nsrc < 1 || tmo <= 0 ||
	    (count ? r0 >= 0 || r1 >= 0 : r0 < 0 || r1 < 0) || (r0 >= 0 && r0 + r1 <= 0)) {
		usage(stderr);
		return 2;
	}
	s0 = ntohl(src.sin_addr.s_addr);
	if (((s0 + nsrc - 1) & LAB_MASK) != LAB_NET || s0 + nsrc - 1 < s0) {
	bad:
		fprintf(stderr, "sg-crowd: addresses must be in 198.18.0.0/15\n");
		return 2;
	}
	/* As many descriptors as the hard limit allows, up to MAX_FDS. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max < MAX_FDS ? rl.rlim_max : MAX_FDS;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("sg-crowd: epoll");
		return 2;
	}
	t0 = now();
	for (;;) {
		int i, n;

		t = now() - t0;
		/* The schedule: connections due by t. */
		if (t < dur) {
			if (count)
				want = (unsigned long)(count * (t / dur)) + 1;
			else
				want = (unsigned long)(r0 * t + (r1 - r0) * t * t / (2 * dur)) + 1;
			if (count && want > count)
				want = count;
			while (started < want) {
				src.sin_addr.s_addr = htonl(s0 + started % nsrc);
				start(ep, &src, &dst, now());
				last_start = t;
			}
		} else if (count && started < count) {
			while (started < count) {	/* the rest, late */
				src.sin_addr.s_addr = htonl(s0 + started % nsrc);
				start(ep, &src, &dst, now());
				last_start = t;
			}
		}
		active = started - good - failed;
		if (t >= dur && !active)
			break;
		if (every && t >= next_line) {
			printf("t %.0f started %lu good %lu failed %lu\n", next_line, started, good, failed);
			fflush(stdout);
			next_line += 1;
		}
		n = epoll_wait(ep, evs, 256, 1);
		t = now();
		for (i = 0; i < n; i++)
			ready(ep, evs[i].data.fd, t);
		/* Timeouts: a scan every ~0.1 s is plenty for a limit in seconds. */
		static double last_scan;
		if (t - last_scan >= 0.1) {
			last_scan = t;
			for (i = 0; i < MAX_FDS; i++)
				if (conns[i].state && t - conns[i].t0 > tmo)
					finish(ep, i, 0, ETIMEDOUT);
		}
	}
	printf("{\"started\":%lu,\"good\":%lu,\"failed\":%lu,\"refused\":%lu,\"timeout\":%lu,"
	       "\"reset\":%lu,\"bad_answer\":%lu,\"other\":%lu,\"syn_retrans\":%lu,\"connect_slow\":%lu,"
	       "\"connect_max_ms\":%.1f,\"last_start_s\":%.3f,\"elapsed_s\":%.3f}\n",
	       started, good, failed, refused, timedout, reset, bad_answer, other, retrans, slow,
	       connect_max * 1000, last_start, now() - t0);
	return failed ? 1 : 0;
}
