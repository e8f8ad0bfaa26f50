// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>
#include "names.h"

static const struct {
	const char *name;
	__u32 mode;
} xdp_modes[] = {
	{ "native", SG_MODE_NATIVE },
	{ "generic", SG_MODE_GENERIC },
	{ "skb", SG_MODE_GENERIC },	/* ip-link's name for it; read, never printed */
};

const char *xdp_mode_name(__u32 mode)
{
	if (mode == SG_MODE_SLOT)
		return "slot";	/* attach --into: printed, never read */
	return mode == SG_MODE_GENERIC ? xdp_modes[1].name : xdp_modes[0].name;
}

__u32 xdp_mode_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(xdp_modes) / sizeof(xdp_modes[0]); i++)
		if (!strcmp(name, xdp_modes[i].name))
			return xdp_modes[i].mode;
	return 0;
}

const char *const cookie_mode_names[COOKIE_MODES] = {
	[SG_COOKIE_NEVER] = "never",
	[SG_COOKIE_ATTACK] = "attack",
	[SG_COOKIE_ALWAYS] = "always",
};

const char *cookie_mode_name(__u32 mode)
{
	return mode < COOKIE_MODES ? cookie_mode_names[mode] : "?";
}
