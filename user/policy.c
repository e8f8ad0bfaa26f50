// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The live policy: its keys, their values, files of them, the maps. */
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "common.h"
#include "policy.h"

#define NSEC_PER_SEC 1000000000ULL

static const char *const on_off[] = { "off", "on" };
static const char *const drop_pass[] = { "drop", "pass" };
static const char *const cookie_modes[] = {
	[SG_COOKIE_NEVER] = "never", [SG_COOKIE_ATTACK] = "attack",
	[SG_COOKIE_ALWAYS] = "always",
};

#define NAMES(a) .names = a, .n_names = sizeof(a) / sizeof(a[0])
#define FIELD(f) .off = offsetof(struct sg_config, f), .size = sizeof(((struct sg_config *)0)->f)
#define FIELD_MAX(f) (~0ULL >> (64 - 8 * sizeof(((struct sg_config *)0)->f)))
/* 0, or no build if @v does not fit in @field. */
#define FITS(field, v) (0 * sizeof(char[(__u64)(v) <= FIELD_MAX(field) ? 1 : -1]))
/*
 * A number of @field in @lo..@hi, times @scale when stored: the range in
 * the text a message and --help show is the one checked, spelled once.
 * @tail says what else it takes (", or off").
 */
#define NUM(key, field, lo, hi, scale_, help, tail, ...)                        \
	{ .name = key, .values = help ", " #lo ".." #hi tail, .type = POLICY_NUM, \
	  FIELD(field), .min = lo, .max = (hi) + FITS(field, (hi) * (scale_)),   \
	  .scale = scale_, __VA_ARGS__ }

const struct policy_key policy_keys[] = {
	{ .name = "dry_run", .values = "on|off", .type = POLICY_FLAG,
	  .flag = SG_CFG_DRY_RUN, NAMES(on_off) },
	{ .name = "unparsed", .values = "drop|pass", .type = POLICY_FLAG,
	  .flag = SG_CFG_UNPARSED_PASS, NAMES(drop_pass) },
	NUM("src_rate", src_rate, 1, 4294967295, 1, "SYNs per second per source",
	    ", or off", .off_ok = true),
	NUM("src_burst", src_burst, 1, 4294967295, 1, "SYNs a source may send at once", ""),
	NUM("prefix4", prefix4, 0, 32, 1, "IPv4 prefix length sources are counted by", ""),
	NUM("prefix6", prefix6, 0, 128, 1, "IPv6 prefix length sources are counted by", ""),
	{ .name = "block_time", .values = "seconds a source over its rate stays blocked, 0..86400",
	  .type = POLICY_TIME, FIELD(block_ns), .min = 0, .max = 86400 },
	{ .name = "ports", .values = "all, or destination ports and ranges: 80,443,8000-8100",
	  .type = POLICY_PORTS, .flag = SG_CFG_PORTS },
	/* auto: the program learns the threshold, the field its floor (include/detect.h). */
	NUM("attack_syn_rate", attack_syn_rate, 1, 4294967295, 1,
	    "interface SYNs/s that start attack mode", ", auto (learned) or off",
	    .off_ok = true, .auto_flag = SG_CFG_AUTO_SYN_RATE,
	    .auto_value = SG_AUTO_SYN_FLOOR),
	/* auto: derived from the host (policy_attack_defaults_from_host()). */
	NUM("attack_half_open", attack_half_open, 1, 4294967295, 1,
	    "half-open flows that start attack mode", ", auto (from the host's backlog) or off",
	    .off_ok = true, .auto_flag = SG_CFG_AUTO_HALF_OPEN,
	    .auto_value = SG_AUTO_HALF_OPEN_MIN),
	NUM("attack_hold", attack_hold_s, 1, 3600, 1,
	    "seconds below the leave thresholds before leaving", ""),
	NUM("attack_leave_pct", attack_leave_pct, 1, 100, 1,
	    "leave thresholds in % of the enter thresholds", ""),
	/* 0 is meaningful here: admit no unproven SYN at all. */
	NUM("unproven_rate", unproven_rate, 0, 4294967295, 1,
	    "attack mode: SYNs/s admitted from unproven sources", ""),
	NUM("unproven_burst", unproven_burst, 1, 4294967295, 1,
	    "attack mode: unproven SYNs admitted at once", ""),
	NUM("proven_time", proven_ns, 1, 2592000, NSEC_PER_SEC,
	    "seconds a source stays proven after a handshake", ""),
	NUM("half_open_timeout", half_open_s, 1, 86400, 1,
	    "seconds a half-open flow is counted", ""),
	NUM("time_wait_timeout", time_wait_s, 1, 86400, 1,
	    "seconds a TIME_WAIT flow is counted", ""),
	{ .name = "cookies", .values = "never|attack|always (when SYNs get a SYN cookie from XDP)",
	  .type = POLICY_ENUM, FIELD(cookie_mode), NAMES(cookie_modes) },
	/* RFC 879's 536 up to what a 64 KiB IPv4 / IPv6 packet can carry. */
	NUM("cookie_mss4", cookie_mss4, 536, 65495, 1, "MSS a cookie SYN-ACK offers over IPv4", ""),
	NUM("cookie_mss6", cookie_mss6, 1220, 65475, 1, "MSS a cookie SYN-ACK offers over IPv6", ""),
	NUM("cookie_wscale", cookie_wscale, 0, 14, 1,
	    "window scale a cookie SYN-ACK offers (the server's)", ""),
	{}
};

