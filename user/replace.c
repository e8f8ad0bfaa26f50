// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * attach --force on a live attachment: the programs are replaced in place
 * and the state is kept.
 *
 * The new object reuses every map of the running programs whose layout is
 * the same (type, key, value, size, flags, and the value's BTF member by
 * member); a map whose value layout changed is created anew and its
 * entries copied across member by member, by name (new members start at
 * 0, dropped ones are dropped); a map whose key or type changed cannot be
 * carried, and the replace is refused unless --reset asks for a fresh
 * start.  The XDP and tcx links are then pointed at the new programs with
 * bpf_link_update(): no moment without a synguard program on the
 * interface, and the nftables table keeps its name (sg_meta's attach_id).
 *
 * The replace journals in IFACE:up beside the attachment: the pins of the
 * new objects that are not reused, and the new XDP and egress programs as
 * markers.  Killed before the XDP link moved, the old attachment is whole
 * and the journal is thrown away; killed after, the journal is rolled
 * forward (the other links moved, the pins renamed into IFACE).  attach
 * and prune do that under pin_lock(); status shows "replacing".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cookie.h"
#include "flows.h"
#include "pin.h"
#include "policy.h"
#include "replace.h"
#include "synguard.skel.h"
#include "flow_walk.skel.h"

#define MARK_XDP "new_prog_xdp"
#define MARK_EGRESS "new_prog_egress"
#define OLD_MAPS_MAX 64

struct old_map {
	struct bpf_map_info info;
	int fd;
};

struct old_maps {
	struct old_map m[OLD_MAPS_MAX];
	int n;
};

/* How a map of the new object gets its contents. */
enum carry { CARRY_NEW, CARRY_REUSE, CARRY_COPY };

int replace_journal(char *buf, size_t len, const char *dir)
{
	return snprintf(buf, len, "%s:up", dir) < (int)len ? 0 : -ENAMETOOLONG;
}

static int link_prog_id(int link_fd, __u32 *id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	*id = info.prog_id;
	return 0;
}

static __u32 prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

static void old_maps_close(struct old_maps *o)
{
	while (o->n > 0)
		close(o->m[--o->n].fd);
}

/* Adds the maps @prog_fd uses to @o, each once. */
static int old_maps_add(struct old_maps *o, int prog_fd)
{
	__u32 ids[OLD_MAPS_MAX], len, i;
	struct bpf_prog_info info = {};
	int j, fd;

	info.nr_map_ids = OLD_MAPS_MAX;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (i = 0; i < info.nr_map_ids && i < OLD_MAPS_MAX; i++) {
		for (j = 0; j < o->n && o->m[j].info.id != ids[i]; j++)
			;
		if (j < o->n)
			continue;
		if (o->n == OLD_MAPS_MAX)
			return -E2BIG;
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			return -errno;
		len = sizeof(o->m[o->n].info);
		memset(&o->m[o->n].info, 0, len);
		if (bpf_obj_get_info_by_fd(fd, &o->m[o->n].info, &len)) {
			close(fd);
			return -errno;
		}
		o->m[o->n++].fd = fd;
	}
	return 0;
}

/* The maps of the programs the attachment in @dir runs. */
static int old_maps_open(const char *dir, struct old_maps *o)
{
	const char *progs[] = { PIN_PROG_INGRESS, PIN_WALK };
	const char *links[] = { PIN_LINK, PIN_LINK_EGRESS };
	int fd, prog, err = 0;
	__u32 id = 0;
	size_t i;

	for (i = 0; i < 2 && !err; i++) {
		fd = pin_get(dir, links[i]);
		if (fd < 0)
			return -errno;
		err = link_prog_id(fd, &id);
		close(fd);
		if (err)
			return err;
		prog = bpf_prog_get_fd_by_id(id);
		if (prog < 0)
			return -errno;
		err = old_maps_add(o, prog);
		close(prog);
	}
	for (i = 0; i < 2 && !err; i++) {
		prog = pin_get(dir, progs[i]);
		if (prog < 0)
			continue;	/* an older attachment may lack one */
		err = old_maps_add(o, prog);
		close(prog);
	}
	return err;
}

static struct old_map *old_map_find(struct old_maps *o, const char *name)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (!strcmp(o->m[i].info.name, name))
			return &o->m[i];
	return NULL;
}

/* --- layouts, by BTF --------------------------------------------------- */

