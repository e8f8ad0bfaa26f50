// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ext-probe: can this kernel load and run a BPF_PROG_TYPE_EXT (freplace)
 * program, the building block of libxdp's multiprog dispatcher?
 *
 * Loads ext_root (tests/tools/ext_test.bpf.c), then ext_drop as an
 * extension of its global function ext_slot, attaches it, and runs
 * ext_root on a frame by BPF_PROG_TEST_RUN before and after: XDP_PASS,
 * then XDP_DROP.  Prints one line per step as TAP ("ok N - ..."), or,
 * when the kernel refuses the EXT load, "ok N - ... # SKIP <why>" with
 * the errno and the verifier's log, if any, and stops: never a silent pass.
 * Exit 0 when every step was ok or skipped, 1 when a step failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ext_test.skel.h"

static char vlog[4096];
static int n, failed;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed += !ok;
}

/* The verifier's log, one line: its last non-empty line (the reason). */
static const char *log_reason(void)
{
	char *end = vlog + strlen(vlog), *p;

	while (end > vlog && (end[-1] == '\n' || end[-1] == ' '))
		*--end = 0;
	p = strrchr(vlog, '\n');
	return p ? p + 1 : vlog;
}

/* ext_root's verdict on a 64-byte frame; -1 if the test run failed. */
static int verdict(int prog)
{
	unsigned char frame[64] = { [12] = 0x08 };	/* an IPv4 ethertype */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame));

	if (bpf_prog_test_run_opts(prog, &o))
		return -1;
	return o.retval;
}

/* libbpf's own messages say the same as the TAP lines, less briefly. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int main(void)
{
	struct ext_test *root = NULL, *ext = NULL;
	struct bpf_link *link = NULL;
	int root_fd, err, v;

	libbpf_set_print(quiet);
	root = ext_test__open();
	if (!root || bpf_program__set_autoload(root->progs.ext_drop, false) ||
	    ext_test__load(root)) {
		tap(false, "the root XDP program (ext_root) loads: %s", strerror(errno));
		goto out;
	}
	root_fd = bpf_program__fd(root->progs.ext_root);
	v = verdict(root_fd);
	tap(v == XDP_PASS, "ext_root alone returns XDP_PASS (got %d)", v);

	ext = ext_test__open();
	if (!ext) {
		tap(false, "the extension's object opens: %s", strerror(errno));
		goto out;
	}
	bpf_program__set_autoload(ext->progs.ext_root, false);
	bpf_program__set_attach_target(ext->progs.ext_drop, root_fd, "ext_slot");
	bpf_program__set_log_buf(ext->progs.ext_drop, vlog, sizeof(vlog));
	bpf_program__set_log_level(ext->progs.ext_drop, 1);
	err = ext_test__load(ext);
	if (err) {
		err = errno;
		printf("ok %d - BPF_PROG_TYPE_EXT (freplace) program loads # SKIP this kernel "
		       "refuses it: %s (%s)%s%s%s\n", ++n, strerrorname_np(err) ?: "?", strerror(err),
		       *log_reason() ? ", verifier: \"" : ", empty verifier log (refused before "
		       "verification)", log_reason(), *log_reason() ? "\"" : "");
		goto out;
	}
	tap(true, "BPF_PROG_TYPE_EXT (freplace) program loads");
	link = bpf_program__attach_freplace(ext->progs.ext_drop, root_fd, "ext_slot");
	if (!link) {
		tap(false, "ext_drop attaches to ext_root's ext_slot: %s", strerror(errno));
		goto out;
	}
	tap(true, "ext_drop attaches to ext_root's ext_slot");
	v = verdict(root_fd);
	tap(v == XDP_DROP, "ext_root now returns the extension's XDP_DROP (got %d)", v);
	bpf_link__destroy(link);
	link = NULL;
	v = verdict(root_fd);
	tap(v == XDP_PASS, "detached: ext_root returns XDP_PASS again (got %d)", v);
out:
	bpf_link__destroy(link);
	ext_test__destroy(ext);
	ext_test__destroy(root);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