/* The field @k keeps its value in: 1, 2, 4 or 8 bytes of the config. */
static __u64 field_get(const struct sg_policy *p, const struct policy_key *k)
{
	const void *f = (const char *)&p->cfg + k->off;

	switch (k->size) {
	case 1: return *(const __u8 *)f;
	case 2: return *(const __u16 *)f;
	case 4: return *(const __u32 *)f;
	default: return *(const __u64 *)f;
	}
}

static void field_put(struct sg_policy *p, const struct policy_key *k, __u64 v)
{
	void *f = (char *)&p->cfg + k->off;

	switch (k->size) {
	case 1: *(__u8 *)f = v; break;
	case 2: *(__u16 *)f = v; break;
	case 4: *(__u32 *)f = v; break;
	default: *(__u64 *)f = v; break;
	}
}

static void flag_put(struct sg_policy *p, __u32 flag, bool on)
{
	if (on)
		p->cfg.flags |= flag;
	else
		p->cfg.flags &= ~flag;
}

/* @v's index in @k's names, or -1. */
static int name_index(const struct policy_key *k, const char *v)
{
	unsigned int i;

	for (i = 0; i < k->n_names; i++)
		if (!strcmp(v, k->names[i]))
			return i;
	return -1;
}

static int parse_flag(struct sg_policy *p, const struct policy_key *k, const char *v)
{
	int i = name_index(k, v);

	/* on|off also takes yes|no, true|false and 1|0. */
	if (i < 0 && k->names == on_off)
		i = !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") ? 1 :
		    !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") ? 0 : -1;
	if (i < 0)
		return -EINVAL;
	flag_put(p, k->flag, i);
	return 0;
}

static int parse_num(struct sg_policy *p, const struct policy_key *k, const char *v)
{
	__u64 n;

	if (k->auto_flag && !strcmp(v, "auto")) {
		field_put(p, k, k->auto_value);
		flag_put(p, k->auto_flag, true);
		return 0;
	}
	if (k->off_ok && !strcmp(v, "off"))
		n = 0;
	else if (parse_u64(v, k->min, k->max, &n))
		return -EINVAL;
	field_put(p, k, n * k->scale);
	if (k->auto_flag)
		flag_put(p, k->auto_flag, false);
	return 0;
}

/* Seconds with a fraction, kept in nanoseconds. */
static int parse_time(struct sg_policy *p, const struct policy_key *k, const char *v)
{
	double s;

	if (parse_seconds(v, k->min, k->max, &s))
		return -EINVAL;
	/* A positive value that rounds to 0 ns would mean "off". */
	if (s > 0 && s * NSEC_PER_SEC < 1)
		return -EINVAL;
	field_put(p, k, (__u64)(s * NSEC_PER_SEC + 0.5));
	return 0;
}

