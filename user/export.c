// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* export: the counters and gauges as Prometheus metrics over HTTP. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "common.h"
#include "names.h"
#include "cmd.h"
#include "export.h"
#include "attack.h"
#include "flows.h"
#include "pin.h"
#include "stats.h"

#define DEFAULT_LISTEN "127.0.0.1:9474"

/*
 * Connections are served side by side from one poll loop, so a client that
 * sends its request slowly or not at all holds a slot, not the exporter.
 * Each has EXP_DEADLINE from its accept to the end of its request headers,
 * and as long again to take the answer once it is ready (a request finished
 * just before its deadline still gets the whole time to read the answer);
 * one that misses either is closed.  The slots are bounded: when all are
 * taken, a new connection closes the oldest one still sending its request,
 * or is refused at once when every slot is answering.
 */
#define EXP_MAX_CONNS 64
#define EXP_DEADLINE 2.0	/* seconds */
#define EXP_REQ_MAX 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Label values: backslash, quote and newline escaped (text format 0.0.4). */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP synguard_%s %s\n# TYPE synguard_%s %s\n", name, help, name, type);
}

/* Counters that are not verdicts get a metric each, named after them. */
static bool is_verdict(int i)
{
	return i == SG_PASS || i == SG_DROP || i == SG_WOULD_DROP;
}

