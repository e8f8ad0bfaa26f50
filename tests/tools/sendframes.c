// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sendframes: sends frames hping3 cannot make (malformed headers, VLAN
 * stacks, IPv6 extension chains) out of an interface, for the netns
 * integration tests.  Each CLASS is named after the synguard drop reason
 * it should trigger, or after the parse path a valid SYN takes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "synguard.h"
#include "pktbuild.h"

#define MAX_COUNT 10000000UL

#define SG_NAME_ENTRY(id, name) name,
static const char *const reasons[SG_REASON_MAX] = { SG_REASON_LIST(SG_NAME_ENTRY) };

static void shape_bad_ihl(struct pkt_spec *s) { s->ihl = 4; }
static void shape_bad_len(struct pkt_spec *s) { s->ip_len_delta = 20; }
static void shape_doff_beyond(struct pkt_spec *s) { s->doff = 15; }
static void shape_vlan3(struct pkt_spec *s) { s->vlan_tags = 3; }
static void shape_vlan1(struct pkt_spec *s) { s->vlan_tags = 1; }

/* The IP length ends 8 bytes into the TCP header, and so does the frame. */
static void shape_truncated(struct pkt_spec *s)
{
	s->trunc = ETH_HLEN + (s->family == 4 ? 20 : 40) + 8;
	s->trunc_ip = true;
}

static void shape_qinq(struct pkt_spec *s)
{
	s->vlan_tags = 2;
	s->vlan_proto[0] = ETH_P_8021AD;
}

/* One more destination options header than synguard parses. */
static void shape_long_chain(struct pkt_spec *s)
{
	int i;

	s->n_ext = SG_MAX_IPV6_EXT + 1;
	for (i = 0; i < s->n_ext; i++)
		s->ext[i].type = IPPROTO_DSTOPTS;
}

static void shape_ext_syn(struct pkt_spec *s)
{
	s->n_ext = 2;
	s->ext[0].type = IPPROTO_HOPOPTS;
	s->ext[1].type = IPPROTO_DSTOPTS;
}

struct frame_class {
	int reason;		/* enum sg_reason it triggers, -1 for a valid SYN */
	const char *name;	/* for the valid SYNs */
	int family;		/* 4 or 6 when only that one makes sense, else 0 */
	void (*shape)(struct pkt_spec *s);
};

static const struct frame_class classes[] = {
	{ SG_R_IPV4_BAD_IHL, NULL, 4, shape_bad_ihl },
	{ SG_R_IP_BAD_LEN, NULL, 0, shape_bad_len },
	{ SG_R_TRUNCATED, NULL, 0, shape_truncated },
	{ SG_R_TCP_DOFF_BEYOND, NULL, 0, shape_doff_beyond },
	{ SG_R_UNPARSED_VLAN, NULL, 0, shape_vlan3 },
	{ SG_R_UNPARSED_IPV6_EXT, NULL, 6, shape_long_chain },
	{ -1, "vlan_syn", 0, shape_vlan1 },
	{ -1, "qinq_syn", 0, shape_qinq },
	{ -1, "ipv6_ext_syn", 6, shape_ext_syn },
};

#define N_CLASSES (sizeof(classes) / sizeof(classes[0]))

static const char *class_name(const struct frame_class *c)
{
	return c->reason >= 0 ? reasons[c->reason] : c->name;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: sendframes IFACE CLASS COUNT --dmac MAC [--src IP] [--dst IP] [--dport N]\n"
		"Sends COUNT frames of CLASS out of IFACE with an AF_PACKET socket.\n"
		"  --dmac MAC   destination MAC, aa:bb:cc:dd:ee:ff (required)\n"
		"  --src IP     source address (default %s or %s)\n"
		"  --dst IP     destination address (default %s or %s)\n"
		"  --dport N    destination port, 1-65535 (default 80)\n"
		"The addresses choose IPv4 or IPv6 where the class allows both.\n"
		"CLASS is one of:", PKT_V4_SRC, PKT_V6_SRC, PKT_V4_DST, PKT_V6_DST);
	for (i = 0; i < N_CLASSES; i++)
		fprintf(f, " %s%s", class_name(&classes[i]),
			classes[i].family ? (classes[i].family == 4 ? "(v4)" : "(v6)") : "");
	fprintf(f, "\nExit status: 0 sent, 1 socket or send failed, 2 bad arguments.\n");
}

