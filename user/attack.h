/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_ATTACK_H
#define SYNGUARD_ATTACK_H

#include <stdio.h>
#include <linux/types.h>
#include "synguard.h"

/* The attack-mode state, its transitions in order, as wall-clock times. */
void attack_print_text(FILE *f, const struct sg_attack *a, const __u64 *stat);
void attack_print_json(FILE *f, const struct sg_attack *a, const __u64 *stat);

#endif
