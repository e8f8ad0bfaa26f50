/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_TERM_H
#define SYNGUARD_TERM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The terminal of a live view: the alternate screen with the cursor
 * hidden and, when stdin is a terminal, keys read one at a time without
 * echo.  term_restore() undoes it all; it is idempotent and async-signal-
 * safe, registered with atexit() and called from the fatal-signal handlers
 * term_enter() installs, so every way out leaves the terminal as it was.
 */

/* 0, or -errno (the terminal is then left as it was). */
int term_enter(void);
void term_restore(void);
/* Is the view on the screen now? */
bool term_active(void);
/* Did term_enter() put stdin in non-canonical mode (keys can be read)? */
bool term_keys(void);
/* The window's size; 24x80 when it cannot be asked. */
void term_size(int *rows, int *cols);
/* Writes all of @buf to stdout; 0 or -errno. */
int term_write(const char *buf, size_t len);

#endif