/* A sysctl's value in this (the interface's) netns; 0 when unreadable. */
static unsigned long long sysctl_ull(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* Attack mode, the thresholds in force and which of them turned it on. */
static void export_attack(FILE *f, const struct sg_attack *a, const struct sg_config *cfg)
{
	struct attack_thresholds t;
	unsigned long long som, max;

	attack_thresholds(a, cfg, &t);
	head(f, "attack_active", "gauge", "1 while attack mode is on.");
	fprintf(f, "synguard_attack_active %u\n", a->active ? 1 : 0);
	head(f, "attack_reason", "gauge",
	     "1 for each threshold over when attack mode was last over one (on: why it is).");
	fprintf(f, "synguard_attack_reason{threshold=\"syn_rate\"} %u\n"
		"synguard_attack_reason{threshold=\"half_open\"} %u\n",
		a->why & SG_WHY_SYN_RATE ? 1 : 0, a->why & SG_WHY_HALF_OPEN ? 1 : 0);
	head(f, "attack_threshold", "gauge",
	     "Thresholds in force (0: off); kind: learned, auto (host), set.");
	fprintf(f, "synguard_attack_threshold{threshold=\"syn_rate\",kind=\"%s\",judges=\"%s\"} %llu\n"
		"synguard_attack_threshold{threshold=\"half_open\",kind=\"%s\"} %llu\n",
		t.syn_kind, t.syn_metric, (unsigned long long)t.syn, t.half_open_kind,
		(unsigned long long)t.half_open);
	head(f, "attack_syn_baseline", "gauge", "Learned unanswered SYNs per second (auto).");
	fprintf(f, "synguard_attack_syn_baseline %.3f\n", t.baseline);
	/* What the auto half-open threshold is half of: an alert on the
	 * half-open flows needs it whether the threshold is auto or set. */
	som = sysctl_ull("/proc/sys/net/core/somaxconn");
	max = sysctl_ull("/proc/sys/net/ipv4/tcp_max_syn_backlog");
	head(f, "attack_syn_backlog", "gauge",
	     "The host's largest SYN queue, min(somaxconn, tcp_max_syn_backlog); 0: unread.");
	fprintf(f, "synguard_attack_syn_backlog %llu\n", som && (!max || som < max) ? som : max);
	head(f, "attack_window", "gauge", "The last one-second window: SYNs, unanswered SYNs.");
	fprintf(f, "synguard_attack_window{value=\"syns\"} %llu\n"
		"synguard_attack_window{value=\"unanswered\"} %llu\n"
		"synguard_attack_window{value=\"half_open_estimate\"} %llu\n",
		(unsigned long long)a->last_rate, (unsigned long long)a->unanswered,
		(unsigned long long)a->half_open_est);
}

/* The attachment, the verdicts, the drops by reason, every other counter. */
static void export_counters(FILE *f, const struct sg_source *src, const struct sg_counters *c)
{
	int i;

	head(f, "info", "gauge", "The attachment: interface, netns, mode, program.");
	fputs("synguard_info{interface=\"", f);
	label(f, src->ifname);
	fputs("\",netns=\"", f);
	label(f, src->netns);
	fprintf(f, "\",mode=\"%s\",prog_id=\"%u\",dry_run=\"%s\"} 1\n",
		xdp_mode_name(src->meta ? src->meta->mode : 0),
		src->prog_id, src->dry_run ? "true" : "false");

	head(f, "verdicts_total", "counter", "Frames by XDP verdict (would_drop: dry-run).");
	for (i = 0; i < SG_STAT_MAX; i++)
		if (is_verdict(i))
			fprintf(f, "synguard_verdicts_total{verdict=\"%s\"} %llu\n",
				stats_names[i], (unsigned long long)c->stat[i]);
	/* XDP_TX: a SYN answered with a SYN cookie. */
	fprintf(f, "synguard_verdicts_total{verdict=\"tx\"} %llu\n",
		(unsigned long long)c->stat[SG_COOKIE_SENT]);
	head(f, "drops_total", "counter", "Frames matching a drop rule, by reason.");
	for (i = 0; i < SG_REASON_MAX; i++)
		fprintf(f, "synguard_drops_total{reason=\"%s\"} %llu\n", reason_names[i],
			(unsigned long long)c->reason[i]);
	for (i = 0; i < SG_STAT_MAX; i++) {
		char name[64];

		if (is_verdict(i))
			continue;
		snprintf(name, sizeof(name), "%s_total", stats_names[i]);
		fprintf(f, "# HELP synguard_%s synguard counter %s (see README).\n"
			"# TYPE synguard_%s counter\nsynguard_%s %llu\n", name,
			stats_names[i], name, name, (unsigned long long)c->stat[i]);
	}
}

/* The flow gauges and the tables' fill. */
static void export_flows(FILE *f, const struct sg_counters *c, const struct sg_flow_summary *fl)
{
	int i;

	head(f, "flows", "gauge", "Tracked connections by the local end's state.");
	for (i = SG_TCP_SYN_SENT; i < SG_TCP_STATE_MAX; i++)
		fprintf(f, "synguard_flows{state=\"%s\"} %llu\n", state_names[i],
			(unsigned long long)fl->state[i]);
	head(f, "handshakes_failed", "gauge",
	     "Handshakes started that neither completed nor are in progress.");
	fprintf(f, "synguard_handshakes_failed %llu\n",
		(unsigned long long)flows_failed(fl, c->stat));
	head(f, "flow_table_entries", "gauge", "Entries in the flow tables, expired included.");
	fprintf(f, "synguard_flow_table_entries{table=\"half_open\"} %llu\n"
		"synguard_flow_table_entries{table=\"flows\"} %llu\n",
		(unsigned long long)fl->half_entries, (unsigned long long)fl->flow_entries);
	head(f, "flow_table_size", "gauge", "Capacity of the flow tables.");
	fprintf(f, "synguard_flow_table_size{table=\"half_open\"} %u\n"
		"synguard_flow_table_size{table=\"flows\"} %u\n", fl->half_max, fl->flows_max);
}

/* The latency histograms, cumulative as Prometheus has them. */
static void export_latency(FILE *f, const struct sg_flow_summary *fl)
{
	int b, h;

	head(f, "handshake_latency_seconds", "histogram",
	     "syn_to_synack: SYN in to SYN-ACK out; synack_to_ack: SYN-ACK to the ACK.");
	for (h = 0; h < SG_HIST_MAX; h++) {
		const char *phase = h == SG_HIST_SYN_SYNACK ? "syn_to_synack" : "synack_to_ack";
		__u64 cum = 0;

		/* Bucket b: log2(us + 1) == b, so us < 2^(b+1) - 1; the last one
		 * also holds everything longer (BPF clamps b), so it is +Inf's.
		 * %.15g: every bound exact, never printed below its true value. */
		for (b = 0; b < SG_HIST_BUCKETS - 1; b++) {
			cum += fl->hist[h][b];
			fprintf(f, "synguard_handshake_latency_seconds_bucket{phase=\"%s\","
				"le=\"%.15g\"} %llu\n", phase, ((1ULL << (b + 1)) - 1) / 1e6,
				(unsigned long long)cum);
		}
		cum += fl->hist[h][SG_HIST_BUCKETS - 1];
		fprintf(f, "synguard_handshake_latency_seconds_bucket{phase=\"%s\",le=\"+Inf\"} %llu\n"
			"synguard_handshake_latency_seconds_sum{phase=\"%s\"} %.9f\n"
			"synguard_handshake_latency_seconds_count{phase=\"%s\"} %llu\n",
			phase, (unsigned long long)cum, phase, fl->hist_sum_ns[h] / 1e9,
			phase, (unsigned long long)cum);
	}
}

void export_write(FILE *f, const struct sg_source *src, const struct sg_counters *c,
		  const struct sg_flow_summary *fl)
{
	export_counters(f, src, c);
	export_flows(f, c, fl);
	if (src->attack && src->cfg)
		export_attack(f, src->attack, src->cfg);
	if (src->top)
		top_srcs_prom(f, src->top);
	/* Last: a reader knows the exposition is whole when it ends with it. */
	export_latency(f, fl);
}

/* "ADDR:PORT" or "[V6ADDR]:PORT" into an address; -1 if it is neither.
 * Checked before the command touches a netns or the kernel.  inet_pton, as
 * for the allow and deny lists: dotted quads only ("1.2.3" is no address),
 * and no names or scope ids, which would resolve in the wrong netns.  An
 * IPv6 address takes brackets: "::1:80" could be ::1 port 80 or ::1:80. */
static int listen_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	const char *colon = strrchr(spec, ':');
	char host[INET6_ADDRSTRLEN];
	bool bracket = false;
	size_t hl;
	__u64 port;

	if (!colon || parse_u64(colon + 1, 1, 65535, &port))
		return -1;
	hl = colon - spec;
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
		bracket = true;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (bracket && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
	} else if (!bracket && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
	} else {
		return -1;
	}
	return 0;
}

