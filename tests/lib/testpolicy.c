// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include "testpolicy.h"

int test_policy(struct sg_policy *pol, const char *const *assign)
{
	static const char *const off[] = { "src_rate=off", "attack_syn_rate=off",
					   "attack_half_open=off", NULL };
	const char *const *o;
	int rc = 0;

	policy_defaults(pol);
	for (o = off; *o; o++)
		policy_set(pol, *o);
	for (; assign && *assign; assign++)
		if (policy_set(pol, *assign)) {
			fprintf(stderr, "bad assignment %s\n", *assign);
			rc = -1;
		}
	return rc;
}
