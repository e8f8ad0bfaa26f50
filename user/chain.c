// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach --then and --into, chain: sharing the XDP hook by tail calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "chain.h"
#include "common.h"
#include "json.h"
#include "netns.h"
#include "pin.h"

/*
 * bpf_obj_get() of a pin the user named: under `ip netns exec` /sys has
 * no bpffs, so a /sys/fs/bpf/... path is looked up in the one pin.c finds.
 */
static int obj_get(const char *pin)
{
	static const char bpffs[] = "/sys/fs/bpf";
	char base[PATH_MAX], path[PATH_MAX + 256];
	int fd = bpf_obj_get(pin), err = errno;

	if (fd >= 0)
		return fd;
	if (!strncmp(pin, bpffs, sizeof(bpffs) - 1) && !bpffs_root(base, sizeof(base), false) &&
	    strcmp(base, bpffs)) {
		snprintf(path, sizeof(path), "%s%s", base, pin + sizeof(bpffs) - 1);
		fd = bpf_obj_get(path);
		if (fd >= 0)
			return fd;
	}
	errno = err;
	return -1;
}

/* Is @fd a BPF program's?  A map's or a link's fd has another anon inode. */
static bool is_prog_fd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strcmp(target, "anon_inode:bpf-prog");
}

static const char *prog_type_name(__u32 type)
{
	return libbpf_bpf_prog_type_str(type) ?: "unknown";
}

int chain_prog_open(const char *pin, int *fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	*fd = obj_get(pin);
	if (*fd < 0) {
		err_msg("cannot open the pinned program %s: %s", pin, strerror(errno));
		return errno == ENOENT ? EXIT_USAGE : EXIT_FAIL;
	}
	if (!is_prog_fd(*fd) || bpf_obj_get_info_by_fd(*fd, &info, &len) ||
	    info.type != BPF_PROG_TYPE_XDP) {
		if (info.type)
			err_msg("%s is a %s program, not XDP: only an XDP program can "
				"run after synguard", pin, prog_type_name(info.type));
		else
			err_msg("%s is not a BPF program (a map or a link?)", pin);
		close(*fd);
		*fd = -1;
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The id and name of the program @fd; 0 if unknown. */
static __u32 prog_id(int fd, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return 0;
	if (name)
		snprintf(name, len, "%s", info.name);
	return info.id;
}

/* The kernel's EINVAL for a prog array update, in one line. */
static void explain_einval(const char *what, const char *where)
{
	err_msg("the kernel refused %s in %s: it must match the array's owner "
		"(XDP, loaded with expected_attach_type BPF_XDP as libbpf's SEC(\"xdp\") "
		"does, not xdp.frags); a loader that gives no attach type (as "
		"xdp-tools 1.3 does) or frags support makes them differ", what, where);
}

int chain_fill(int next_fd, int prog_fd, const char *pin, __u32 self_id)
{
	char name[16];
	__u32 zero = 0, id = prog_id(prog_fd, name, sizeof(name));

	if (id && id == self_id) {
		err_msg("%s is synguard's own XDP program: it cannot follow itself", pin);
		return EXIT_USAGE;
	}
	if (!bpf_map_update_elem(next_fd, &zero, &prog_fd, BPF_ANY))
		return EXIT_OK;
	if (errno == EINVAL) {
		char what[PATH_MAX + 64];

		snprintf(what, sizeof(what), "%s (prog %u %s)", pin, id, name);
		explain_einval(what, "synguard's chain slot");
		return EXIT_USAGE;
	}
	err_msg("cannot fill the chain slot with %s: %s", pin, strerror(errno));
	return EXIT_FAIL;
}

void chain_next_read(const char *dir, struct chain_next *n)
{
	int fd = pin_get(dir, PIN_NEXT), pfd;
	__u32 zero = 0;

	memset(n, 0, sizeof(*n));
	if (fd < 0)
		return;		/* an attachment older than the chain slot */
	n->slot = true;
	if (!bpf_map_lookup_elem(fd, &zero, &n->id) && n->id) {
		pfd = bpf_prog_get_fd_by_id(n->id);
		if (pfd >= 0) {
			prog_id(pfd, n->name, sizeof(n->name));
			close(pfd);
		}
	} else {
		n->id = 0;
	}
	close(fd);
}

void chain_next_text(FILE *f, const struct chain_next *n)
{
	if (n->id)
		fprintf(f, ", then prog %u %s", n->id, n->name[0] ? n->name : "?");
}

void chain_next_json(struct json *j, const struct chain_next *n)
{
	if (!n->id) {
		json_null(j, "next");
		return;
	}
	json_obj_open(j, "next");
	json_u64(j, "prog_id", n->id);
	json_string(j, "name", n->name);
	json_obj_close(j);
}

/* @m's program array: its fd, or -1 with a message. */
static int into_array(const struct sg_meta *m, bool say)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = obj_get(m->into_pin);

	if (fd < 0) {
		if (say)
			err_msg("cannot open the pinned program array %s: %s", m->into_pin,
				strerror(errno));
		return -1;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_PROG_ARRAY) {
		if (say)
			err_msg("%s is not a program array (BPF_MAP_TYPE_PROG_ARRAY)",
				m->into_pin);
		close(fd);
		return -1;
	}
	if (m->into_index >= info.max_entries) {
		if (say)
			err_msg("%s has %u slots: no slot %u", m->into_pin, info.max_entries,
				m->into_index);
		close(fd);
		return -1;
	}
	return fd;
}

int into_parse(const char *arg, struct sg_meta *m)
{
	const char *colon = strrchr(arg, ':');
	__u64 index;
	int fd;

	if (!colon || colon == arg || parse_u64(colon + 1, 0, UINT32_MAX - 1, &index) ||
	    arg[0] != '/') {
		err_msg("--into takes ARRAY_PIN:INDEX (an absolute bpffs path, a slot "
			"number), not '%s'", arg);
		return EXIT_USAGE;
	}
	if (colon - arg >= (long)sizeof(m->into_pin)) {
		err_msg("--into: the path is longer than %zu bytes", sizeof(m->into_pin) - 1);
		return EXIT_USAGE;
	}
	snprintf(m->into_pin, sizeof(m->into_pin), "%.*s", (int)(colon - arg), arg);
	m->into_index = index;
	m->mode = SG_MODE_SLOT;
	fd = into_array(m, true);
	if (fd < 0)
		return EXIT_USAGE;
	close(fd);
	return EXIT_OK;
}

/*
 * Does a program loaded with @type fit @fd's owner?  The kernel holds a
 * program array to its first user's type and expected_attach_type, and
 * checks them when a program that tail-calls through the array loads: a
 * probe that does (r1 = ctx, r2 = the array, r3 = @index), never run.
 */
static bool into_fits(int fd, __u32 index, enum bpf_attach_type type)
{
	const struct bpf_insn probe[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = index },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = fd },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = type);
	int pfd = bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_into_probe", "GPL", probe,
				sizeof(probe) / sizeof(probe[0]), &o);

	if (pfd < 0)
		return false;
	close(pfd);
	return true;
}

