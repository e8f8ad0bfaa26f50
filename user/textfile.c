// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* export --textfile: the metrics as a file for node-exporter's textfile collector. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "cmd.h"
#include "common.h"
#include "export.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int textfile_check_dir(const char *dir)
{
	struct stat st;

	errno = 0;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK)) {
		err_msg("--textfile takes a directory to write into: %s: %s", dir,
			errno ? strerror(errno) : "not a directory");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * The collector reads every *.prom in the directory whenever it is
 * scraped, so the file must never be seen half written: the metrics go
 * to a temporary file in the same directory (a dot name not ending in
 * .prom, which the collector skips), reach the disk (fsync), and one
 * rename() puts them in place.  0 or -errno, with a message.
 */
static int textfile_write(const char *dir, const char *name, struct exporter *e)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	fd = mkstemp(tmp);
	/* mkstemp makes it 0600; the collector runs as another user. */
	if (fd < 0 || fchmod(fd, 0644)) {
		err = -errno;
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		goto fail;
	}
	fd = -1;	/* f owns it */
	/* As a scrape: the attachment pinned now, or synguard_up 0. */
	err = export_metrics(f, e);
	if (err) {
		fclose(f);
		err_msg("cannot read the maps: %s", strerror(-err));
		unlink(tmp);
		return err;
	}
	if (fflush(f) || fsync(fileno(f)) || ferror(f))
		err = -(errno ?: EIO);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		return 0;
fail:
	err_msg("cannot write %s: %s", path, strerror(-err));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}

static int textfile_run(const char *dir, struct exporter *e, double interval, __u64 count)
{
	struct timespec ts = { (time_t)interval,
			       (long)((interval - (time_t)interval) * 1e9) };
	sigset_t block, old;
	char name[64];
	__u64 n;

	snprintf(name, sizeof(name), "synguard_%s.prom", e->t.ifname);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/*
	 * Blocked but while ppoll() waits, which unblocks them atomically: a
	 * signal between the check of stop and the wait cannot be slept past.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (n = 0; !stop;) {
		if (textfile_write(dir, name, e)) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			return EXIT_FAIL;
		}
		if (count && ++n >= count)
			break;
		if (interval > 0 && !stop)
			ppoll(NULL, 0, &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return EXIT_OK;
}

/* The directory is checked before anything is opened. */
int export_textfile(const char *ifname, const char *dir, double interval, __u64 count)
{
	struct exporter e = {};
	int rc;

	rc = textfile_check_dir(dir) ?: attachment_open(ifname, &e.t, NULL);
	if (rc)
		return rc;
	rc = textfile_run(dir, &e, interval, count);
	export_drop(&e);
	top_srcs_reader_free(&e.top);
	top_srcs_reader_free(&e.top);
	return rc;
}
