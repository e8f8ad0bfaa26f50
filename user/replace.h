/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_REPLACE_H
#define SYNGUARD_REPLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "pin.h"
#include "policy.h"

/* What attach --force asks of a replace. */
struct replace_req {
	const struct sg_policy *pol;	/* the options given, over defaults */
	const struct policy_lists *lists; /* --config's lists, or NULL */
	int mode;
	bool mode_given;
	__u64 half_max, flows_max;	/* 0: as the live attachment's */
	bool reset;			/* carry nothing; the policy is @pol */
};

/*
 * Replaces the live attachment @t in place, keeping its state (see
 * replace.c); under pin_lock().  EXIT_* code, message printed.
 */
int attach_replace(const struct sg_target *t, const struct replace_req *r);
/* The journal directory of a replace of the attachment in @dir. */
int replace_journal(char *buf, size_t len, const char *dir);
/*
 * Finishes or undoes a replace of @dir that was killed: forward when its
 * journal is whole, else the journal goes.  1 when there was one, 0 when
 * not, or -errno.
 */
int replace_recover(const char *dir, bool *rolled_forward);

#endif
