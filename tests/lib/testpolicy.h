/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The policy the unit tests and the path bench start each case from. */
#ifndef SYNGUARD_TESTPOLICY_H
#define SYNGUARD_TESTPOLICY_H

#include "policy.h"

/*
 * The guard's defaults with src_rate, attack_syn_rate and attack_half_open
 * off (each case turns on what it tests), then @assign: KEY=VALUE strings
 * up to a NULL, or NULL.  0, or -1 when one was refused (each named on
 * stderr; the others still applied).
 */
int test_policy(struct sg_policy *pol, const char *const *assign);

#endif