static int parse_port(const char *s, char **end, __u32 *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v < 1 || v > 65535)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "all", or a comma list of ports and ranges: 80,443,8000-8100 */
static int parse_ports(struct sg_policy *p, const char *v)
{
	__u64 bits[SG_PORT_WORDS] = {};
	const char *s = v;
	__u32 lo, hi, port;
	char *end;

	if (!strcmp(v, "all")) {
		memset(p->ports, 0, sizeof(p->ports));
		flag_put(p, SG_CFG_PORTS, false);
		return 0;
	}
	for (;;) {
		if (parse_port(s, &end, &lo))
			return -EINVAL;
		hi = lo;
		if (*end == '-' && parse_port(end + 1, &end, &hi))
			return -EINVAL;
		if (hi < lo)
			return -EINVAL;
		for (port = lo; port <= hi; port++)
			bits[port / 64] |= 1ULL << (port % 64);
		if (!*end)
			break;
		if (*end != ',')
			return -EINVAL;
		s = end + 1;
	}
	memcpy(p->ports, bits, sizeof(bits));
	flag_put(p, SG_CFG_PORTS, true);
	return 0;
}

static int key_parse(struct sg_policy *p, const struct policy_key *k, const char *v)
{
	int i;

	switch (k->type) {
	case POLICY_FLAG:
		return parse_flag(p, k, v);
	case POLICY_ENUM:
		i = name_index(k, v);
		if (i < 0)
			return -EINVAL;
		field_put(p, k, i);
		return 0;
	case POLICY_NUM:
		return parse_num(p, k, v);
	case POLICY_TIME:
		return parse_time(p, k, v);
	case POLICY_PORTS:
		return parse_ports(p, v);
	}
	return -EINVAL;
}

/* Exact to the nanosecond, so `config show` reads back as it was set. */
static void format_time(__u64 ns, FILE *f)
{
	char frac[16];
	int n;

	fprintf(f, "%llu", (unsigned long long)(ns / NSEC_PER_SEC));
	n = snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)(ns % NSEC_PER_SEC));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	if (n)
		fprintf(f, ".%s", frac);
}

static bool port_set(const struct sg_policy *p, __u32 port)
{
	return port <= 65535 && (p->ports[port / 64] >> (port % 64)) & 1;
}

static void format_ports(const struct sg_policy *p, FILE *f)
{
	__u32 port, end;
	bool first = true;

	if (!(p->cfg.flags & SG_CFG_PORTS)) {
		fputs("all", f);
		return;
	}
	for (port = 1; port <= 65535; port++) {
		if (!port_set(p, port))
			continue;
		for (end = port; end < 65535 && port_set(p, end + 1); end++)
			;
		fprintf(f, "%s%u", first ? "" : ",", port);
		if (end > port)
			fprintf(f, "-%u", end);
		first = false;
		port = end;
	}
}

/* @k's value in @p as `config show` and a config file spell it. */
static void key_format(const struct sg_policy *p, const struct policy_key *k, FILE *f)
{
	__u64 v;

	switch (k->type) {
	case POLICY_FLAG:
		fputs(k->names[!!(p->cfg.flags & k->flag)], f);
		break;
	case POLICY_ENUM:
		v = field_get(p, k);
		fputs(v < k->n_names ? k->names[v] : "?", f);
		break;
	case POLICY_NUM:
		v = field_get(p, k) / k->scale;
		if (k->auto_flag && (p->cfg.flags & k->auto_flag))
			fputs("auto", f);
		else if (k->off_ok && !v)
			fputs("off", f);
		else
			fprintf(f, "%llu", (unsigned long long)v);
		break;
	case POLICY_TIME:
		format_time(field_get(p, k), f);
		break;
	case POLICY_PORTS:
		format_ports(p, f);
		break;
	}
}

void policy_defaults(struct sg_policy *p)
{
	memset(p, 0, sizeof(*p));
	/*
	 * Guard by default.  src_rate limits a source's unanswered SYNs
	 * (completions refund them): 100/s with 500 at once (in flight: 5000
	 * connections a second at 100 ms) is far above what a real host
	 * leaves unanswered, and stops a single-source flood: 99% of 8 s
	 * even at 20k SYN/s.  Attack mode starts on its own: both
	 * thresholds auto.
	 */
	p->cfg.src_rate = 100;
	p->cfg.src_burst = 500;
	p->cfg.flags = SG_CFG_AUTO_SYN_RATE | SG_CFG_AUTO_HALF_OPEN;
	p->cfg.attack_syn_rate = SG_AUTO_SYN_FLOOR;
	p->cfg.attack_half_open = SG_AUTO_HALF_OPEN_MIN;
	p->cfg.prefix4 = 32;
	p->cfg.prefix6 = 64;
	p->cfg.attack_hold_s = 5;
	p->cfg.attack_leave_pct = 50;
	p->cfg.unproven_rate = 10;
	p->cfg.unproven_burst = 10;
	p->cfg.proven_ns = 3600 * NSEC_PER_SEC;
	p->cfg.half_open_s = 63;	/* tcp_synack_retries 5: 1+2+4+8+16+32 s */
	p->cfg.time_wait_s = 60;	/* TCP_TIMEWAIT_LEN */
	p->cfg.cookie_mode = SG_COOKIE_ATTACK;
	p->cfg.cookie_mss4 = 1460;	/* Ethernet: 1500 - 40 */
	p->cfg.cookie_mss6 = 1440;
	p->cfg.cookie_wscale = 7;
}

