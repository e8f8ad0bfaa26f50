/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_LAYOUT_H
#define SYNGUARD_LAYOUT_H

/*
 * Has the map @fd, pinned as @name, this build's layout (type, key and
 * value sizes)?  0, or -EPROTO: another build made it, and reading it with
 * this build's structs would be wrong.  Maps this build has no name for
 * pass.
 */
int layout_check(const char *name, int fd);

#endif
