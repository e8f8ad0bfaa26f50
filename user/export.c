// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* export: the counters and gauges as Prometheus metrics over HTTP. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "common.h"
#include "cmd.h"
#include "attack.h"
#include "flows.h"
#include "pin.h"
#include "stats.h"

#define DEFAULT_LISTEN "127.0.0.1:9474"

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

/* Attack mode, the thresholds in force and which of them turned it on. */
static void export_attack(FILE *f, const struct sg_attack *a, const struct sg_config *cfg)
{
	struct attack_thresholds t;

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
	head(f, "attack_window", "gauge", "The last one-second window: SYNs, unanswered SYNs.");
	fprintf(f, "synguard_attack_window{value=\"syns\"} %llu\n"
		"synguard_attack_window{value=\"unanswered\"} %llu\n"
		"synguard_attack_window{value=\"half_open_estimate\"} %llu\n",
		(unsigned long long)a->last_rate, (unsigned long long)a->unanswered,
		(unsigned long long)a->half_open_est);
}

void export_write(FILE *f, const struct sg_source *src, const struct sg_counters *c,
		  const struct sg_flow_summary *fl)
{
	int i, b, h;

	head(f, "info", "gauge", "The attachment: interface, netns, mode, program.");
	fputs("synguard_info{interface=\"", f);
	label(f, src->ifname);
	fputs("\",netns=\"", f);
	label(f, src->netns);
	fprintf(f, "\",mode=\"%s\",prog_id=\"%u\",dry_run=\"%s\"} 1\n",
		src->meta && src->meta->mode == SG_MODE_GENERIC ? "generic" : "native",
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
	if (src->attack && src->cfg)
		export_attack(f, src->attack, src->cfg);
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

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)sa, len) || listen(fd, 16)) {
		err_msg("cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void serve(int cfd, struct sg_pins *p, struct sg_source *src)
{
	struct timeval tv = { 2, 0 };
	struct sg_flow_summary fl;
	struct sg_flow_maps fm;
	struct sg_counters c;
	char req[4096], *body = NULL;
	size_t blen = 0, got = 0;
	const char *status = "200 OK";
	ssize_t n;
	FILE *f;

	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The loop looks for the blank line before reading: start empty, or
	 * it finds the last request's, left on the stack, and reads nothing. */
	req[0] = '\0';
	while (got < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
		n = read(cfd, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += n;
		req[got] = '\0';
	}
	req[got] = '\0';
	f = open_memstream(&body, &blen);
	if (!f)
		return;
	pins_flow_maps(p, &fm);
	if (strncmp(req, "GET /metrics ", 13) && strncmp(req, "GET /metrics?", 13)) {
		status = "404 Not Found";
		fputs("synguard serves /metrics\n", f);
	} else if (stats_read(p->stats_fd, p->drops_fd, &c) ||
		   flows_read(&fm, &p->cfg, 0, &fl)) {
		status = "503 Service Unavailable";
		fprintf(f, "cannot read the maps: %s\n", strerror(errno));
	} else {
		struct sg_attack a;
		__u32 zero = 0;

		/* The live policy and attack state: both change under a running export. */
		pins_refresh_config(p);
		src->cfg = &p->cfg;
		src->attack = bpf_map_lookup_elem(p->attack_fd, &zero, &a) ? NULL : &a;
		export_write(f, src, &c, &fl);
		src->attack = NULL;
	}
	fclose(f);
	dprintf(cfd, "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n", status, blen);
	/* A scraper that went away gets nothing more; there is no one to tell. */
	if (write(cfd, body, blen) != (ssize_t)blen)
		blen = 0;
	free(body);
}

static const char export_usage[] =
	"usage: synguard export IFACE [--listen ADDR:PORT] [-n NETNS]\n"
	"  Serves /metrics in the Prometheus text format until interrupted.\n"
	"  --listen  address and port, [v6]:port for IPv6 (default " DEFAULT_LISTEN ")\n"
	"  With --netns the socket listens inside that netns.\n";

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS, { "listen", required_argument, NULL, 'l' }, {}
	};
	const char *listen_spec = DEFAULT_LISTEN;
	struct sg_source src = {};
	struct sockaddr_storage sa;
	struct sg_target t;
	socklen_t salen;
	struct sg_pins p;
	int opt, rc, lfd, err;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "l:", opts,
				 export_usage)) != -1) {
		if (opt != 'l')
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		listen_spec = optarg;
	}
	if (optind != argc - 1) {
		err_msg("export takes one interface (see synguard export --help)");
		return EXIT_USAGE;
	}
	if (listen_parse(listen_spec, &sa, &salen)) {
		err_msg("--listen takes ADDR:PORT or [V6ADDR]:PORT, not '%s'", listen_spec);
		return EXIT_USAGE;
	}
	rc = attachment_open(argv[optind], &t, NULL);
	if (rc)
		return rc;
	lfd = listen_on(&sa, salen, listen_spec);
	if (lfd < 0)
		return EXIT_FAIL;
	err = pins_open(t.dir, &p);
	if (err) {
		err_msg("cannot open the pins under %s: %s", t.dir, strerror(-err));
		close(lfd);
		return EXIT_FAIL;
	}
	stats_source(&src, &t, &p);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	info_msg("synguard: serving /metrics for %s on %s", t.ifname, listen_spec);
	/* Whoever started it may wait for this line: through a pipe, stdout
	 * would hold it until exit. */
	fflush(stdout);
	while (!stop) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int cfd;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;	/* timeout, or EINTR from a signal */
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		/* The policy may change live: read it per scrape. */
		pins_refresh_config(&p);
		src.dry_run = p.cfg.flags & SG_CFG_DRY_RUN;
		serve(cfd, &p, &src);
		close(cfd);
	}
	pins_close(&p);
	close(lfd);
	return EXIT_OK;
}