enum bpf_attach_type chain_attach_type(int array_fd, __u32 index)
{
	/* Only if BPF_XDP does not fit and 0 does: else the update says why. */
	if (!into_fits(array_fd, index, BPF_XDP) && into_fits(array_fd, index, 0))
		return 0;
	return BPF_XDP;
}

enum bpf_attach_type into_attach_type(const struct sg_meta *m)
{
	int fd = into_array(m, false);
	enum bpf_attach_type type = BPF_XDP;

	if (fd < 0)
		return type;
	type = chain_attach_type(fd, m->into_index);
	if (type != BPF_XDP)
		info_msg("synguard: the program array %s was made by a loader that gives "
			 "no expected_attach_type (as xdp-tools 1.3 does): synguard's XDP "
			 "program is loaded the same way to fit it", m->into_pin);
	close(fd);
	return type;
}

int into_place(const struct sg_meta *m, int prog_fd)
{
	int fd = into_array(m, true), rc = EXIT_OK;
	char where[PATH_MAX];

	if (fd < 0)
		return EXIT_USAGE;
	if (bpf_map_update_elem(fd, &m->into_index, &prog_fd, BPF_ANY)) {
		snprintf(where, sizeof(where), "slot %u of %s", m->into_index, m->into_pin);
		if (errno == EINVAL) {
			explain_einval("synguard", where);
			rc = EXIT_USAGE;
		} else {
			err_msg("cannot put synguard in %s: %s", where, strerror(errno));
			rc = EXIT_FAIL;
		}
	}
	close(fd);
	return rc;
}

bool into_holds(const struct sg_meta *m, __u32 prog_id)
{
	int fd = into_array(m, false);
	__u32 id = 0;

	if (fd < 0)
		return false;
	if (bpf_map_lookup_elem(fd, &m->into_index, &id))
		id = 0;
	close(fd);
	return id && id == prog_id;
}

/*
 * Only if the slot still holds synguard's program: the root's owner may
 * have put another one there since.  Between the lookup and the delete
 * it could still do so; the kernel has no compare-and-delete for a slot.
 */
void into_remove(const char *dir, const struct sg_meta *m)
{
	int pfd, fd;
	__u32 id;

	if (m->mode != SG_MODE_SLOT)
		return;
	pfd = pin_get(dir, PIN_PROG_XDP);
	if (pfd < 0)
		return;
	id = prog_id(pfd, NULL, 0);
	close(pfd);
	if (!id || !into_holds(m, id))
		return;
	fd = into_array(m, false);
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &m->into_index);
		close(fd);
	}
}