static const struct btf_type *resolved(const struct btf *btf, __u32 *id)
{
	int r = btf__resolve_type(btf, *id);

	if (r < 0)
		return NULL;
	*id = r;
	return btf__type_by_id(btf, r);
}

/* Do types @a in @ba and @b in @bb lay out the same bytes the same way? */
static bool same_layout(const struct btf *ba, __u32 a, const struct btf *bb,
			__u32 b, int depth)
{
	const struct btf_type *ta = resolved(ba, &a), *tb = resolved(bb, &b);
	const struct btf_member *ma, *mb;
	int i;

	if (!ta || !tb || depth > 8 || btf_kind(ta) != btf_kind(tb))
		return false;
	switch (btf_kind(ta)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return ta->size == tb->size;
	case BTF_KIND_ARRAY:
		return btf_array(ta)->nelems == btf_array(tb)->nelems &&
		       same_layout(ba, btf_array(ta)->type, bb, btf_array(tb)->type,
				   depth + 1);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (ta->size != tb->size || btf_vlen(ta) != btf_vlen(tb))
			return false;
		ma = btf_members(ta);
		mb = btf_members(tb);
		for (i = 0; i < btf_vlen(ta); i++, ma++, mb++)
			if (ma->offset != mb->offset ||
			    strcmp(btf__name_by_offset(ba, ma->name_off),
				   btf__name_by_offset(bb, mb->name_off)) ||
			    !same_layout(ba, ma->type, bb, mb->type, depth + 1))
				return false;
		return true;
	default:
		return false;
	}
}

/*
 * Copies @src (type @a of @ba) into @dst (type @b of @bb, zeroed by the
 * caller): equal layouts whole, structs member by member by name, integers
 * zero-extended or cut, arrays element by element; the rest stays 0.
 */
static void convert(const struct btf *ba, __u32 a, const void *src,
		    const struct btf *bb, __u32 b, void *dst, int depth)
{
	const struct btf_type *ta = resolved(ba, &a), *tb = resolved(bb, &b);
	const struct btf_member *ma, *mb;
	__u32 n, i, esz_a, esz_b;
	int j, k;

	if (!ta || !tb || depth > 8)
		return;
	if (same_layout(ba, a, bb, b, depth)) {
		memcpy(dst, src, btf__resolve_size(bb, b));
		return;
	}
	if (btf_kind(ta) == BTF_KIND_INT && btf_kind(tb) == BTF_KIND_INT) {
		memcpy(dst, src, ta->size < tb->size ? ta->size : tb->size);
		return;
	}
	if (btf_kind(ta) == BTF_KIND_ARRAY && btf_kind(tb) == BTF_KIND_ARRAY) {
		n = btf_array(ta)->nelems < btf_array(tb)->nelems ?
			btf_array(ta)->nelems : btf_array(tb)->nelems;
		esz_a = btf__resolve_size(ba, btf_array(ta)->type);
		esz_b = btf__resolve_size(bb, btf_array(tb)->type);
		for (i = 0; i < n; i++)
			convert(ba, btf_array(ta)->type, (const char *)src + i * esz_a,
				bb, btf_array(tb)->type, (char *)dst + i * esz_b,
				depth + 1);
		return;
	}
	if (btf_kind(ta) != BTF_KIND_STRUCT || btf_kind(tb) != BTF_KIND_STRUCT)
		return;
	mb = btf_members(tb);
	for (j = 0; j < btf_vlen(tb); j++, mb++) {
		const char *name = btf__name_by_offset(bb, mb->name_off);

		ma = btf_members(ta);
		for (k = 0; k < btf_vlen(ta); k++, ma++)
			if (!strcmp(name, btf__name_by_offset(ba, ma->name_off)))
				break;
		/* Bitfields and anonymous members are not carried. */
		if (k == btf_vlen(ta) || !name[0] || btf_member_bitfield_size(ta, k) ||
		    btf_member_bitfield_size(tb, j))
			continue;
		convert(ba, ma->type, (const char *)src + ma->offset / 8,
			bb, mb->type, (char *)dst + mb->offset / 8, depth + 1);
	}
}

struct layouts {
	struct btf *old_btf;	/* the old map's, from the kernel */
	const struct btf *new_btf;
	__u32 old_key, old_value, new_key, new_value;
};

static bool is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool copyable(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LPM_TRIE;
}

/*
 * How @map can carry @old: CARRY_REUSE, CARRY_COPY, or -EINVAL with @why
 * saying what stands in the way.
 */
