/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sharing the XDP hook by tail calls (bpf/chain.bpf.h): the program that
 * runs after synguard (its chain slot, PIN_NEXT), and synguard as a slot
 * in another root's program array (attach --into, PIN_PROG_XDP).
 */
#ifndef SYNGUARD_CHAIN_H
#define SYNGUARD_CHAIN_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include "synguard.h"

struct json;

/*
 * The XDP program pinned at @pin, for a chain slot: its fd in @fd.
 * EXIT_* code, a one-line message when it is not one.
 */
int chain_prog_open(const char *pin, int *fd);
/*
 * Puts @prog_fd (opened from @pin) into the chain slot @next_fd of the
 * program @self_id.  EXIT_* code; on EINVAL says in one line why.
 */
int chain_fill(int next_fd, int prog_fd, const char *pin, __u32 self_id);

/* What the chain slot of an attachment holds: prog id 0 when empty. */
struct chain_next {
	bool slot;		/* the attachment has a chain slot */
	__u32 id;
	char name[16];
};
void chain_next_read(const char *dir, struct chain_next *n);
/* ", then prog N NAME", or nothing when the slot is empty */
void chain_next_text(FILE *f, const struct chain_next *n);
/* "next": {"prog_id": N, "name": NAME}, or null */
void chain_next_json(struct json *j, const struct chain_next *n);

/*
 * --into ARRAY_PIN:INDEX: parsed into @m (mode, pin, index) and the
 * array checked (a program array, INDEX inside it); EXIT_* code, message
 * printed.
 */
int into_parse(const char *arg, struct sg_meta *m);
/*
 * The expected_attach_type an XDP program must be loaded with to go into
 * slot @index of the program array @array_fd: BPF_XDP (libbpf's), or 0
 * when the array's owner was loaded without one and 0 fits.
 */
enum bpf_attach_type chain_attach_type(int array_fd, __u32 index);
/*
 * The expected_attach_type synguard_xdp must be loaded with to fit @m's
 * array: BPF_XDP (libbpf's), or 0 for a root loaded without one (as
 * xdp-tools 1.3 loads), said in one line.
 */
enum bpf_attach_type into_attach_type(const struct sg_meta *m);
/* Places @prog_fd at @m's slot; EXIT_* code, on EINVAL says why. */
int into_place(const struct sg_meta *m, int prog_fd);
/* Does @m's slot still hold @prog_id?  False too if empty or gone. */
bool into_holds(const struct sg_meta *m, __u32 prog_id);
/* Detach: empties @m's slot if it still holds the program pinned in @dir. */
void into_remove(const char *dir, const struct sg_meta *m);

#endif
