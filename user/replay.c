// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* replay: a capture through the real XDP program with BPF_PROG_TEST_RUN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cmd.h"
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

struct replay_tally {
	__u64 records, replayed, skipped_snaplen, skipped_linktype, skipped_size;
};

static const char replay_usage[] =
	"usage: synguard replay FILE.pcap [--json] [--dry-run] [--unparsed drop|pass]\n"
	"                       [--config FILE]\n"
	"  Runs every packet of a pcap or pcapng capture through synguard's XDP\n"
	"  program (BPF_PROG_TEST_RUN; no interface is touched) and reports the\n"
	"  counters as `synguard stats` does.\n";

static int replay_file(int prog_fd, const char *path, struct replay_tally *t)
{
	static __u8 frame[REPLAY_MAX_FRAME];
	struct pcap_reader r;
	struct pcap_pkt pkt;
	char err[256];
	int rc, len;

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
		opts.data_in = frame;
		opts.data_size_in = len;
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			rc = -errno;
			snprintf(err, sizeof(err), "BPF_PROG_TEST_RUN failed on record %llu: %s",
				 (unsigned long long)t->records, strerror(-rc));
			rc = -1;
			break;
		}
		t->replayed++;
	}
	pcap_close(&r);
	if (rc < 0) {
		err_msg("%s: %s", path, err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "unparsed", required_argument, NULL, 'u' },
		{ "config", required_argument, NULL, 'C' },
		{}
	};
	struct replay_tally tally = {};
	struct synguard *skel = NULL;
	struct sg_source src = {};
	struct sg_policy pol;
	struct sg_counters c;
	char extra[512], assign[64];
	bool json = false;
	int opt, rc, err;
	struct stat st;
	FILE *probe;

	policy_defaults(&pol);
	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "jdu:C:", opts,
				 replay_usage)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'd':
			policy_set(&pol, "dry_run=on");
			break;
		case 'u':
			snprintf(assign, sizeof(assign), "unparsed=%s", optarg);
			if (policy_set(&pol, assign))
				return EXIT_USAGE;
			break;
		case 'C':
			if (policy_load_file(&pol, optarg))
				return EXIT_USAGE;
			break;
		default:
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("replay takes one capture file (see synguard replay --help)");
		return EXIT_USAGE;
	}
	/* Say what is wrong with the file before asking for privileges. */
	probe = fopen(argv[optind], "rb");
	if (!probe || fstat(fileno(probe), &st) || S_ISDIR(st.st_mode)) {
		err_msg("cannot read %s: %s", argv[optind],
			probe ? "it is a directory" : strerror(errno));
		if (probe)
			fclose(probe);
		return EXIT_USAGE;
	}
	fclose(probe);
	rc = require_root();
	if (rc)
		return rc;

	cmd_libbpf_logging();
	skel = synguard__open_and_load();
	if (!skel) {
		err_msg("the kernel refused to load synguard: %s%s", strerror(errno),
			verbose ? "" : " (-v shows libbpf's log)");
		return EXIT_FAIL;
	}
	if (policy_write(bpf_map__fd(skel->maps.sg_config),
			 bpf_map__fd(skel->maps.sg_ports), &pol)) {
		err_msg("cannot write the policy map: %s", strerror(errno));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	rc = replay_file(bpf_program__fd(skel->progs.synguard_xdp), argv[optind],
			 &tally);
	if (rc)
		goto cleanup;
	err = stats_read(bpf_map__fd(skel->maps.sg_stats),
			 bpf_map__fd(skel->maps.sg_drops), &c);
	if (err) {
		err_msg("cannot read the counters: %s", strerror(-err));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	src.file = argv[optind];
	src.dry_run = pol.cfg.flags & SG_CFG_DRY_RUN;
	if (json) {
		snprintf(extra, sizeof(extra),
			 "\"replay\":{\"records\":%llu,\"replayed\":%llu,"
			 "\"skipped_snaplen\":%llu,\"skipped_linktype\":%llu,"
			 "\"skipped_size\":%llu}",
			 (unsigned long long)tally.records,
			 (unsigned long long)tally.replayed,
			 (unsigned long long)tally.skipped_snaplen,
			 (unsigned long long)tally.skipped_linktype,
			 (unsigned long long)tally.skipped_size);
		stats_print_json(stdout, &src, &c, NULL, 0, extra);
	} else {
		stats_print_text(stdout, &src, &c, NULL, 0);
		printf("  records %llu, replayed %llu, skipped: %llu cut by snaplen, "
		       "%llu unknown link type, %llu too short or too long\n",
		       (unsigned long long)tally.records,
		       (unsigned long long)tally.replayed,
		       (unsigned long long)tally.skipped_snaplen,
		       (unsigned long long)tally.skipped_linktype,
		       (unsigned long long)tally.skipped_size);
	}
	rc = EXIT_OK;
cleanup:
	synguard__destroy(skel);
	return rc;
}
