// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The terminal of a live view: raw-ish keys, alternate screen, restore. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "term.h"

/* Alternate screen, cursor hidden, home, clear; and back. */
#define TERM_ENTER "\033[?1049h\033[?25l\033[H\033[2J"
#define TERM_LEAVE "\033[?25h\033[?1049l"

static struct termios saved;
static volatile sig_atomic_t active;	/* escapes sent, not yet undone */
static volatile sig_atomic_t raw;	/* stdin's termios changed */

int term_write(const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(STDOUT_FILENO, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Only write(2) and tcsetattr(3): safe in a signal handler. */
void term_restore(void)
{
	int saved_errno = errno;

	if (active) {
		active = 0;
		term_write(TERM_LEAVE, sizeof(TERM_LEAVE) - 1);
	}
	if (raw) {
		raw = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	}
	errno = saved_errno;
}

/* A crash must not leave the terminal without echo: restore, then die. */
static void on_fatal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_enter(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	static bool registered;
	struct termios t;
	size_t i;
	int err;

	if (!registered) {
		if (atexit(term_restore))
			return -ENOMEM;
		for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], on_fatal);
		registered = true;
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		t = saved;
		/* Keys as they come, not echoed; ISIG stays, so ^C is SIGINT. */
		t.c_lflag &= ~(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
			return -errno;
		raw = 1;
	}
	active = 1;
	err = term_write(TERM_ENTER, sizeof(TERM_ENTER) - 1);
	if (err)
		term_restore();
	return err;
}

bool term_active(void)
{
	return active;
}

bool term_keys(void)
{
	return raw;
}

void term_size(int *rows, int *cols)
{
	struct winsize ws = {};

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}