void policy_defaults_from_host(struct sg_policy *p)
{
	unsigned int retries;
	FILE *f;

	/*
	 * Linux drops a request socket after tcp_synack_retries SYN-ACK
	 * retransmits, the timer doubling from 1 s: 2^(n+1) - 1 seconds.
	 * Read in the interface's netns (sysctls are per netns).
	 */
	f = fopen("/proc/sys/net/ipv4/tcp_synack_retries", "r");
	if (!f)
		return;
	if (fscanf(f, "%u", &retries) == 1 && retries < 16)
		p->cfg.half_open_s = (1U << (retries + 1)) - 1;
	fclose(f);
}

static unsigned long read_ulong_field(const char *path, int field);

void policy_attack_defaults_from_host(struct sg_policy *p)
{
	unsigned long somaxconn, backlog, m;

	if (!(p->cfg.flags & SG_CFG_AUTO_HALF_OPEN))
		return;
	/*
	 * A listener's SYN queue holds min(listen()'s backlog, somaxconn)
	 * requests; when it is full the kernel answers with its own cookies
	 * (tcp_conn_request(): inet_csk_reqsk_queue_is_full()), and without
	 * cookies it drops at 3/4 of tcp_max_syn_backlog.  The backlog a
	 * server asks for is not known here, so the largest queue the host
	 * allows, min(somaxconn, tcp_max_syn_backlog), stands for it: attack
	 * mode starts when the half-open flows of the interface would fill
	 * half of it, before the kernel has to.  Real traffic keeps rate x
	 * RTT half open: 1024 (the defaults 4096 and 2048) is 10,000
	 * connections a second at 100 ms.  Read in the interface's netns.
	 */
	somaxconn = read_ulong_field("/proc/sys/net/core/somaxconn", 0);
	backlog = read_ulong_field("/proc/sys/net/ipv4/tcp_max_syn_backlog", 0);
	m = somaxconn && (!backlog || somaxconn < backlog) ? somaxconn : backlog;
	m /= 2;
	p->cfg.attack_half_open = m < SG_AUTO_HALF_OPEN_MIN ? SG_AUTO_HALF_OPEN_MIN :
				  m > 0xFFFFFFFFUL ? 0xFFFFFFFFU : m;
}

static unsigned long read_ulong_field(const char *path, int field)
{
	unsigned long v = 0;
	FILE *f = fopen(path, "r");
	int i;

	if (!f)
		return 0;
	for (i = 0; i <= field; i++)
		if (fscanf(f, "%lu", &v) != 1) {
			v = 0;
			break;
		}
	fclose(f);
	return v;
}

void policy_cookie_defaults_from_host(struct sg_policy *p, const char *ifname)
{
	struct ifreq ifr = {};
	unsigned long space;
	int fd, ws = 0;

	/* The MSS the host offers: the interface's MTU less the headers. */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !ioctl(fd, SIOCGIFMTU, &ifr) && ifr.ifr_mtu >= 1280) {
		if (!policy_key_set(p, "cookie_mss4"))
			p->cfg.cookie_mss4 = ifr.ifr_mtu - 40 > 65495 ? 65495 : ifr.ifr_mtu - 40;
		if (!policy_key_set(p, "cookie_mss6"))
			p->cfg.cookie_mss6 = ifr.ifr_mtu - 60 > 65475 ? 65475 : ifr.ifr_mtu - 60;
	}
	if (fd >= 0)
		close(fd);
	/*
	 * The window scale the stack offers, as tcp_select_initial_window()
	 * picks it: ilog2(max(tcp_rmem[2], rmem_max)) - 15, 0..14.  A server
	 * that locks a smaller SO_RCVBUF offers less: set cookie_wscale then.
	 */
	if (policy_key_set(p, "cookie_wscale"))
		return;
	space = read_ulong_field("/proc/sys/net/ipv4/tcp_rmem", 2);
	if (read_ulong_field("/proc/sys/net/core/rmem_max", 0) > space)
		space = read_ulong_field("/proc/sys/net/core/rmem_max", 0);
	if (!space)
		return;
	while (space >> (ws + 1) && ws < 62)
		ws++;
	ws -= 15;
	p->cfg.cookie_wscale = ws < 0 ? 0 : ws > 14 ? 14 : ws;
}

