/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_POLICY_H
#define SYNGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "synguard.h"

/*
 * How many policy keys there may be: the set-key bitmap and attach's option
 * table are sized by it, and policy.c fails to build with more keys.
 */
#define POLICY_KEYS_MAX 128
/* A key's name, and so attach's --name-with-dashes, is shorter than this. */
#define POLICY_KEY_NAME_MAX 32

/* Everything `synguard config` can set: the config entry and the port set. */
struct sg_policy {
	struct sg_config cfg;
	__u64 ports[SG_PORT_WORDS];
	__u64 set_mask[POLICY_KEYS_MAX / 64];	/* keys set by policy_set(), by table index */
};

/* How a key's value is spelled, and where in struct sg_config it is kept. */
enum policy_type {
	POLICY_FLAG,	/* the bit @flag of flags: names[0] clear, names[1] set */
	POLICY_ENUM,	/* an index into names[] */
	POLICY_NUM,	/* min..max (also "off", "auto" if allowed), times scale */
	POLICY_TIME,	/* seconds with a fraction, min..max, kept in nanoseconds */
	POLICY_PORTS,	/* the port set: "all" (@flag clear) or ports and ranges */
};

/*
 * One policy key: this table entry alone parses it (config set, config
 * files, attach's options), prints it (config show, --json, config files)
 * and names its values in messages and --help.
 */
struct policy_key {
	const char *name;	/* config key; --name-with-dashes on attach */
	const char *values;	/* what it takes, for messages and --help */
	enum policy_type type;
	__u16 off, size;	/* the field: offsetof and sizeof in struct sg_config */
	__u64 min, max;		/* POLICY_NUM, POLICY_TIME: the range taken */
	__u64 scale;		/* POLICY_NUM: kept as value x scale (s as ns: 1e9) */
	bool off_ok;		/* POLICY_NUM: "off" is 0 */
	__u32 auto_flag;	/* POLICY_NUM: "auto" sets this flag ... */
	__u32 auto_value;	/* ...and this value; a number clears it */
	__u32 flag;		/* POLICY_FLAG, POLICY_PORTS */
	const char *const *names;	/* POLICY_FLAG, POLICY_ENUM: by value */
	unsigned int n_names;
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
/* A CIDR: address and prefix, host bits cleared. */
struct sg_cidr {
	__u8 family;		/* 4 or 6 */
	__u8 prefix;
	__u8 addr[16];
};

/*
 * The allow and deny entries a config file gives ("allow=CIDR" and
 * "deny=CIDR" lines): each list whole, so a file describes an attachment
 * completely.
 */
#define POLICY_ALLOW 0
#define POLICY_DENY 1
#define POLICY_LISTS 2
struct policy_lists {
	struct sg_cidr *cidr[POLICY_LISTS];
	size_t n[POLICY_LISTS];
};

extern const char *const policy_list_names[POLICY_LISTS];	/* "allow", "deny" */
void policy_lists_free(struct policy_lists *l);
/* 0 or -ENOMEM. */
int policy_lists_add(struct policy_lists *l, int which, const struct sg_cidr *c);
/* Sorts each list (IPv4 first, by address, by prefix) and drops repeats. */
void policy_lists_sort(struct policy_lists *l);
int policy_cidr_cmp(const void *a, const void *b);
void policy_lists_print(const struct policy_lists *l, FILE *f);

/*
 * KEY=VALUE lines, allow=CIDR and deny=CIDR lines, '#' comments and blank
 * lines, into @p and @lists (sorted); all or nothing: on a bad line, one
 * message naming FILE:LINE and -EINVAL, @p and @lists as they were.  With
 * @lists NULL, allow and deny lines are refused.  0 or -errno (printed).
 */
int policy_load_file(struct sg_policy *p, struct policy_lists *lists, const char *path);
/* Every key as KEY=VALUE lines: a file policy_load_file() reads back. */
void policy_print(const struct sg_policy *p, FILE *f);
/* The keys, then "allow" and "deny" arrays of CIDRs unless @l is NULL. */
void policy_print_json(const struct sg_policy *p, const struct policy_lists *l,
		       FILE *f);

/*
 * What differs from @old to @new, in one line, each key as `config show`
 * spells it: "src_rate 100 -> 200, block_time 0 -> 30", or "no change".
 * With @json, one object: {"src_rate":{"old":"100","new":"200"},...}.
 */
void policy_print_changes(const struct sg_policy *old, const struct sg_policy *new,
			  bool json, FILE *f);

/* An attachment's policy maps: sg_config, sg_ports and sg_policy_cur. */
struct policy_fds {
	int config_fd, ports_fd, cur_fd;
};
/* A loaded skeleton's policy maps, as a struct policy_fds pointer. */
#define POLICY_FDS(skel)                                                       \
	(&(struct policy_fds){ bpf_map__fd((skel)->maps.sg_config),            \
			       bpf_map__fd((skel)->maps.sg_ports),             \
			       bpf_map__fd((skel)->maps.sg_policy_cur) })

/* A loaded skeleton's allow and deny tries, by SG_LIST_*. */
#define LIST_FDS(skel)                                                         \
	((const int[SG_LIST_TRIES]){                                           \
		[SG_LIST_ALLOW4] = bpf_map__fd((skel)->maps.sg_allow4),        \
		[SG_LIST_ALLOW6] = bpf_map__fd((skel)->maps.sg_allow6),        \
		[SG_LIST_DENY4] = bpf_map__fd((skel)->maps.sg_deny4),          \
		[SG_LIST_DENY6] = bpf_map__fd((skel)->maps.sg_deny6) })

/* Reads and writes an attachment's policy through its maps: 0 or -errno. */
int policy_read(const struct policy_fds *m, struct sg_policy *p);
/* Only the config entry in force. */
int policy_read_config(const struct policy_fds *m, struct sg_config *cfg);
/*
 * Publishes @p whole: into the slot not in force, then one flip of
 * sg_policy_cur.  Concurrent writers must be serialised (pin_lock()).
 */
int policy_write(const struct policy_fds *m, const struct sg_policy *p);

/*
 * Makes an attachment's allow and deny tries (@fds by SG_LIST_*) hold
 * exactly @l (sorted): deletes what @l lacks, then adds what is new;
 * entries in both keep their hit counts.  @sizes_fd is sg_lists, or -1.
 * Checks the tries' capacity first and undoes its changes on a failure.
 * 0 or -errno, a message printed.
 */
int policy_lists_apply(const int fds[SG_LIST_TRIES], int sizes_fd,
		       const struct policy_lists *l);

/* 0, or -EINVAL for a malformed CIDR, -ERANGE for a too long prefix. */
int cidr_parse(const char *s, struct sg_cidr *c);
void cidr_format(const struct sg_cidr *c, char *buf, size_t len);

#endif
