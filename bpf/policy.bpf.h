/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The policy in force.  Userspace publishes it whole: it writes the slot
 * not in force (its config and its half of sg_ports), then flips
 * sg_policy_cur, one 32-bit word.  A frame reads the word once and sees
 * one policy, never half of an old one and half of a new.
 * Slot = generation & 1.
 *
 *   policy_current()			the policy, or NULL
 *   sg_no_config			the policy before userspace wrote one
 *   policy_port_in_scope(cfg, dport)	do the flood checks apply to @dport?
 */
#ifndef SYNGUARD_POLICY_BPF_H
#define SYNGUARD_POLICY_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_POLICY_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_config);
} sg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sg_policy_cur SEC(".maps");

/* A port set per policy slot: SG_PORT_WORDS words of 64 bits each. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_POLICY_SLOTS * SG_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} sg_ports SEC(".maps");

/*
 * All off: a global, not a stack copy, so that the callers' frames stay
 * small enough for the cookie functions' below them (512 bytes for the
 * whole chain).
 */
const struct sg_config sg_no_config = {};

/*
 * NULL only if a lookup failed (userspace writes 0 or 1).  The slot's own
 * map value is the key: no stack slot for it.
 */
static __always_inline const struct sg_config *policy_current(void)
{
	__u32 zero = 0, *cur = bpf_map_lookup_elem(&sg_policy_cur, &zero);

	return cur ? bpf_map_lookup_elem(&sg_config, cur) : NULL;
}

static __always_inline bool policy_port_in_scope(const struct sg_config *cfg, __be16 dport)
{
	__u16 port = bpf_ntohs(dport);
	/* The port set of @cfg's slot, generation & 1: the same policy. */
	__u32 word = (cfg->generation & (SG_POLICY_SLOTS - 1)) * SG_PORT_WORDS + (port >> 6);
	__u64 *bits;

	if (!(cfg->flags & SG_CFG_PORTS))
		return true;
	bits = bpf_map_lookup_elem(&sg_ports, &word);
	return bits && (*bits & (1ULL << (port & 63)));
}

#endif /* SYNGUARD_POLICY_BPF_H */
