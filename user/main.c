// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard: the CLI. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cmd.h"

#define OPT_VERSION 256	/* long only */

/* Each command, with what `synguard --help` says of it in one line. */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *summary;
} commands[] = {
	{ "attach", cmd_attach, "IFACE", "load synguard and attach it to IFACE" },
	{ "detach", cmd_detach, "IFACE", "detach it and remove its pins" },
	{ "status", cmd_status, "", "the attachments, in every netns" },
	{ "stats", cmd_stats, "IFACE", "counters, flows, attack mode" },
	{ "top", cmd_top, "IFACE", "live view (q quits)" },
	{ "replay", cmd_replay, "FILE.pcap", "a capture through synguard, no interface" },
	{ "prune", cmd_prune, "", "remove attachments whose interface or netns is gone" },
	{ "config", cmd_config, "IFACE", "show | set KEY=VALUE... | load FILE" },
	{ "allow", cmd_allow, "IFACE", "add|del CIDR... | list: skip the flood checks" },
	{ "deny", cmd_deny, "IFACE", "add|del CIDR... | list: drop all their traffic" },
	{ "export", cmd_export, "IFACE", "Prometheus /metrics, or a node-exporter textfile" },
	{ "chain", cmd_chain, "IFACE", "set PIN | clear | show: the XDP program after synguard" },
	{ "events", cmd_events, "IFACE", "attack mode, sources limited, deny hits: as they happen" },
};

static const struct cmd_opt main_opts[] = {
	{ "version", OPT_VERSION, NULL, "print the version" },
	{ NULL }
};

static void usage(FILE *f)
{
	char lhs[32];
	size_t i;

	fputs("usage: synguard [-v] [-n NETNS] COMMAND [ARGS]\n"
	      "\n"
	      "XDP TCP handshake monitor and SYN-flood guard.\n"
	      "\n"
	      "commands:\n", f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		snprintf(lhs, sizeof(lhs), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-18s %s\n", lhs, commands[i].summary);
	}
	fputs("`synguard COMMAND --help` for a command's options.\n\noptions:\n", f);
	cmd_print_opts(f, cmd_common_opts);
	cmd_print_opts(f, main_opts);
	fputs("\n"
	      "exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 already attached or\n"
	      "not attached, 4 not root\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "version", no_argument, NULL, OPT_VERSION },
		{}
	};
	size_t i;
	int opt;

	libbpf_set_print(NULL);
	/* "+": stop at the command; its own options follow it. */
	while ((opt = cmd_getopt(argc, argv, "+" CMD_COMMON_SHORT, opts, NULL)) != -1) {
		if (opt == OPT_VERSION) {
			printf("synguard %s (libbpf %s)\n", SYNGUARD_VERSION,
			       libbpf_version_string());
			return EXIT_OK;
		}
		if (opt == 'h')
			usage(stdout);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind >= argc) {
		usage(stderr);
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
