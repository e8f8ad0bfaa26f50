// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* top: a live view of an attachment, or plain reports when not on a terminal. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "chain.h"
#include "cmd.h"
#include "common.h"
#include "term.h"
#include "top.h"

#define TOP_PLAIN_WIDTH 100	/* the width of a plain report */

static volatile sig_atomic_t stop, resized, suspended;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else if (sig == SIGTSTP)
		suspended = 1;
	else
		stop = 1;
}

static bool top_keys(bool *eof)
{
	char buf[64];
	ssize_t n, i;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n == 0)
		*eof = true;	/* stdin closed: keys are over, the view goes on */
	for (i = 0; i < n; i++)
		if (buf[i] == 'q' || buf[i] == 'Q' || buf[i] == 3)
			return true;
	return false;
}

static const struct cmd_opt top_opts[] = {
	CMD_OPT_INTERVAL("refresh every SEC seconds (1)"),
	CMD_OPT_COUNT,
	{ NULL }
};

static const struct cmd_help top_help = {
	.name = "top",
	.synopsis = "IFACE [--interval SEC] [--count N] [-n NETNS]",
	.text = "  A live view of synguard on IFACE, refreshed every SEC seconds (1):\n"
		"  rates, drops by reason, flow gauges, handshake latency and the top\n"
		"  sources by SYN rate.  q or Ctrl-C quits.  When stdout is not a\n"
		"  terminal, prints a plain report every SEC seconds instead (N of\n"
		"  them, or until interrupted).\n",
	.opts = top_opts,
};

/* SIGWINCH and SIGTSTP only matter on the terminal. */
static const int top_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP };
#define TOP_SIGS_PLAIN 3

static void top_signals(bool tty, sigset_t *blocked, sigset_t *orig)
{
	size_t i, n = tty ? sizeof(top_sigs) / sizeof(top_sigs[0]) : TOP_SIGS_PLAIN;
	struct sigaction sa = { .sa_handler = on_signal };

	/*
	 * Blocked except inside ppoll(): a signal that comes between the
	 * check of the flags and the wait is not lost for a whole interval.
	 */
	sigemptyset(blocked);
	for (i = 0; i < n; i++) {
		sigaction(top_sigs[i], &sa, NULL);
		sigaddset(blocked, top_sigs[i]);
	}
	sigprocmask(SIG_BLOCK, blocked, orig);
}

/*
 * A write to a terminal that hung up fails before the blocked SIGHUP is
 * delivered: a pending stop signal makes that failure a clean exit.
 */
static bool top_stop_pending(void)
{
	sigset_t pending;
	int i;

	if (stop)
		return true;
	if (sigpending(&pending))
		return false;
	for (i = 0; i < TOP_SIGS_PLAIN; i++)
		if (sigismember(&pending, top_sigs[i]))
			return true;
	return false;
}

/* Ctrl-Z: the terminal as it was while stopped, the view again after. */
static int top_suspend(void)
{
	term_restore();
	kill(getpid(), SIGSTOP);
	return term_enter();
}

/* One run of top: its readings, the view of them, the text on screen. */
struct top_run {
	struct top_reading r[2];
	struct top_reading *cur, *prev;	/* prev: the first reading until there are two */
	bool have_prev;
	struct top_view view;
	struct sg_source src;
	struct sg_target t;
	struct sg_pins p;
	double interval, deadline;
	__u64 count, done;
	bool tty, keys_eof;
	sigset_t orig;		/* the mask ppoll() waits with */
	char *text;
	size_t text_len;
};

/* Paints the last view again (the first time, a resize, after ^Z). */
static int top_repaint(struct top_run *r)
{
	int rows;

	r->view.cur = r->have_prev ? r->cur : r->prev;
	r->view.prev = r->have_prev ? r->prev : NULL;
	term_size(&rows, &r->view.width);
	free(r->text);
	r->text = top_render(&r->view, &r->text_len, rows);
	return r->text ? top_paint(r->text, r->text_len) : -ENOMEM;
}