static int carry_of(const struct bpf_map *map, const struct old_map *old,
		    struct layouts *l, const char **why)
{
	const struct bpf_map_info *i = &old->info;
	bool keys_same, values_same;

	l->old_btf = i->btf_id ? btf__load_from_kernel_by_id(i->btf_id) : NULL;
	l->old_key = i->btf_key_type_id;
	l->old_value = i->btf_value_type_id;
	l->new_key = bpf_map__btf_key_type_id(map);
	l->new_value = bpf_map__btf_value_type_id(map);
	if (i->type != bpf_map__type(map)) {
		*why = "its map type changed";
		return -EINVAL;
	}
	if (i->key_size != bpf_map__key_size(map)) {
		*why = "its key changed size";
		return -EINVAL;
	}
	keys_same = !l->old_key || !l->new_key ||
		    (l->old_btf && same_layout(l->old_btf, l->old_key, l->new_btf,
					       l->new_key, 0));
	values_same = i->value_size == bpf_map__value_size(map) &&
		      (!l->old_value || !l->new_value ||
		       (l->old_btf && same_layout(l->old_btf, l->old_value,
						  l->new_btf, l->new_value, 0)));
	if (!keys_same) {
		*why = "its key changed layout";
		return -EINVAL;
	}
	if (values_same && i->max_entries == bpf_map__max_entries(map) &&
	    i->map_flags == bpf_map__map_flags(map))
		return CARRY_REUSE;
	if (!copyable(i->type)) {
		*why = "maps of its type cannot be copied";
		return -EINVAL;
	}
	if (!values_same && (!l->old_btf || !l->old_value || !l->new_value)) {
		*why = "its value changed and has no BTF to convert it by";
		return -EINVAL;
	}
	return CARRY_COPY;
}