/* A listening socket on the address, in the netns the command is in. */
static int listen_on(const struct sockaddr_storage *sa, socklen_t len, const char *spec)
{
	int fd, one = 1;

	/* Non-blocking: a connection reset between poll and accept4 would
	 * otherwise leave accept4 waiting for the next one.  The backlog
	 * holds a burst (more than EXP_MAX_CONNS) that comes while a scrape
	 * is being read: a full queue drops SYNs, a retransmit costs 1 s. */
	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)sa, len) || listen(fd, 2 * EXP_MAX_CONNS)) {
		err_msg("cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}


/* The id, program and interface of the link pinned in @dir: 0 or -errno. */
static int pinned_link(const char *dir, struct bpf_link_info *info)
{
	__u32 len = sizeof(*info);
	int fd, err = 0;

	memset(info, 0, sizeof(*info));
	fd = pin_get(dir, PIN_LINK);
	if (fd < 0 && errno == ENOENT) {
		/* attach --into: no link; the pinned program stands for it. */
		struct bpf_prog_info pi = {};
		__u32 plen = sizeof(pi);

		fd = pin_get(dir, PIN_PROG_XDP);
		if (fd < 0)
			return -errno;
		if (bpf_obj_get_info_by_fd(fd, &pi, &plen))
			err = -errno;
		close(fd);
		info->id = info->prog_id = pi.id;
		info->xdp.ifindex = 1;
		return err;
	}
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		err = -errno;
	close(fd);
	/* Detached (by `detach`, or with its interface gone): it runs nothing. */
	if (!err && !info->xdp.ifindex)
		err = -ENOLINK;
	return err;
}

void export_drop(struct exporter *e)
{
	if (e->link_id)
		pins_close(&e->p);
	e->link_id = 0;
}

/*
 * Keeps e->p on the attachment pinned now.  `attach --force` pins a new
 * link and new maps, `detach` removes them, and fds opened before still
 * reach the old ones: the old program's id and counters that no longer
 * move.  So every scrape compares the pinned link's id and program (a
 * link may also be given another program in place) with what it holds,
 * and opens the pins again when they differ.  The pins are opened one by
 * one while an attach may be replacing them; an attach unpins all the old
 * ones before it pins new ones, so the set is one attachment's when the
 * link is still the pinned one after the maps.  0, or -errno when there
 * is no complete attachment to read (tried again at the next scrape).
 */
static int exp_follow(struct exporter *e)
{
	struct bpf_link_info now, held;
	int err, tries;

	for (tries = 0; tries < 3; tries++) {
		__u32 len = sizeof(held);

		err = pinned_link(e->t.dir, &now);
		if (err)
			break;
		if (e->link_id == now.id && e->p.prog_id == now.prog_id)
			return 0;
		export_drop(e);
		err = pins_open(e->t.dir, &e->p);
		if (err)
			break;
		memset(&held, 0, sizeof(held));
		if (e->p.meta.mode == SG_MODE_SLOT)	/* link_fd is the program's */
			held.id = e->p.prog_id;
		else if (bpf_obj_get_info_by_fd(e->p.link_fd, &held, &len)) {
			err = -errno;
			pins_close(&e->p);
			break;
		}
		e->link_id = held.id;
		stats_source(&e->src, &e->t, &e->p);
		/* The loop's next pass checks the link is still the pinned one. */
	}
	if (!err)
		err = -EAGAIN;	/* replaced three times while we looked */
	export_drop(e);
	return err;
}

/* Why exp_follow() found nothing to read. */
static const char *follow_error(int err)
{
	return err == -ENOENT ? "not attached" :
	       err == -ENOLINK ? "its link is detached, the interface gone?" : strerror(-err);
}

/*
 * The exposition of one scrape, written to @f: 0, or -errno when the maps
 * could not be read (and nothing written).  With no attachment to read it
 * is synguard_up 0 alone: Prometheus stores that, where an error status
 * would only set its own `up` to 0 and leave no reason.  The HTTP loop
 * below is one user, export --textfile (textfile.c) the other.
 */
int export_metrics(FILE *f, struct exporter *e)
{
	struct sg_flow_summary fl;
	struct sg_flow_maps fm;
	struct sg_counters c;
	int err = exp_follow(e);

	if (err != e->shown_err || (!err && e->p.prog_id != e->shown_prog)) {
		if (err)
			info_msg("synguard: nothing to read on %s (%s): synguard_up 0",
				 e->t.ifname, follow_error(err));
		else
			info_msg("synguard: reading prog %u on %s", e->p.prog_id, e->t.ifname);
		fflush(stdout);
		e->shown_err = err;
		e->shown_prog = err ? 0 : e->p.prog_id;
	}
	if (!err) {
		/* The policy may change live: read it per scrape. */
		pins_refresh_config(&e->p);
		e->src.dry_run = e->p.cfg.flags & SG_CFG_DRY_RUN;
		pins_flow_maps(&e->p, &fm);
		if (stats_read(e->p.stats_fd, e->p.drops_fd, &c) ||
		    flows_read(&fm, &e->p.cfg, 0, &fl))
			return -errno;
	}
	head(f, "up", "gauge", "1: synguard is attached to the interface and was read; "
	     "0: it is not (and no other sample follows).");
	fprintf(f, "synguard_up %d\n", !err);
	if (!err) {
		struct sg_attack a;
		__u32 zero = 0;

		/* Attack mode's state and thresholds change under a running export. */
		e->src.cfg = &e->p.cfg;
		e->src.attack = bpf_map_lookup_elem(e->p.attack_fd, &zero, &a) ? NULL : &a;
		e->top.n = export_top_n;
		e->src.top = e->top.n && !top_srcs_update(&e->top, &e->p) ? &e->top : NULL;
		export_write(f, &e->src, &c, &fl);
		e->src.attack = NULL;
		e->src.top = NULL;
	}
	return 0;
}

struct exp_conn {
	int fd;			/* -1: a free slot */
	bool answering;		/* the request is in, the answer going out */
	double since;		/* accepted at (now_mono) */
	double deadline;
	char *resp;
	size_t len, off;	/* of resp, and how much of it is sent */
	size_t got;		/* bytes of the request in req */
	char req[EXP_REQ_MAX];	/* last: a new connection clears what is before */
};

static void conn_close(struct exp_conn *c)
{
	char junk[512];
	int i;

	if (c->answering && c->off == c->len) {
		/* Unread input makes close() send a RST, which may throw away
		 * the end of the answer before the client reads it: read what
		 * is there (bounded, never waiting) first. */
		shutdown(c->fd, SHUT_WR);
		for (i = 0; i < 16 && recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
			;
	}
	close(c->fd);
	free(c->resp);
	c->resp = NULL;
	c->fd = -1;
}

/* Is the request's header block complete?  A lone LF ends lines too. */
static bool request_done(const struct exp_conn *c)
{
	return strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") ||
	       c->got == sizeof(c->req) - 1;
}

/* The answer to c->req, whole, into c->resp; false when out of memory. */
static bool conn_answer(struct exp_conn *c, struct exporter *e)
{
	const char *status = "200 OK";
	char *body = NULL;
	size_t blen = 0;
	FILE *f;
	int err;

	f = open_memstream(&body, &blen);
	if (!f)
		return false;
	if (strncmp(c->req, "GET /metrics ", 13) && strncmp(c->req, "GET /metrics?", 13)) {
		status = "404 Not Found";
		fputs("synguard serves /metrics\n", f);
	} else if ((err = export_metrics(f, e))) {
		status = "503 Service Unavailable";
		fprintf(f, "cannot read the maps: %s\n", strerror(-err));
	}
	if (fclose(f)) {
		free(body);
		return false;
	}
	f = open_memstream(&c->resp, &c->len);
	if (!f) {
		free(body);
		return false;
	}
	fprintf(f, "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n", status, blen);
	fwrite(body, 1, blen, f);
	free(body);
	return fclose(f) == 0;
}

/* Sends what the socket takes; false when the connection is done with. */
static bool conn_send(struct exp_conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = send(c->fd, c->resp + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			/* A scraper that went away gets nothing more. */
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->off += n;
	}
	return false;
}

/* @c's socket is ready; false when the connection is done with. */
static bool conn_io(struct exp_conn *c, struct exporter *e, double now)
{
	ssize_t n;

	if (c->answering)
		return conn_send(c);
	n = recv(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	/* End of input: the request is what came, if anything did. */
	if (n == 0 && !c->got)
		return false;
	c->got += n;
	c->req[c->got] = '\0';
	if (n && !request_done(c))
		return true;
	if (!conn_answer(c, e))
		return false;
	c->answering = true;
	c->deadline = now + EXP_DEADLINE;
	return conn_send(c);
}

/* Takes the connections waiting on @lfd into free slots of @conns. */
static void conn_accept(int lfd, struct exp_conn *conns, double now)
{
	struct exp_conn *slot, *c;
	int i, fd;

	for (i = 0; i < EXP_MAX_CONNS; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;		/* EAGAIN: none left; else try next round */
		}
		slot = NULL;
		for (c = conns; c < conns + EXP_MAX_CONNS; c++) {
			if (c->fd < 0) {
				slot = c;
				break;
			}
			if (!c->answering && (!slot || c->since < slot->since))
				slot = c;
		}
		if (!slot) {
			close(fd);	/* every slot answering: refused */
			continue;
		}
		if (slot->fd >= 0)
			conn_close(slot);
		memset(slot, 0, offsetof(struct exp_conn, req));
		slot->fd = fd;
		slot->since = now;
		slot->deadline = now + EXP_DEADLINE;
		slot->req[0] = '\0';
	}
}

/* Serves until SIGINT or SIGTERM; EXIT_* code. */
static int exp_serve(int lfd, struct exporter *e)
{
	struct pollfd pfd[EXP_MAX_CONNS + 1];
	int idx[EXP_MAX_CONNS + 1];
	struct exp_conn *conns;
	sigset_t block, orig;
	int i, k, n, rc = EXIT_OK;

	conns = calloc(EXP_MAX_CONNS, sizeof(*conns));
	if (!conns) {
		err_msg("cannot serve: %s", strerror(errno));
		return EXIT_FAIL;
	}
	for (i = 0; i < EXP_MAX_CONNS; i++)
		conns[i].fd = -1;
	/* The signals arrive only inside ppoll: a flag set anywhere else
	 * could be missed until the next connection woke the loop. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	while (!stop) {
		double now = now_mono(), next = -1;
		struct timespec ts;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		n = 1;
		for (i = 0; i < EXP_MAX_CONNS; i++) {
			struct exp_conn *c = &conns[i];

			if (c->fd < 0)
				continue;
			if (now >= c->deadline) {
				conn_close(c);
				continue;
			}
			if (next < 0 || c->deadline < next)
				next = c->deadline;
			pfd[n] = (struct pollfd){ .fd = c->fd,
						  .events = c->answering ? POLLOUT : POLLIN };
			idx[n++] = i;
		}
		if (next >= 0) {
			/* Rounded up: woken early, the loop would spin to it. */
			long long ns = (long long)((next - now) * 1e9) + 1;

			ts.tv_sec = ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
		}
		if (ppoll(pfd, n, next >= 0 ? &ts : NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			err_msg("poll: %s", strerror(errno));
			rc = EXIT_FAIL;
			break;
		}
		now = now_mono();
		for (k = 1; k < n; k++)
			if (pfd[k].revents && !conn_io(&conns[idx[k]], e, now))
				conn_close(&conns[idx[k]]);
		if (pfd[0].revents & POLLIN)
			conn_accept(lfd, conns, now);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	for (i = 0; i < EXP_MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	free(conns);
	return rc;
}

static const struct cmd_opt export_opts[] = {
	{ "listen", 'l', "ADDR:PORT", "[v6]:port for IPv6 (default " DEFAULT_LISTEN ")" },
	{ "textfile", 't', "DIR", "write DIR/synguard_IFACE.prom instead (see above)" },
	CMD_OPT_INTERVAL("with --textfile: every SEC seconds (15; 0: back to back)"),
	CMD_OPT_COUNT,
	{ "top", 'T', "N", "the top N sources by SYN rate and by drops (10; 0: none)" },
	{ NULL }
};

static const struct cmd_help export_help = {
	.name = "export",
	.synopsis = "IFACE [--listen ADDR:PORT] [--top N] [-n NETNS]\n"
		    "       synguard export IFACE --textfile DIR [--interval SEC] [--count N] [--top N]",
	.text = "  Serves /metrics in the Prometheus text format until interrupted;\n"
		"  with --netns the socket listens inside that netns.  With --textfile,\n"
		"  writes the metrics for node-exporter's textfile collector instead,\n"
		"  atomically, every SEC seconds, N times (or until interrupted).\n",
	.opts = export_opts,
};

size_t export_top_n = TOP_SRCS_DEFAULT;

int cmd_export(int argc, char **argv)
{
	const char *listen_spec = DEFAULT_LISTEN, *textfile = NULL;
	bool listen_set = false, timing_set = false;
	double interval = 15;
	__u64 count = 0;
	struct sockaddr_storage sa;
	struct exporter e = {};
	socklen_t salen;
	int opt, rc, lfd, err;

	while ((opt = cmd_opt_next(&export_help, argc, argv)) != -1) {
		if (opt == 'T') {
			if (top_srcs_opt(optarg, &export_top_n))
				return EXIT_USAGE;
		} else if (opt == 't') {
			textfile = optarg;
		} else if (opt == 'i' && !parse_seconds(optarg, 0, 86400, &interval)) {
			timing_set = true;
		} else if (opt == 'c' && !parse_u64(optarg, 1, 1ULL << 32, &count)) {
			timing_set = true;
		} else if (opt == 'i' || opt == 'c') {
			err_msg(opt == 'i' ? "--interval takes seconds from 0 to 86400, not '%s'"
					   : "--count takes a number from 1 to 4294967296, not '%s'",
				optarg);
			return EXIT_USAGE;
		} else if (opt == 'l') {
			listen_spec = optarg;
			listen_set = true;
		} else {
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (cmd_operands(&export_help, argc, 1, "interface"))
		return EXIT_USAGE;
	if (textfile ? listen_set : timing_set) {
		err_msg(textfile ? "--textfile writes a file: no --listen"
				 : "--interval and --count go with --textfile");
		return EXIT_USAGE;
	}
	if (textfile)
		return export_textfile(argv[optind], textfile, interval, count);
	if (listen_parse(listen_spec, &sa, &salen)) {
		err_msg("--listen takes ADDR:PORT or [V6ADDR]:PORT, not '%s'", listen_spec);
		return EXIT_USAGE;
	}
	rc = attachment_open(argv[optind], &e.t, NULL);
	if (rc)
		return rc;
	lfd = listen_on(&sa, salen, listen_spec);
	if (lfd < 0)
		return EXIT_FAIL;
	err = exp_follow(&e);
	if (err) {
		err_msg("cannot read the attachment under %s: %s", e.t.dir, follow_error(err));
		close(lfd);
		return EXIT_FAIL;
	}
	e.shown_prog = e.p.prog_id;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	info_msg("synguard: serving /metrics for %s on %s", e.t.ifname, listen_spec);
	/* Whoever started it may wait for this line: through a pipe, stdout
	 * would hold it until exit. */
	fflush(stdout);
	rc = exp_serve(lfd, &e);
	export_drop(&e);
	top_srcs_reader_free(&e.top);
	close(lfd);
	return rc;
}
