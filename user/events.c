// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * events: the records of an attachment's sg_events ring buffer
 * (bpf/events.bpf.h), one line each, text or JSON, or to syslog(3).
 *
 * The buffer is pinned with the attachment, so it outlives every reader:
 * what the program wrote while nobody read waits there (until the buffer
 * is full: then the newest are lost, counted in events_lost).  Reading
 * consumes: a record one reader printed, the next one does not see.
 * Without --follow the command prints what the buffer holds and exits;
 * with it, it goes on printing as records come.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cmd.h"
#include "pin.h"
#include "stats.h"

static const struct cmd_opt events_opts[] = {
	{ "json", 'j', NULL, "one JSON object a line" },
	{ "follow", 'f', NULL, "keep printing events as they come (until SIGINT/SIGTERM)" },
	{ "syslog", 's', NULL, "to syslog(3), LOG_DAEMON, not to stdout" },
	{ NULL }
};
static const struct cmd_help events_help = {
	.name = "events",
	.synopsis = "IFACE [--json] [--follow] [--syslog] [-n NETNS]",
	.text = "  Prints the events the program recorded: attack mode entered and left,\n"
		"  sources limited, blocked and released, deny-list hits, flow table\n"
		"  full, flow tables evicting and drained, invalid cookie ACKs.\n"
		"  Reading consumes them.\n",
	.opts = events_opts,
};

#define EV_NAME(id, name) name,
static const char *const event_names[] = { SG_EVENT_LIST(EV_NAME) };

struct events_ctx {
	bool json, follow, use_syslog;
	__s64 mono_to_real;	/* add to a CLOCK_MONOTONIC ns for CLOCK_REALTIME */
	int deny_fd[2];		/* sg_deny4, sg_deny6; -1 if not there */
	__u64 seen;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __s64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void mono_offset(struct events_ctx *c)
{
	__s64 m0 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME),
	      m1 = clock_ns(CLOCK_MONOTONIC);

	c->mono_to_real = r - (m0 + (m1 - m0) / 2);
}

/* "2026-12-06T23:59:01.123Z" */
static void wall_time(char *buf, size_t len, __s64 real_ns)
{
	time_t s = real_ns / 1000000000LL;
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03lldZ", (long long)(real_ns / 1000000 % 1000));
}

static void addr_str(char *buf, size_t len, const __u8 *addr, __u8 family)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, len))
		snprintf(buf, len, "?");
}

/*
 * The deny entry that holds @addr: its longest prefix, as CIDR into @buf;
 * "" when none is there now (deleted since).
 */
static void deny_entry(const struct events_ctx *c, const __u8 *addr, __u8 family,
		       char *buf, size_t len)
{
	int fd = c->deny_fd[family == 4 ? 0 : 1];
	struct sg_lpm6 key, next, best = {};
	__u32 bytes = family == 4 ? 4 : 16, i, bits;
	char a[INET6_ADDRSTRLEN];
	bool found = false, first = true;

	buf[0] = 0;
	if (fd < 0)
		return;
	/* struct sg_lpm4 is the first 8 bytes of struct sg_lpm6 */
	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		bits = next.prefixlen;
		for (i = 0; i < bytes && bits >= 8 * (i + 1); i++)
			if (next.addr[i] != addr[i])
				break;
		if (i < bytes && bits >= 8 * (i + 1))
			continue;
		if (i < bytes && bits % 8 && i == bits / 8 &&
		    (next.addr[i] ^ addr[i]) & (__u8)(0xff << (8 - bits % 8)))
			continue;
		if (!found || next.prefixlen > best.prefixlen)
			best = next;
		found = true;
	}
	if (!found)
		return;
	addr_str(a, sizeof(a), best.addr, family);
	snprintf(buf, len, "%s/%u", a, best.prefixlen);
}

/*
 * The fields of @e, as name=value pairs (@json: "name":value), into @buf.
 * One table of names per type, so text and JSON never disagree.
 */
