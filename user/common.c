// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

bool verbose;

void err_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("synguard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void info_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

int parse_u64(const char *s, __u64 min, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts "-1" and leading blanks: refuse both. */
	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

bool valid_ifname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= 16 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

int pin_name(char *out, size_t len, const char *name)
{
	size_t n = 0;

	/*
	 * A netns name may hold a ':'; next to a '.' or another ':' it would
	 * read back as something else ("x::y" as "x.y"): refused.
	 */
	if (strstr(name, "::") || strstr(name, ":.") || strstr(name, ".:"))
		return -EINVAL;
	for (; *name; name++) {
		if (n + (*name == '.' ? 2 : 1) >= len)
			return -ENAMETOOLONG;
		if (*name == '.') {
			out[n++] = ':';
			out[n++] = ':';
		} else {
			out[n++] = *name;
		}
	}
	if (!len)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

void pin_name_decode(char *out, size_t len, const char *enc)
{
	size_t n = 0;

	if (!len)
		return;
	for (; *enc && n + 1 < len; enc++) {
		if (enc[0] == ':' && enc[1] == ':') {
			out[n++] = '.';
			enc++;
		} else {
			out[n++] = *enc;
		}
	}
	out[n] = '\0';
}

const char *pin_suffix(const char *enc)
{
	for (; *enc; enc++) {
		if (enc[0] != ':')
			continue;
		if (enc[1] != ':')
			return enc;
		enc++;
	}
	return NULL;
}

int require_root(void)
{
	if (geteuid() == 0)
		return 0;
	err_msg("this command needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)");
	return EXIT_PERM;
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void test_kill_at(const char *step)
{
	const char *at = getenv("SYNGUARD_TEST_KILL_AT");

	if (at && !strcmp(at, step))
		raise(SIGKILL);
}