_Static_assert(sizeof(policy_keys) / sizeof(policy_keys[0]) - 1 <= POLICY_KEYS_MAX,
	       "more policy keys than POLICY_KEYS_MAX: raise it");

static bool key_bit(const struct sg_policy *p, const struct policy_key *k)
{
	size_t i = k - policy_keys;

	return p->set_mask[i / 64] & (1ULL << (i % 64));
}

const struct policy_key *policy_find(const char *name)
{
	const struct policy_key *k;

	for (k = policy_keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

int policy_set(struct sg_policy *p, const char *assignment)
{
	return policy_set_at(p, assignment, "");
}

int policy_set_at(struct sg_policy *p, const char *assignment, const char *where)
{
	const char *eq = strchr(assignment, '=');
	const struct policy_key *k;
	struct sg_policy next;
	char name[POLICY_KEY_NAME_MAX];

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(name)) {
		/* A line may be any length: quote its start, not all of it. */
		err_msg("%s'%.80s%s' is not KEY=VALUE", where, assignment,
			strlen(assignment) > 80 ? "..." : "");
		return -EINVAL;
	}
	memcpy(name, assignment, eq - assignment);
	name[eq - assignment] = '\0';
	k = policy_find(name);
	if (!k) {
		err_msg("%sunknown policy key '%s' (see synguard config --help)", where, name);
		return -EINVAL;
	}
	next = *p;
	if (key_parse(&next, k, eq + 1)) {
		err_msg("%s%s takes %s, not '%.80s%s'", where, k->name, k->values,
			eq + 1, strlen(eq + 1) > 80 ? "..." : "");
		return -EINVAL;
	}
	next.set_mask[(k - policy_keys) / 64] |= 1ULL << ((k - policy_keys) % 64);
	*p = next;
	return 0;
}

bool policy_key_set(const struct sg_policy *p, const char *name)
{
	const struct policy_key *k = policy_find(name);

	return k && key_bit(p, k);
}

const char *const policy_list_names[POLICY_LISTS] = { "allow", "deny" };

void policy_lists_free(struct policy_lists *l)
{
	int i;

	for (i = 0; i < POLICY_LISTS; i++) {
		free(l->cidr[i]);
		l->cidr[i] = NULL;
		l->n[i] = 0;
	}
}

int policy_lists_add(struct policy_lists *l, int which, const struct sg_cidr *c)
{
	struct sg_cidr *a = l->cidr[which];
	size_t n = l->n[which];

	/* Grows by doubling: n a power of two means the array is full. */
	if (!n || !(n & (n - 1))) {
		a = realloc(a, (n ? 2 * n : 1) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		l->cidr[which] = a;
	}
	a[n] = *c;
	l->n[which] = n + 1;
	return 0;
}

/* IPv4 first, then by address, then by prefix: `config show`'s order. */
int policy_cidr_cmp(const void *x, const void *y)
{
	const struct sg_cidr *a = x, *b = y;
	int d;

	if (a->family != b->family)
		return a->family - b->family;
	d = memcmp(a->addr, b->addr, sizeof(a->addr));
	return d ? d : a->prefix - b->prefix;
}

void policy_lists_sort(struct policy_lists *l)
{
	size_t i, j;
	int w;

	for (w = 0; w < POLICY_LISTS; w++) {
		if (!l->n[w])
			continue;
		qsort(l->cidr[w], l->n[w], sizeof(*l->cidr[w]), policy_cidr_cmp);
		for (i = 1, j = 1; i < l->n[w]; i++)
			if (policy_cidr_cmp(&l->cidr[w][i], &l->cidr[w][j - 1]))
				l->cidr[w][j++] = l->cidr[w][i];
		l->n[w] = j;
	}
}

/*
 * The next line of a config file that says something: comment cut, blanks
 * trimmed, spaces around the first '=' removed; NULL at the end of the
 * file.  getline, not a fixed buffer: a line of any length is one line, so
 * the tail of a long comment is never read as a setting.
 */
static char *conf_next_line(FILE *f, char **buf, size_t *cap, int *lineno)
{
	while (getline(buf, cap, f) >= 0) {
		char *s = *buf, *e, *eq, *k, *v;

		++*lineno;
		s[strcspn(s, "#\n")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (!*s)
			continue;
		eq = strchr(s, '=');
		if (eq) {
			for (k = eq; k > s && (k[-1] == ' ' || k[-1] == '\t'); k--)
				;
			for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
				;
			*k = '=';
			memmove(k + 1, v, strlen(v) + 1);
		}
		return s;
	}
	return NULL;
}

/* "allow=CIDR" or "deny=CIDR" into @l; 1 when @s is neither. */
static int conf_list_line(struct policy_lists *l, const char *s, const char *where)
{
	struct sg_cidr c;
	size_t len;
	int w, err;

	for (w = 0; w < POLICY_LISTS; w++) {
		len = strlen(policy_list_names[w]);
		if (!strncmp(s, policy_list_names[w], len) && s[len] == '=')
			break;
	}
	if (w == POLICY_LISTS)
		return 1;
	if (!l) {
		err_msg("%s%s lists are not taken here", where, policy_list_names[w]);
		return -EINVAL;
	}
	err = cidr_parse(s + len + 1, &c);
	if (err) {
		err_msg(err == -ERANGE ? "%s%s: '%s': prefix longer than the address family allows"
				       : "%s%s takes an IPv4 or IPv6 CIDR, not '%s'",
			where, policy_list_names[w], s + len + 1);
		return -EINVAL;
	}
	if (policy_lists_add(l, w, &c)) {
		err_msg("%sout of memory", where);
		return -ENOMEM;
	}
	return 0;
}

int policy_load_file(struct sg_policy *p, struct policy_lists *lists, const char *path)
{
	struct policy_lists l = {};
	struct sg_policy next = *p;
	char *buf = NULL, *s, where[256];
	size_t cap = 0;
	int lineno = 0, err = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		err_msg("cannot read config %s: %s", path, strerror(-err));
		return err;
	}
	while (!err && (s = conf_next_line(f, &buf, &cap, &lineno))) {
		snprintf(where, sizeof(where), "%.200s:%d: ", path, lineno);
		err = conf_list_line(lists ? &l : NULL, s, where);
		if (err > 0)
			err = policy_set_at(&next, s, where);
	}
	if (!err && ferror(f)) {
		err = -EIO;
		err_msg("cannot read config %s: %s", path, strerror(errno));
	}
	free(buf);
	fclose(f);
	if (err) {
		policy_lists_free(&l);
		return err;
	}
	*p = next;
	if (lists) {
		policy_lists_free(lists);
		policy_lists_sort(&l);
		*lists = l;
	}
	return 0;
}

void policy_lists_print(const struct policy_lists *l, FILE *f)
{
	char buf[64];
	size_t i;
	int w;

	for (w = 0; w < POLICY_LISTS; w++)
		for (i = 0; i < l->n[w]; i++) {
			cidr_format(&l->cidr[w][i], buf, sizeof(buf));
			fprintf(f, "%s=%s\n", policy_list_names[w], buf);
		}
}

void policy_print(const struct sg_policy *p, FILE *f)
{
	const struct policy_key *k;

	for (k = policy_keys; k->name; k++) {
		fprintf(f, "%s=", k->name);
		key_format(p, k, f);
		fputc('\n', f);
	}
}

void policy_print_json(const struct sg_policy *p, const struct policy_lists *l,
		       FILE *f)
{
	const struct policy_key *k;
	char buf[64];
	size_t i;
	int w;

	fputc('{', f);
	for (k = policy_keys; k->name; k++) {
		fprintf(f, "%s\"%s\":\"", k == policy_keys ? "" : ",", k->name);
		key_format(p, k, f);
		fputc('"', f);
	}
	for (w = 0; l && w < POLICY_LISTS; w++) {
		fprintf(f, ",\"%s\":[", policy_list_names[w]);
		for (i = 0; i < l->n[w]; i++) {
			cidr_format(&l->cidr[w][i], buf, sizeof(buf));
			fprintf(f, "%s\"%s\"", i ? "," : "", buf);
		}
		fputc(']', f);
	}
	fputs("}\n", f);
}

/* @k's value in @p as key_format() spells it, malloc'd; NULL without memory. */
static char *key_string(const struct sg_policy *p, const struct policy_key *k)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	key_format(p, k, f);
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

void policy_print_changes(const struct sg_policy *old, const struct sg_policy *new,
			  bool json, FILE *f)
{
	const struct policy_key *k;
	char *a, *b;
	int n = 0;

	for (k = policy_keys; k->name; k++) {
		a = key_string(old, k);
		b = key_string(new, k);
		if (a && b && strcmp(a, b)) {
			if (json)
				fprintf(f, "%s\"%s\":{\"old\":\"%s\",\"new\":\"%s\"}",
					n ? "," : "{", k->name, a, b);
			else
				fprintf(f, "%s%s %s -> %s", n ? ", " : "", k->name, a, b);
			n++;
		}
		free(a);
		free(b);
	}
	if (json)
		fputs(n ? "}\n" : "{}\n", f);
	else
		fputs(n ? "\n" : "no change\n", f);
}

/* The slot in force, 0 or 1. */
static int policy_slot(const struct policy_fds *m, __u32 *slot)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->cur_fd, &zero, slot))
		return -errno;
	*slot &= SG_POLICY_SLOTS - 1;
	return 0;
}