static void event_fields(const struct events_ctx *c, const struct sg_event *e,
			 bool json, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], entry[INET6_ADDRSTRLEN + 8], why[32] = "";
	const char *sep = json ? "," : " ", *q = json ? "\"" : "";
	const char *eq = json ? "\":" : "=", *kq = json ? "\"" : "";
	size_t n = 0;

#define F_U(name, val) \
	n += snprintf(buf + n, len > n ? len - n : 0, "%s%s%s%s%llu", sep, kq, name, eq, \
		      (unsigned long long)(val))
#define F_S(name, val) \
	n += snprintf(buf + n, len > n ? len - n : 0, "%s%s%s%s%s%s%s", sep, kq, name, eq, \
		      q, val, q)
#define F_D(name, val) \
	n += snprintf(buf + n, len > n ? len - n : 0, "%s%s%s%s%.3f", sep, kq, name, eq, \
		      (double)(val))
	buf[0] = 0;
	if (e->family == 4 || e->family == 6) {
		addr_str(a, sizeof(a), e->addr, e->family);
		snprintf(entry, sizeof(entry), "%s/%u", a, e->prefix);
	}
	switch (e->type) {
	case SG_EV_ATTACK_ENTER:
	case SG_EV_ATTACK_LEAVE:
		snprintf(why, sizeof(why), "%s%s%s",
			 e->aux & SG_WHY_SYN_RATE ? "syn_rate" : "",
			 (e->aux & SG_WHY_SYN_RATE) && (e->aux & SG_WHY_HALF_OPEN) ? "," : "",
			 e->aux & SG_WHY_HALF_OPEN ? "half_open" : "");
		F_U("syn_rate", e->v[0]);
		F_U("syn_threshold", e->v[1]);
		F_U("half_open", e->v[2]);
		F_U("half_open_threshold", e->v[3]);
		F_S("why", why[0] ? why : "none");
		F_U("leave_pct", e->aux2);
		break;
	case SG_EV_SRC_LIMITED:
	case SG_EV_SRC_BLOCKED:
		F_S("source", entry);
		F_U("syns", e->v[0]);
		F_U("dropped", e->v[1]);
		F_U("src_rate", e->aux);
		F_U("src_burst", e->aux2);
		if (e->type == SG_EV_SRC_BLOCKED)
			F_D("block_s", e->v[2] / 1e9);
		break;
	case SG_EV_SRC_RELEASED:
		F_S("source", entry);
		F_U("syns", e->v[0]);
		F_U("dropped", e->v[1]);
		F_D("limited_s", e->v[2] / 1e9);
		break;
	case SG_EV_DENY_HITS:
		F_S("source", a);
		deny_entry(c, e->addr, e->family, entry, sizeof(entry));
		F_S("entry", entry[0] ? entry : "gone");
		F_U("entry_hits_since", e->v[0]);
		F_U("entry_hits", e->v[1]);
		F_D("interval_s", e->v[2] / 1e9);
		break;
	case SG_EV_FLOW_TABLE_FULL:
		F_U("failed_before", e->v[0]);
		F_D("interval_s", e->v[1] / 1e9);
		break;
	case SG_EV_FLOW_TABLE_EVICTING:
	case SG_EV_FLOW_TABLE_DRAINED:
		F_S("table", e->aux == SG_EV_TBL_FLOWS ? "flows" : "half_open");
		F_U("evicted", e->v[0]);
		F_U("entries", e->v[1]);
		F_U("max_entries", e->v[2]);
		if (e->type == SG_EV_FLOW_TABLE_EVICTING)
			F_D("interval_s", e->v[3] / 1e9);
		else
			F_D("lasted_s", e->v[3] / 1e9);
		break;
	case SG_EV_COOKIE_INVALID:
		F_U("invalid", e->v[0]);
		F_U("invalid_before", e->v[1]);
		F_U("threshold", e->aux);
		break;
	}