/* A new reading, rendered and shown: 0, or -errno. */
static int top_tick(struct top_run *r)
{
	struct top_reading *tmp;
	int rows = 0, err;

	if (r->have_prev) {
		tmp = r->prev;
		r->prev = r->cur;
		r->cur = tmp;
	}
	/* The policy may change live (dry-run, thresholds): per reading. */
	pins_refresh_config(&r->p);
	r->src.dry_run = r->p.cfg.flags & SG_CFG_DRY_RUN;
	/* So is the chain slot (`synguard chain IFACE set|clear`). */
	chain_next_read(r->t.dir, &r->src.next);
	err = top_read(&r->p, r->cur);
	if (err)
		return err;
	r->have_prev = true;
	top_srcs_rates(&r->cur->srcs, &r->prev->srcs, r->cur->at - r->prev->at);
	r->view.cur = r->cur;
	r->view.prev = r->prev;
	r->view.width = TOP_PLAIN_WIDTH;
	if (r->tty)
		term_size(&rows, &r->view.width);
	free(r->text);
	r->text = top_render(&r->view, &r->text_len, rows);
	if (!r->text)
		return -ENOMEM;
	if (r->tty)
		return top_paint(r->text, r->text_len);
	fwrite(r->text, 1, r->text_len, stdout);
	fputc('\n', stdout);
	return fflush(stdout) ? -errno : 0;
}

/*
 * Waits up to @left seconds for a key or a signal: 1 when the keys say
 * quit, 0 to go on, -errno.
 */
static int top_wait(struct top_run *r, double left)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec ts;
	int n;

	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
	n = ppoll(&pfd, r->tty && term_keys() && !r->keys_eof ? 1 : 0, &ts, &r->orig);
	if (n < 0 && errno != EINTR)
		return -errno;
	if (n > 0 && (pfd.revents & (POLLIN | POLLHUP)) && top_keys(&r->keys_eof))
		return 1;
	if (n > 0 && (pfd.revents & (POLLERR | POLLNVAL)))
		r->keys_eof = true;
	return 0;
}

/* Until q, a signal, --count or an error: 0, -errno, or 1 when detached. */
static int top_loop(struct top_run *r)
{
	double left;
	int err = 0;

	r->deadline = r->prev->at + r->interval;
	while (!stop && !err) {
		if (r->tty && suspended) {
			suspended = 0;
			err = top_suspend();
			resized = 1;	/* paint it all again */
		}
		if (!err && r->tty && (resized || !r->text)) {
			resized = 0;
			err = top_repaint(r);
		}
		if (err)
			break;
		left = r->deadline - now_mono();
		if (left > 0) {
			err = top_wait(r, left);
			if (err == 1)
				return 0;
			continue;
		}
		if (!target_attached(&r->t))
			return 1;
		err = top_tick(r);
		if (!err && r->count && ++r->done >= r->count)
			break;
		r->deadline += r->interval;
		if (r->deadline < now_mono())
			r->deadline = now_mono() + r->interval;
	}
	return err;
}

static int top_opt(int opt, const char *arg, void *r)
{
	struct top_run *t = r;

	return cmd_interval_opt(opt, arg, &t->interval, &t->count) ? EXIT_USAGE : EXIT_OK;
}

int cmd_top(int argc, char **argv)
{
	static struct top_run run;	/* big; one per process */
	struct top_run *r = &run;
	sigset_t blocked;
	int rc, err;

	r->interval = 1;
	rc = cmd_parse(&top_help, argc, argv, "interface", top_opt, r);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = attachment_open(argv[optind], &r->t, &r->p);
	if (rc)
		return rc;
	r->prev = &r->r[0];
	r->cur = &r->r[1];
	r->tty = isatty(STDOUT_FILENO);
	stats_source(&r->src, &r->t, &r->p);
	r->view.src = &r->src;
	r->view.cfg = &r->p.cfg;
	r->view.src_map = r->p.src_fd >= 0;
	r->view.live = r->tty;

	top_signals(r->tty, &blocked, &r->orig);
	err = top_read(&r->p, r->prev);
	if (!err && r->tty)
		err = term_enter();
	if (!err)
		err = top_loop(r);
	term_restore();
	sigprocmask(SIG_SETMASK, &r->orig, NULL);
	free(r->text);
	top_srcs_free(&r->r[0].srcs);
	top_srcs_free(&r->r[1].srcs);
	pins_close(&r->p);
	if (err == 1) {
		err_msg("synguard was detached from %s%s%s", r->t.ifname,
			r->t.netns[0] ? " in netns " : "", r->t.netns);
		return EXIT_STATE;
	}
	if (err && !top_stop_pending()) {
		err_msg("top on %s: %s", r->t.ifname, strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
