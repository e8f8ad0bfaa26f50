// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard: the CLI. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cmd.h"

static const char usage[] =
	"usage: synguard [-v] [-n NETNS] COMMAND [ARGS]\n"
	"\n"
	"XDP TCP handshake monitor and SYN-flood guard.\n"
	"\n"
	"commands:\n"
	"  attach IFACE [--mode native|generic] [--dry-run] [--config FILE] [--KEY VALUE...]\n"
	"               [--half-open-max N] [--flows-max N] [--force]\n"
	"  detach IFACE\n"
	"  status [--json]\n"
	"  stats IFACE [--json] [--interval SEC [--count N]]\n"
	"  top IFACE [--interval SEC] [--count N]   live view (q quits)\n"
	"  replay FILE.pcap [--local CIDR,...] [--json] [--dry-run] [--unparsed drop|pass]\n"
	"               [--config FILE]\n"
	"  prune                  remove attachments whose interface or netns is gone\n"
	"  config IFACE show [--json] | set KEY=VALUE... | load FILE\n"
	"  allow|deny IFACE add|del CIDR... | list [--json]\n"
	"  export IFACE [--listen ADDR:PORT]   Prometheus /metrics\n"
	"  export IFACE --textfile DIR [--interval SEC] [--count N]   ...for node-exporter\n"
	"\n"
	"options:\n"
	"  -n, --netns NETNS      act in network namespace NETNS, like `ip -n`\n"
	"  -v, --verbose          show libbpf's log\n"
	"  -h, --help             this text; `synguard COMMAND --help` for a command\n"
	"      --version          print the version\n"
	"\n"
	"exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 already attached or\n"
	"not attached, 4 not root\n";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "status", cmd_status },
	{ "stats", cmd_stats },
	{ "top", cmd_top },
	{ "replay", cmd_replay },
	{ "prune", cmd_prune },
	{ "config", cmd_config },
	{ "allow", cmd_allow },
	{ "deny", cmd_deny },
	{ "export", cmd_export },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	size_t i;
	int opt;

	libbpf_set_print(NULL);
	/* "+": stop at the command; its own options follow it. */
	while ((opt = cmd_getopt(argc, argv, "+" CMD_COMMON_SHORT, opts, usage)) != -1) {
		if (opt == 'V') {
			printf("synguard %s (libbpf %s)\n", SYNGUARD_VERSION,
			       libbpf_version_string());
			return EXIT_OK;
		}
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			argc -= optind;
			argv += optind;
			optind = 0;	/* 0 makes glibc reinitialise getopt */
			return commands[i].fn(argc, argv);
		}
	}
	err_msg("unknown command '%s' (see synguard --help)", argv[optind]);
	return EXIT_USAGE;
}