/* One line on stderr, and the usage exit status. */
__attribute__((format(printf, 1, 2)))
static int fail_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("sendframes: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return 2;
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out < min || *out > max)
		return -ERANGE;
	return 0;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	int n = -1;

	if (sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5], &n) != 6 ||
	    n != 17 || s[n])
		return -EINVAL;
	return 0;
}

/* 4 or 6 for an address of that family, 0 for no address. */
static int addr_family(const char *s)
{
	__u8 buf[16];

	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 6;
	return 0;
}

static int iface_mac(int fd, const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = { 0 };

	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* One frame out; the interface's queue may be full for a moment. */
static int send_frame(int fd, const __u8 *frame, int len)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (send(fd, frame, len, 0) == len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
		usleep(1000);
	}
	return -ENOBUFS;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "dmac", required_argument, NULL, 'm' },
		{ "dport", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ifname, *src = NULL, *dst = NULL;
	const struct frame_class *c = NULL;
	struct pkt_spec spec = { 0 };
	struct sockaddr_ll sll = { 0 };
	unsigned long count, dport = 80, i;
	__u8 frame[PKT_MAX_FRAME];
	bool have_dmac = false;
	int opt, family, fd, len = 0, err;
	size_t ci;

	opterr = 0;	/* fail_usage says it in one line */
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			src = optarg;
			break;
		case 'd':
			dst = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, spec.dmac))
				return fail_usage("bad --dmac '%s', want aa:bb:cc:dd:ee:ff", optarg);
			have_dmac = true;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, 65535, &dport))
				return fail_usage("bad --dport '%s', want 1-65535", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return fail_usage("unknown option or missing value: '%s'",
					  argv[optind - 1]);
		}
	}
	if (argc - optind != 3)
		return fail_usage("want IFACE CLASS COUNT");
	ifname = argv[optind];
	if (!*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/'))
		return fail_usage("bad interface name '%s'", ifname);
	for (ci = 0; ci < N_CLASSES && !c; ci++)
		if (!strcmp(argv[optind + 1], class_name(&classes[ci])))
			c = &classes[ci];
	if (!c)
		return fail_usage("unknown CLASS '%s'", argv[optind + 1]);
	if (parse_ulong(argv[optind + 2], 1, MAX_COUNT, &count))
		return fail_usage("bad COUNT '%s', want 1-%lu", argv[optind + 2], MAX_COUNT);
	if (!have_dmac)
		return fail_usage("--dmac is required");
	if (src && !addr_family(src))
		return fail_usage("bad --src '%s', want an IPv4 or IPv6 address", src);
	if (dst && !addr_family(dst))
		return fail_usage("bad --dst '%s', want an IPv4 or IPv6 address", dst);
	if (src && dst && addr_family(src) != addr_family(dst))
		return fail_usage("--src and --dst are of different families");

	family = src ? addr_family(src) : dst ? addr_family(dst) : c->family ? c->family : 4;
	if (c->family && family != c->family)
		return fail_usage("class %s is IPv%d only", class_name(c), c->family);

	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		return fail_usage("no interface '%s'", ifname);

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);	/* 0: send only */
	if (fd < 0) {
		fprintf(stderr, "sendframes: AF_PACKET socket: %s\n", strerror(errno));
		return 1;
	}
	sll.sll_family = AF_PACKET;
	err = iface_mac(fd, ifname, spec.smac);
	if (!err && bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		err = -errno;
	if (err) {
		fprintf(stderr, "sendframes: %s: %s\n", ifname, strerror(-err));
		close(fd);
		return 1;
	}

	spec.family = family;
	spec.src = src;
	spec.dst = dst;
	spec.dport = dport;
	spec.tcp_flags = PKT_SYN;
	c->shape(&spec);
	for (i = 0; i < count; i++) {
		/* A new flow each frame, as a flood has. */
		spec.sport = 32768 + i % 28232;
		spec.seq = 0x53470000 + i * 7919;
		len = pkt_build(&spec, frame, sizeof(frame));
		if (len < 0) {
			fprintf(stderr, "sendframes: cannot build %s: %s\n", class_name(c),
				strerror(-len));
			close(fd);
			return 1;
		}
		err = send_frame(fd, frame, len);
		if (err) {
			fprintf(stderr, "sendframes: send on %s after %lu frames: %s\n",
				ifname, i, strerror(-err));
			close(fd);
			return 1;
		}
	}
	close(fd);
	printf("sendframes: sent %lu %s frames (IPv%d, %d bytes) on %s\n", count,
	       class_name(c), family, len, ifname);
	return 0;
}
