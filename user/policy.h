/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_POLICY_H
#define SYNGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "synguard.h"

/* Everything `synguard config` can set: the config entry and the port set. */
struct sg_policy {
	struct sg_config cfg;
	__u64 ports[SG_PORT_WORDS];
	__u32 set_mask;		/* keys set by policy_set(), by table index */
};

struct policy_key {
	const char *name;	/* config key; --name-with-dashes on attach */
	const char *values;	/* what it takes, for messages and --help */
	int (*parse)(struct sg_policy *p, const char *val);	/* 0 or -EINVAL */
	void (*format)(const struct sg_policy *p, FILE *f);
};

extern const struct policy_key policy_keys[];

void policy_defaults(struct sg_policy *p);
/* half_open_timeout from this netns's tcp_synack_retries. */
void policy_defaults_from_host(struct sg_policy *p);
/* attack_half_open=auto from this netns's somaxconn and tcp_max_syn_backlog. */
void policy_attack_defaults_from_host(struct sg_policy *p);
/*
 * cookie_mss4/6 from @ifname's MTU and cookie_wscale from this netns's
 * buffer sysctls, each unless set.
 */
void policy_cookie_defaults_from_host(struct sg_policy *p, const char *ifname);
const struct policy_key *policy_find(const char *name);
/* Was @name set by policy_set() (an option or a file), not a default? */
bool policy_key_set(const struct sg_policy *p, const char *name);
/*
 * Applies "KEY=VALUE" to @p; on a bad key or value prints one line naming
 * it and returns -EINVAL, leaving @p as it was.
 */
int policy_set(struct sg_policy *p, const char *assignment);
/* The same, with @where ("FILE:LINE: ") before the message. */
int policy_set_at(struct sg_policy *p, const char *assignment, const char *where);
/* KEY=VALUE lines, '#' comments and blank lines; 0 or -errno (printed). */
int policy_load_file(struct sg_policy *p, const char *path);
/* Every key as KEY=VALUE lines: a file policy_load_file() reads back. */
void policy_print(const struct sg_policy *p, FILE *f);
void policy_print_json(const struct sg_policy *p, FILE *f);

/* Reads and writes an attachment's policy through its pinned maps. */
int policy_read(int config_fd, int ports_fd, struct sg_policy *p);
int policy_write(int config_fd, int ports_fd, const struct sg_policy *p);

/* A CIDR: address and prefix, host bits cleared. */
struct sg_cidr {
	__u8 family;		/* 4 or 6 */
	__u8 prefix;
	__u8 addr[16];
};

/* 0, or -EINVAL for a malformed CIDR, -ERANGE for a too long prefix. */
int cidr_parse(const char *s, struct sg_cidr *c);
void cidr_format(const struct sg_cidr *c, char *buf, size_t len);

#endif
