// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * replay: a capture through the real programs with BPF_PROG_TEST_RUN: what
 * arrived through synguard_xdp, and with --local, what the local end sent
 * through synguard_egress, in capture order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cmd.h"
#include "flows.h"
#include "json.h"
#include "pcap.h"
#include "policy.h"
#include "stats.h"
#include "synguard.skel.h"

/*
 * BPF_PROG_TEST_RUN takes a linear XDP frame of at least an Ethernet header
 * and at most a page less headroom and skb_shared_info.
 */
#define REPLAY_MIN_FRAME 14
#define REPLAY_MAX_FRAME 3520

#define REPLAY_MAX_LOCAL 64

struct replay_tally {
	__u64 records, replayed, skipped_snaplen, skipped_linktype, skipped_size;
	__u64 egress;		/* of replayed: through the egress program */
};

/* The local end's addresses: what they send goes through egress. */
struct replay_local {
	struct sg_cidr cidr[REPLAY_MAX_LOCAL];
	int n;
};

struct replay_progs {
	int xdp_fd, egress_fd;
	const struct replay_local *local;
};

static const struct cmd_opt replay_opts[] = {
	{ "local", 'l', "CIDR,...", "the host's addresses (repeatable): see above" },
	{ "json", 'j', NULL, "print JSON" },
	{ "dry-run", 'd', NULL, "count what would be dropped, drop nothing (dry_run=on)" },
	{ "unparsed", 'u', "drop|pass", "what to do with frames synguard cannot parse" },
	{ "config", 'C', "FILE", "KEY=VALUE, allow=CIDR, deny=CIDR lines (config show's)" },
	{ NULL }
};

static const struct cmd_help replay_help = {
	.name = "replay",
	.synopsis = "FILE.pcap [--local CIDR[,CIDR...]] [--json] [--dry-run]\n"
		    "                       [--unparsed drop|pass] [--config FILE]",
	.text = "  Runs every packet of a pcap or pcapng capture through synguard's XDP\n"
		"  program (BPF_PROG_TEST_RUN; no interface is touched) and reports the\n"
		"  counters and flows as `synguard stats` does.  Packets from the --local\n"
		"  addresses go through the tc egress program instead, so a capture of\n"
		"  both directions gives handshakes, closes and flow states as the host\n"
		"  had them.\n",
	.opts = replay_opts,
};

/* Adds each CIDR of the comma list @arg; EXIT_* code, message printed. */
static int replay_local_add(struct replay_local *l, const char *arg)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *p = arg, *comma;
	size_t len;
	int err;

	do {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;	/* too long for a CIDR: refused below */
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (l->n == REPLAY_MAX_LOCAL) {
			err_msg("--local takes at most %d CIDRs", REPLAY_MAX_LOCAL);
			return EXIT_USAGE;
		}
		err = cidr_parse(buf, &l->cidr[l->n]);
		if (err) {
			err_msg(err == -ERANGE ? "--local: '%s': prefix longer than the "
						 "address family allows"
					       : "--local: '%s' is not an IPv4 or IPv6 CIDR",
				buf);
			return EXIT_USAGE;
		}
		l->n++;
		p = comma ? comma + 1 : NULL;
	} while (p);
	return EXIT_OK;
}

static bool replay_cidr_has(const struct sg_cidr *c, int family, const __u8 *addr)
{
	int full = c->prefix / 8, rest = c->prefix % 8;

	if (c->family != family || memcmp(c->addr, addr, full))
		return false;
	return !rest || !((c->addr[full] ^ addr[full]) & (__u8)(0xFF << (8 - rest)));
}

/*
 * Did the local end send @frame?  Its IPv4 or IPv6 source, or for ARP the
 * sender's address, behind up to two VLAN tags, is in one of the CIDRs.
 * What has no such address (LLDP, a frame too short) counts as arriving.
 */
static bool replay_from_local(const __u8 *frame, int len, const struct replay_local *l)
{
	int off = 12, tags, family = 0, i;
	const __u8 *src = NULL;
	__u16 proto;

	for (tags = 0;; tags++) {
		if (off + 2 > len)
			return false;
		proto = frame[off] << 8 | frame[off + 1];
		off += 2;
		if (proto != 0x8100 && proto != 0x88a8 && proto != 0x9100)
			break;
		if (tags == SG_MAX_VLAN_TAGS)
			return false;	/* XDP's to judge: unparsed_vlan */
		off += 2;	/* the tag's TCI; the next ethertype follows */
	}
	if (proto == 0x0800 && off + 20 <= len && frame[off] >> 4 == 4) {
		family = 4;
		src = frame + off + 12;
	} else if (proto == 0x86DD && off + 40 <= len && frame[off] >> 4 == 6) {
		family = 6;
		src = frame + off + 8;
	} else if (proto == 0x0806 && off + 28 <= len &&
		   frame[off + 2] == 0x08 && frame[off + 3] == 0x00 && frame[off + 5] == 4) {
		family = 4;	/* ARP for IPv4: the sender's address at 14 */
		src = frame + off + 14;
	}
	for (i = 0; src && i < l->n; i++)
		if (replay_cidr_has(&l->cidr[i], family, src))
			return true;
	return false;
}