/* Copies every entry of @from into @to, converting values per @l. */
static int map_copy(int from, const struct bpf_map_info *fi, int to,
		    const struct bpf_map *map, const struct layouts *l, __u64 *copied)
{
	int ncpu = is_percpu(fi->type) ? libbpf_num_possible_cpus() : 1;
	size_t osz = is_percpu(fi->type) ? (fi->value_size + 7) / 8 * 8 : fi->value_size;
	size_t nsz_one = bpf_map__value_size(map);
	size_t nsz = is_percpu(fi->type) ? (nsz_one + 7) / 8 * 8 : nsz_one;
	bool array = fi->type == BPF_MAP_TYPE_ARRAY || fi->type == BPF_MAP_TYPE_PERCPU_ARRAY;
	char *ov = calloc(ncpu, osz), *nv = calloc(ncpu, nsz);
	char *key = calloc(2, fi->key_size), *next = key + fi->key_size;
	bool first = true;
	int err = 0, c;
	__u32 idx;

	if (!ov || !nv || !key) {
		err = -ENOMEM;
		goto out;
	}
	for (idx = 0;; idx++) {
		if (array) {
			if (idx >= fi->max_entries || idx >= bpf_map__max_entries(map))
				break;
			memcpy(next, &idx, sizeof(idx));
		} else if (bpf_map_get_next_key(from, first ? NULL : key, next)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		first = false;
		memcpy(key, next, fi->key_size);
		if (bpf_map_lookup_elem(from, key, ov))
			continue;	/* gone meanwhile */
		memset(nv, 0, ncpu * nsz);
		for (c = 0; c < ncpu; c++) {
			if (l->old_btf && l->old_value && l->new_value)
				convert(l->old_btf, l->old_value, ov + c * osz,
					l->new_btf, l->new_value, nv + c * nsz, 0);
			else
				memcpy(nv + c * nsz, ov + c * osz,
				       osz < nsz_one ? osz : nsz_one);
		}
		if (bpf_map_update_elem(to, key, nv, BPF_ANY)) {
			err = -errno;
			if (err == -E2BIG || err == -ENOMEM)
				err = 0;	/* a smaller table keeps what fits */
			else
				break;
		} else {
			(*copied)++;
		}
	}
out:
	free(ov);
	free(nv);
	free(key);
	return err;
}

/* --- the replace ------------------------------------------------------- */

struct plan {
	struct old_maps old;
	enum carry carry[OLD_MAPS_MAX];	/* by the new object's map order */
	struct old_map *from[OLD_MAPS_MAX];
	struct layouts lay[OLD_MAPS_MAX];
	int n;
};

static void plan_free(struct plan *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		btf__free(p->lay[i].old_btf);
	old_maps_close(&p->old);
}

/*
 * Before load: reuse what matches, size the flow tables as the live ones
 * unless asked, and say what cannot be carried.  EXIT_* code.
 */
static int plan_maps(struct synguard *skel, const char *dir,
		     const struct replace_req *r, struct plan *p)
{
	const struct btf *btf = bpf_object__btf(skel->obj);
	struct old_map *half, *flows;
	struct bpf_map *map;
	const char *why;
	int err, c, bad = 0;

	err = old_maps_open(dir, &p->old);
	if (err) {
		err_msg("cannot read the live attachment's maps: %s", strerror(-err));
		return EXIT_FAIL;
	}
	half = old_map_find(&p->old, "sg_half");
	flows = old_map_find(&p->old, "sg_flows");
	bpf_map__set_max_entries(skel->maps.sg_half, r->half_max ? r->half_max :
				 half ? half->info.max_entries : SG_DEFAULT_HALF_MAX);
	bpf_map__set_max_entries(skel->maps.sg_flows, r->flows_max ? r->flows_max :
				 flows ? flows->info.max_entries : SG_DEFAULT_FLOWS_MAX);
	bpf_object__for_each_map(map, skel->obj) {
		int i = p->n++;

		if (i >= OLD_MAPS_MAX)
			return EXIT_FAIL;
		p->lay[i].new_btf = btf;
		p->from[i] = bpf_map__is_internal(map) || r->reset ? NULL :
			     old_map_find(&p->old, bpf_map__name(map));
		p->carry[i] = CARRY_NEW;
		if (!p->from[i])
			continue;
		c = carry_of(map, p->from[i], &p->lay[i], &why);
		if (c < 0) {
			err_msg("cannot carry %s into the new build: %s; "
				"--reset replaces it and starts %s empty",
				bpf_map__name(map), why, bpf_map__name(map));
			bad++;
			continue;
		}
		p->carry[i] = c;
		if (c == CARRY_REUSE && bpf_map__reuse_fd(map, p->from[i]->fd)) {
			err_msg("cannot reuse %s: %s", bpf_map__name(map),
				strerror(errno));
			return EXIT_FAIL;
		}
	}
	return bad ? EXIT_STATE : EXIT_OK;
}

/* After load: copy what changed layout. */
static int plan_copy(struct synguard *skel, struct plan *p)
{
	struct bpf_map *map;
	__u64 copied;
	int i = 0, err;

	bpf_object__for_each_map(map, skel->obj) {
		if (i < p->n && p->carry[i] == CARRY_COPY) {
			copied = 0;
			err = map_copy(p->from[i]->fd, &p->from[i]->info,
				       bpf_map__fd(map), map, &p->lay[i], &copied);
			if (err) {
				err_msg("cannot copy %s: %s", bpf_map__name(map),
					strerror(-err));
				return EXIT_FAIL;
			}
			if (verbose)
				info_msg("synguard: %s converted, %llu entries",
					 bpf_map__name(map), (unsigned long long)copied);
		}
		i++;
	}
	return EXIT_OK;
}

static bool reused(struct synguard *skel, const struct plan *p, const char *name)
{
	struct bpf_map *map;
	int i = 0;

	bpf_object__for_each_map(map, skel->obj) {
		if (!strcmp(bpf_map__name(map), name))
			return i < p->n && p->carry[i] == CARRY_REUSE;
		i++;
	}
	return false;
}

/* test_kill_at() at a step named @what and @name. */
static void kill_at(const char *what, const char *name)
{
	char step[320];

	snprintf(step, sizeof(step), "%s%s", what, name);
	test_kill_at(step);
}

static int pin_fd(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

/* The journal: new maps, new programs, the markers last. */
static int journal_write(struct synguard *skel, struct flow_walk *walker,
			 const struct plan *p, const char *jdir)
{
	const struct pin_obj *o;
	int err;

	err = pin_mkdirs(jdir);
	for (o = pin_objs; !err && o->name && o->kind == PIN_MAP; o++) {
		if (reused(skel, p, o->name))
			continue;
		err = pin_fd(bpf_map__fd(bpf_object__find_map_by_name(skel->obj, o->name)),
			     jdir, o->name);
		kill_at("journal-", o->name);
	}
	if (!err)
		err = pin_fd(bpf_program__fd(skel->progs.synguard_ingress), jdir,
			     PIN_PROG_INGRESS) ?:
		      pin_fd(bpf_program__fd(walker->progs.sg_walk), jdir, PIN_WALK) ?:
		      pin_fd(bpf_program__fd(skel->progs.synguard_egress), jdir,
			     MARK_EGRESS);
	test_kill_at("journal-progs");
	/* Written last: a journal with it is whole. */
	return err ?: pin_fd(bpf_program__fd(skel->progs.synguard_xdp), jdir, MARK_XDP);
}

/* Points the link pinned as @name in @dir at the program pinned in @jdir. */
static int link_move(const char *dir, const char *name, const char *jdir,
		     const char *prog_name)
{
	int link = pin_get(dir, name), prog = pin_get(jdir, prog_name), err = 0;
	__u32 have = 0;

	/*
	 * No link: none to move (the ingress link exists only with the SYN
	 * cookie path).  No program: moved and unpinned before a kill.
	 */
	if (link < 0 || prog < 0)
		goto out;
	if (!link_prog_id(link, &have) && have == prog_id(prog))
		goto out;	/* moved before a kill */
	if (bpf_link_update(link, prog, NULL))
		err = -errno;
out:
	if (link >= 0)
		close(link);
	if (prog >= 0)
		close(prog);
	return err;
}

/* Rolls the journal @jdir forward into @dir: links, then pins. */
static int journal_apply(const char *dir, const char *jdir)
{
	char from[PATH_MAX + 64], to[PATH_MAX + 64];
	struct dirent *e;
	DIR *d;
	int err;

	err = link_move(dir, PIN_LINK, jdir, MARK_XDP);
	test_kill_at("swap-xdp");
	err = err ?: link_move(dir, PIN_LINK_EGRESS, jdir, MARK_EGRESS);
	test_kill_at("swap-egress");
	err = err ?: link_move(dir, PIN_LINK_INGRESS, jdir, PIN_PROG_INGRESS);
	test_kill_at("swap-ingress");
	if (err)
		return err;
	d = opendir(jdir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, MARK_XDP) ||
		    !strcmp(e->d_name, MARK_EGRESS))
			continue;
		snprintf(from, sizeof(from), "%s/%s", jdir, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
		if (rename(from, to) && !err)
			err = -errno;
		kill_at("publish-", e->d_name);
	}
	closedir(d);
	if (err)
		return err;
	/* The markers go last: until then the journal can be rolled on. */
	snprintf(from, sizeof(from), "%s/" MARK_EGRESS, jdir);
	unlink(from);
	snprintf(from, sizeof(from), "%s/" MARK_XDP, jdir);
	unlink(from);
	return rmdir(jdir) ? -errno : 0;
}

static int journal_discard(const char *jdir)
{
	struct sg_target t = {};

	snprintf(t.dir, sizeof(t.dir), "%s", jdir);
	return pin_remove_all(&t);
}

int replace_recover(const char *dir, bool *rolled_forward)
{
	char jdir[PATH_MAX];
	int link, mark;

	*rolled_forward = false;
	if (replace_journal(jdir, sizeof(jdir), dir) || access(jdir, F_OK))
		return 0;
	link = pin_get(dir, PIN_LINK);
	mark = pin_get(jdir, MARK_XDP);
	/*
	 * Forward only when the journal is whole (its XDP marker is written
	 * last) and the old attachment is there to move: the new programs
	 * may already run, and they need the journal's maps pinned.
	 */
	*rolled_forward = mark >= 0 && link >= 0;
	if (link >= 0)
		close(link);
	if (mark >= 0)
		close(mark);
	if (*rolled_forward)
		return journal_apply(dir, jdir) ?: 1;
	return journal_discard(jdir) ?: 1;
}

/* Reads the carried policy, lays the options given over it, publishes. */
static int policy_carry(struct synguard *skel, const struct replace_req *r,
			bool carried)
{
	struct sg_policy live, given = *r->pol;
	char *buf = NULL, *line, *save = NULL, *eq;
	size_t len = 0;
	FILE *f;
	int err = 0;

	if (!carried || policy_read(POLICY_FDS(skel), &live))
		return policy_write(POLICY_FDS(skel), r->pol);
	/* The keys given, as the KEY=VALUE lines a config file holds. */
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	policy_print(&given, f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save)) {
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (!policy_key_set(&given, line))
			continue;
		*eq = '=';
		err = policy_set(&live, line) ? -EINVAL : 0;
	}
	free(buf);
	return err ?: policy_write(POLICY_FDS(skel), &live);
}