#undef F_U
#undef F_S
#undef F_D
}

static int events_opt(int opt, const char *arg, void *o)
{
	struct events_ctx *e = o;

	(void)arg;
	if (opt == 'j')
		e->json = true;
	else if (opt == 'f')
		e->follow = true;
	else
		e->use_syslog = true;
	return EXIT_OK;
}

static int on_event(void *arg, void *data, size_t size)
{
	struct events_ctx *c = arg;
	const struct sg_event *e = data;
	const char *name;
	char when[40], fields[512], line[640];

	if (size < sizeof(*e))
		return 0;
	c->seen++;
	name = e->type < SG_EV_MAX ? event_names[e->type] : "unknown";
	wall_time(when, sizeof(when), (__s64)e->ts_ns + c->mono_to_real);
	event_fields(c, e, c->json, fields, sizeof(fields));
	if (c->json)
		snprintf(line, sizeof(line), "{\"time\":\"%s\",\"ktime_ns\":%llu,\"event\":\"%s\"%s}",
			 when, (unsigned long long)e->ts_ns, name, fields);
	else
		snprintf(line, sizeof(line), "%s %s%s", when, name, fields);
	if (c->use_syslog) {
		syslog(e->type == SG_EV_ATTACK_ENTER ? LOG_WARNING : LOG_NOTICE, "%s", line);
	} else {
		puts(line);
		fflush(stdout);
	}
	return 0;
}

int cmd_events(int argc, char **argv)
{
	struct events_ctx c = { .deny_fd = { -1, -1 } };
	struct ring_buffer *rb = NULL;
	struct sg_counters cnt;
	struct sg_target t;
	struct sg_pins p;
	int rc, fd, err = 0;

	rc = cmd_parse(&events_help, argc, argv, "interface", events_opt, &c);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = attachment_open(argv[optind], &t, &p);
	if (rc)
		return rc;
	fd = pin_get(t.dir, "sg_events");
	if (fd < 0) {
		err_msg("%s has no event buffer (attached by an older synguard: attach --force)",
			t.ifname);
		pins_close(&p);
		return EXIT_STATE;
	}
	c.deny_fd[0] = pin_get(t.dir, "sg_deny4");
	c.deny_fd[1] = pin_get(t.dir, "sg_deny6");
	rb = ring_buffer__new(fd, on_event, &c, NULL);
	if (!rb) {
		err = -errno;
		err_msg("cannot read the event buffer: %s", strerror(-err));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	if (c.use_syslog)
		openlog("synguard", LOG_PID, LOG_DAEMON);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	mono_offset(&c);
	err = ring_buffer__consume(rb);
	while (c.follow && !stop && err >= 0) {
		err = ring_buffer__poll(rb, 500);
		if (err == -EINTR)
			err = 0;
		mono_offset(&c);	/* the wall clock may have been set */
	}
	if (err < 0) {
		err_msg("reading the event buffer: %s", strerror(-err));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	/* What never reached the buffer, since attach: said, never silent. */
	if (!stats_read(p.stats_fd, p.drops_fd, &cnt) && !c.use_syslog)
		fprintf(stderr, "synguard: %llu events read; since attach: %llu written, "
			"%llu suppressed by the rate limit, %llu lost (buffer full)\n",
			(unsigned long long)c.seen, (unsigned long long)cnt.stat[SG_EVENTS],
			(unsigned long long)cnt.stat[SG_EVENTS_SUPPRESSED],
			(unsigned long long)cnt.stat[SG_EVENTS_LOST]);
	rc = EXIT_OK;
cleanup:
	ring_buffer__free(rb);
	if (c.use_syslog)
		closelog();
	close(fd);
	if (c.deny_fd[0] >= 0)
		close(c.deny_fd[0]);
	if (c.deny_fd[1] >= 0)
		close(c.deny_fd[1]);
	pins_close(&p);
	return rc;
}