static int replay_file(const struct replay_progs *progs, const char *path,
		       struct replay_tally *t)
{
	static __u8 frame[REPLAY_MAX_FRAME];
	struct pcap_reader r;
	struct pcap_pkt pkt;
	char err[256];
	int rc, len, prog_fd;
	bool out;

	if (pcap_open(&r, path, err, sizeof(err))) {
		err_msg("%s", err);
		return EXIT_USAGE;
	}
	while ((rc = pcap_next(&r, &pkt, err, sizeof(err))) == 1) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);

		t->records++;
		/* A frame cut by the snap length would be judged truncated. */
		if (pkt.caplen < pkt.wirelen) {
			t->skipped_snaplen++;
			continue;
		}
		len = pcap_to_ether(&pkt, frame, sizeof(frame));
		if (len < 0 && pkt.caplen <= sizeof(frame)) {
			t->skipped_linktype++;
			continue;
		}
		if (len < REPLAY_MIN_FRAME) {
			t->skipped_size++;
			continue;
		}
		out = progs->local->n && replay_from_local(frame, len, progs->local);
		prog_fd = out ? progs->egress_fd : progs->xdp_fd;
		opts.data_in = frame;
		opts.data_size_in = len;
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			/* The kernel said no, not the capture: EXIT_FAIL. */
			rc = -errno;
			err_msg("%s: BPF_PROG_TEST_RUN of %s failed on record %llu: %s",
				path, out ? "synguard_egress" : "synguard_xdp",
				(unsigned long long)t->records, strerror(-rc));
			pcap_close(&r);
			return EXIT_FAIL;
		}
		t->replayed++;
		t->egress += out;
	}
	pcap_close(&r);
	if (rc < 0) {
		err_msg("%s: %s", path, err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* What the command line asks for. */
struct replay_args {
	struct sg_policy pol;
	struct policy_lists lists;	/* --config's allow and deny lines */
	struct replay_local local;
	const char *file;
	bool json;
};

static int replay_opt(int opt, const char *arg, void *args)
{
	struct replay_args *a = args;
	char assign[64];

	switch (opt) {
	case 'j':
		a->json = true;
		return EXIT_OK;
	case 'd':
		policy_set(&a->pol, "dry_run=on");
		return EXIT_OK;
	case 'u':
		snprintf(assign, sizeof(assign), "unparsed=%s", arg);
		return policy_set(&a->pol, assign) ? EXIT_USAGE : EXIT_OK;
	case 'C':
		return policy_load_file(&a->pol, &a->lists, arg) ? EXIT_USAGE : EXIT_OK;
	default:	/* 'l' */
		return replay_local_add(&a->local, arg) ? EXIT_USAGE : EXIT_OK;
	}
}

static int replay_parse(int argc, char **argv, struct replay_args *a)
{
	int rc;

	policy_defaults(&a->pol);
	rc = cmd_parse(&replay_help, argc, argv, "capture file", replay_opt, a);
	if (!rc)
		a->file = argv[optind];
	return rc;
}

/* Says what is wrong with the file before asking for privileges. */
static int replay_probe(const char *path)
{
	struct stat st;
	FILE *probe = fopen(path, "rb");

	if (!probe || fstat(fileno(probe), &st) || S_ISDIR(st.st_mode)) {
		err_msg("cannot read %s: %s", path,
			probe ? "it is a directory" : strerror(errno));
		if (probe)
			fclose(probe);
		return EXIT_USAGE;
	}
	fclose(probe);
	return EXIT_OK;
}

/*
 * The counters and the flow tables as the capture left them, stamped with
 * the time of the replay: the timeouts run from now.
 */
static int replay_read(struct synguard *skel, const struct sg_config *cfg,
		       struct sg_counters *c, struct sg_flow_summary *flows)
{
	int err = stats_read(bpf_map__fd(skel->maps.sg_stats),
			     bpf_map__fd(skel->maps.sg_drops), c) ?:
		  flows_read(&(struct sg_flow_maps){
				.half_fd = bpf_map__fd(skel->maps.sg_half),
				.flows_fd = bpf_map__fd(skel->maps.sg_flows),
				.hist_fd = bpf_map__fd(skel->maps.sg_hist),
				.gauge_fd = bpf_map__fd(skel->maps.sg_gauge),
				.gauge_base_fd = bpf_map__fd(skel->maps.sg_gauge_base),
				.walk_fd = -1 },
			     cfg, 0, flows);

	if (err) {
		err_msg("cannot read the counters: %s", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void replay_print_json(const struct sg_source *src, const struct sg_counters *c,
			      const struct replay_tally *tally,
			      const struct replay_local *local)
{
	char cidr[INET6_ADDRSTRLEN + 8];
	struct json j;
	int i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	stats_json(&j, src, c, NULL, 0);
	json_obj_open(&j, "replay");
	json_u64(&j, "records", tally->records);
	json_u64(&j, "replayed", tally->replayed);
	json_u64(&j, "replayed_egress", tally->egress);
	json_u64(&j, "skipped_snaplen", tally->skipped_snaplen);
	json_u64(&j, "skipped_linktype", tally->skipped_linktype);
	json_u64(&j, "skipped_size", tally->skipped_size);
	json_arr_open(&j, "local");
	for (i = 0; i < local->n; i++) {
		cidr_format(&local->cidr[i], cidr, sizeof(cidr));
		json_string(&j, NULL, cidr);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_obj_close(&j);
	fputc('\n', stdout);
}

static void replay_print_text(const struct sg_source *src, const struct sg_counters *c,
			      const struct replay_tally *tally,
			      const struct replay_local *local)
{
	char cidr[INET6_ADDRSTRLEN + 8];
	int i;

	stats_print_text(stdout, src, c, NULL, 0, true);
	printf("  records %llu, replayed %llu, skipped: %llu cut by snaplen, "
	       "%llu unknown link type, %llu too short or too long\n",
	       (unsigned long long)tally->records,
	       (unsigned long long)tally->replayed,
	       (unsigned long long)tally->skipped_snaplen,
	       (unsigned long long)tally->skipped_linktype,
	       (unsigned long long)tally->skipped_size);
	if (!local->n) {
		printf("  no --local: every packet went through XDP as arriving\n");
		return;
	}
	printf("  local:");
	for (i = 0; i < local->n; i++) {
		cidr_format(&local->cidr[i], cidr, sizeof(cidr));
		printf(" %s", cidr);
	}
	printf(" (%llu of the replayed through the egress program)\n",
	       (unsigned long long)tally->egress);
}

/* The capture through a fresh synguard with @a's policy, then the report. */
static int replay_run(const struct replay_args *a, struct synguard *skel)
{
	struct replay_progs progs = { .local = &a->local };
	struct replay_tally tally = {};
	struct sg_flow_summary flows;
	struct sg_source src = {};
	struct sg_counters c;
	int rc, err;

	if (policy_write(POLICY_FDS(skel), &a->pol)) {
		err_msg("cannot write the policy map: %s", strerror(errno));
		return EXIT_FAIL;
	}
	err = policy_lists_apply(LIST_FDS(skel), bpf_map__fd(skel->maps.sg_lists), &a->lists);
	if (err)
		return err == -E2BIG ? EXIT_STATE : EXIT_FAIL;
	progs.xdp_fd = bpf_program__fd(skel->progs.synguard_xdp);
	progs.egress_fd = bpf_program__fd(skel->progs.synguard_egress);
	rc = replay_file(&progs, a->file, &tally) ?:
	     replay_read(skel, &a->pol.cfg, &c, &flows);
	if (rc)
		return rc;
	src.file = a->file;
	src.dry_run = a->pol.cfg.flags & SG_CFG_DRY_RUN;
	src.flows = &flows;
	if (a->json)
		replay_print_json(&src, &c, &tally, &a->local);
	else
		replay_print_text(&src, &c, &tally, &a->local);
	return EXIT_OK;
}

int cmd_replay(int argc, char **argv)
{
	/* Static: one per process, and the early returns need not free it. */
	static struct replay_args args;
	struct synguard *skel;
	int rc;

	rc = replay_parse(argc, argv, &args);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = replay_probe(args.file) ?: require_root();
	if (rc)
		return rc;
	cmd_libbpf_logging();
	skel = synguard__open_and_load();
	if (!skel) {
		err_msg("the kernel refused to load synguard: %s%s", strerror(errno),
			verbose ? "" : " (-v shows libbpf's log)");
		return EXIT_FAIL;
	}
	rc = replay_run(&args, skel);
	synguard__destroy(skel);
	policy_lists_free(&args.lists);
	return rc;
}