int policy_read_config(const struct policy_fds *m, struct sg_config *cfg)
{
	__u32 slot;
	int err = policy_slot(m, &slot);

	if (err)
		return err;
	return bpf_map_lookup_elem(m->config_fd, &slot, cfg) ? -errno : 0;
}

int policy_read(const struct policy_fds *m, struct sg_policy *p)
{
	__u32 slot, k, i;
	int err = policy_slot(m, &slot);

	/* Read from the maps, no key was set by policy_set(). */
	memset(p->set_mask, 0, sizeof(p->set_mask));
	if (err)
		return err;
	if (bpf_map_lookup_elem(m->config_fd, &slot, &p->cfg))
		return -errno;
	for (i = 0; i < SG_PORT_WORDS; i++) {
		k = slot * SG_PORT_WORDS + i;
		if (bpf_map_lookup_elem(m->ports_fd, &k, &p->ports[i]))
			return -errno;
	}
	return 0;
}

int policy_write(const struct policy_fds *m, const struct sg_policy *p)
{
	struct sg_config cfg = p->cfg, old;
	__u32 slot, next, k, i, zero = 0;
	int err = policy_slot(m, &slot);

	if (err)
		return err;
	if (bpf_map_lookup_elem(m->config_fd, &slot, &old))
		return -errno;
	/*
	 * A new generation voids the program's per-CPU cache of sources over
	 * their limit (sg_over), filled under the old policy and sg_src.  Its
	 * parity is its slot, the other one: 0 is no policy's, so the
	 * generation after 2^32 - 1 is 2.
	 */
	cfg.generation = old.generation + 1 ? old.generation + 1 : 2;
	next = cfg.generation & (SG_POLICY_SLOTS - 1);
	for (i = 0; i < SG_PORT_WORDS; i++) {
		k = next * SG_PORT_WORDS + i;
		if (bpf_map_update_elem(m->ports_fd, &k, &p->ports[i], BPF_ANY))
			return -errno;
	}
	if (bpf_map_update_elem(m->config_fd, &next, &cfg, BPF_ANY))
		return -errno;
	/* The flip: from here on every frame reads the new slot whole. */
	if (bpf_map_update_elem(m->cur_fd, &zero, &next, BPF_ANY))
		return -errno;
	return 0;
}

int cidr_parse(const char *s, struct sg_cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	__u64 prefix;
	int i, max;

	memset(c, 0, sizeof(*c));
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = 6;
		max = 128;
	} else {
		return -EINVAL;
	}
	prefix = max;
	if (slash) {
		if (parse_u64(slash + 1, 0, 255, &prefix))
			return -EINVAL;
		if ((int)prefix > max)
			return -ERANGE;
	}
	c->prefix = prefix;
	for (i = 0; i < 16; i++) {
		int bits = (int)prefix - i * 8;

		if (bits <= 0)
			c->addr[i] = 0;
		else if (bits < 8)
			c->addr[i] &= (__u8)(0xFF << (8 - bits));
	}
	return 0;
}

void cidr_format(const struct sg_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
}