/* Copies the live sg_meta into a new one: the nftables table keeps its name. */
static int meta_carry(struct synguard *skel, const char *dir, int mode)
{
	struct sg_meta m;
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.sg_meta);

	if (pin_meta(dir, &m))
		return -ENOENT;
	m.mode = mode;
	return bpf_map_update_elem(fd, &zero, &m, 0) ? -errno : 0;
}

static int replace_load(struct synguard **skel, struct flow_walk **walker,
			const struct sg_target *t, const struct replace_req *r,
			struct plan *p)
{
	int rc, err;

	*skel = synguard__open();
	if (!*skel) {
		err_msg("cannot open the BPF object: %s", strerror(errno));
		return EXIT_FAIL;
	}
	rc = plan_maps(*skel, t->dir, r, p);
	if (rc)
		return rc;
	err = synguard__load(*skel);
	if (err) {
		err_msg("the kernel refused to load synguard: %s%s", strerror(-err),
			verbose ? "" : " (-v shows libbpf's log)");
		return EXIT_FAIL;
	}
	test_kill_at("replace-loaded");
	rc = plan_copy(*skel, p);
	if (rc)
		return rc;
	*walker = flows_walker(&(struct sg_flow_maps){
				.half_fd = bpf_map__fd((*skel)->maps.sg_half),
				.flows_fd = bpf_map__fd((*skel)->maps.sg_flows),
				.hist_fd = bpf_map__fd((*skel)->maps.sg_hist),
				.gauge_fd = bpf_map__fd((*skel)->maps.sg_gauge),
				.gauge_base_fd = bpf_map__fd((*skel)->maps.sg_gauge_base) });
	if (!*walker) {
		err_msg("the kernel refused to load the flow gauges' reader: %s",
			strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int attach_replace(const struct sg_target *t, const struct replace_req *r)
{
	struct synguard *skel = NULL;
	struct flow_walk *walker = NULL;
	struct plan *p = calloc(1, sizeof(*p));
	struct sg_config cfg;
	struct sg_meta meta;
	char jdir[PATH_MAX];
	int rc, err;

	if (!p)
		return EXIT_FAIL;
	if (pin_meta(t->dir, &meta) || replace_journal(jdir, sizeof(jdir), t->dir)) {
		err_msg("cannot read the live attachment's sg_meta under %s", t->dir);
		rc = EXIT_FAIL;
		goto out;
	}
	if (r->mode_given && r->mode != (int)meta.mode) {
		err_msg("%s is attached in %s mode: a replace keeps the mode "
			"(detach, then attach, to change it)", t->ifname,
			meta.mode == SG_MODE_NATIVE ? "native" : "generic");
		rc = EXIT_USAGE;
		goto out;
	}
	rc = replace_load(&skel, &walker, t, r, p);
	if (rc)
		goto out;
	err = policy_carry(skel, r, !r->reset && reused(skel, p, "sg_config")) ?:
	      meta_carry(skel, t->dir, meta.mode);
	if (!err && r->lists)
		err = policy_lists_apply(LIST_FDS(skel), bpf_map__fd(skel->maps.sg_lists),
					 r->lists);
	if (err) {
		err_msg("cannot write the new build's policy: %s", strerror(-err));
		rc = EXIT_FAIL;
		goto out;
	}
	err = journal_write(skel, walker, p, jdir);
	if (err) {
		err_msg("cannot pin under %s: %s", jdir, strerror(-err));
		journal_discard(jdir);
		rc = EXIT_FAIL;
		goto out;
	}
	test_kill_at("journal");
	err = journal_apply(t->dir, jdir);
	if (err) {
		err_msg("cannot move %s to the new programs: %s (prune finishes it)",
			t->ifname, strerror(-err));
		rc = EXIT_FAIL;
		goto out;
	}
	/* The SYN cookie path as the policy in force wants it, in place. */
	if (!policy_read_config(POLICY_FDS(skel), &cfg)) {
		if (cookie_infra_needed(&cfg))
			rc = cookie_infra_up(t, &meta, &cfg);
		else if (cookie_infra_present(t))
			rc = cookie_infra_down(t->dir, t->netns, &meta) ? EXIT_FAIL : 0;
	}
	if (!rc)
		info_msg("synguard: replaced the programs on %s%s%s in place (prog %u)%s",
			 t->ifname, t->netns[0] ? " in netns " : "", t->netns,
			 prog_id(bpf_program__fd(skel->progs.synguard_xdp)),
			 r->reset ? ", state reset" : "");
out:
	flow_walk__destroy(walker);
	synguard__destroy(skel);
	plan_free(p);
	free(p);
	return rc;
}
