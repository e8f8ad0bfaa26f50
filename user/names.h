/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The names synguard prints and reads for its modes: one table each. */
#ifndef SYNGUARD_NAMES_H
#define SYNGUARD_NAMES_H

#include <linux/types.h>
#include "synguard.h"

/*
 * "native", "generic" or "slot" (attach --into) for SG_MODE_*; an unknown
 * mode is native's.
 */
const char *xdp_mode_name(__u32 mode);
/* SG_MODE_* for "native", "generic" or "skb" (generic's other name); 0 if none. */
__u32 xdp_mode_parse(const char *name);

/* "never", "attack", "always" by SG_COOKIE_*. */
#define COOKIE_MODES (SG_COOKIE_ALWAYS + 1)
extern const char *const cookie_mode_names[COOKIE_MODES];
/* Its name, or "?" past the table. */
const char *cookie_mode_name(__u32 mode);

#endif
