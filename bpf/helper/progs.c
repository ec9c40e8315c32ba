// SPDX-License-Identifier: GPL-2.0
/* progs.c -- the program stage: loads wg_relay.bpf.o, knows this build
 * (prog_hash, abi_hash; see struct wg_meta) and switches the program every
 * NIC runs when an attach finds a kept one: adopt it with its maps, or load
 * ours again on its maps. Whatever it switches to, the map-writing commands
 * follow through maps_use(). Single-threaded, like every stage.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../wg_relay_abi.h"
#include "abi.h"
#include "main.h"
#include "progs.h"

static struct prog_set cur = { .prog_fd = -1 };
static const char *obj_path;
static __u64 prog_hash, abi_hash;
static int committed;

const struct prog_set *progs_current(void)
{
	return &cur;
}

__u64 progs_prog_hash(void)
{
	return prog_hash;
}

__u64 progs_abi_hash(void)
{
	return abi_hash;
}

int progs_committed(void)
{
	return committed;
}

void progs_commit(void)
{
	committed = 1;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The object file's bytes: any rebuild that changes it is another program. */
static __u64 hash_file(const char *path)
{
	char buf[65536];
	__u64 h = FNV1A64_SEED;
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		fatal("open %s: %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		h = fnv1a64(h, buf, n);
	fclose(f);
	return h;
}

/* The layout the maps are read and written with: the shared structs and
 * every map's definition but wg_meta's (which is never handed over). */
static __u64 hash_abi(struct bpf_object *obj)
{
	__u64 h = abi_hash_table(FNV1A64_SEED);

	for (int i = 0; i < MAP__COUNT; i++) {
		if (i == MAP_META)
			continue;
		struct bpf_map *m = bpf_object__find_map_by_name(obj, map_names[i]);
		__u32 def[5] = { bpf_map__type(m), bpf_map__key_size(m), bpf_map__value_size(m),
				 bpf_map__max_entries(m), bpf_map__map_flags(m) };

		h = fnv1a64(h, map_names[i], strlen(map_names[i]) + 1);
		h = fnv1a64(h, def, sizeof(def));
	}
	return h;
}

/* Opens path with only the relay program to be loaded (wg_relay_pass is for
 * `ip link`); every map it must have is there, or fatal. */
static struct bpf_object *open_object(const char *path)
{
	struct bpf_program *prog;
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	if (!obj)
		fatal("open %s: %s", path, strerror(errno));
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), WG_PROG_RELAY));
	if (!bpf_object__find_program_by_name(obj, WG_PROG_RELAY))
		fatal("program %s not in %s", WG_PROG_RELAY, path);
	for (int i = 0; i < MAP__COUNT; i++)
		if (!bpf_object__find_map_by_name(obj, map_names[i]))
			fatal("map %s not in object", map_names[i]);
	return obj;
}

/* A loaded object as the current program; its wg_meta says this build. */
static int take_loaded(struct bpf_object *obj)
{
	struct wg_meta meta = { .magic = WG_META_MAGIC,
				.prog_hash = prog_hash,
				.abi_hash = abi_hash };
	__u32 zero = 0;
	struct prog_set next = { .obj = obj };

	next.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, WG_PROG_RELAY));
	next.prog_id = prog_id_of(next.prog_fd);
	for (int i = 0; i < MAP__COUNT; i++)
		next.map_fds[i] = bpf_map__fd(bpf_object__find_map_by_name(obj, map_names[i]));
	if (bpf_map_update_elem(next.map_fds[MAP_META], &zero, &meta, BPF_ANY))
		return -errno;
	progs_close();
	cur = next;
	maps_use(cur.map_fds);
	return 0;
}

void progs_load(const char *path)
{
	struct bpf_object *obj;
	int err;

	obj_path = path;
	prog_hash = hash_file(path);
	obj = open_object(path);
	abi_hash = hash_abi(obj);
	err = bpf_object__load(obj);
	if (err)
		fatal("load %s: %s", path, strerror(-err));
	if ((err = take_loaded(obj)))
		fatal("write %s: %s", WG_MAP_META, strerror(-err));
}

void progs_adopt(struct kept *k)
{
	struct prog_set next = { .obj = NULL, .prog_fd = k->prog_fd, .prog_id = k->prog_id };

	for (int i = 0; i < MAP__COUNT; i++) {
		next.map_fds[i] = k->map_fds[i];
		k->map_fds[i] = -1;
	}
	k->prog_fd = -1;
	progs_close();
	cur = next;
	maps_use(cur.map_fds);
}

int progs_reload_on(const struct kept *k)
{
	struct bpf_object *obj = open_object(obj_path);
	int err = 0;

	for (int i = 0; i < MAP__COUNT && !err; i++)
		if (i != MAP_META)
			err = bpf_map__reuse_fd(bpf_object__find_map_by_name(obj, map_names[i]),
						k->map_fds[i]);
	if (!err)
		err = bpf_object__load(obj);
	if (!err)
		err = take_loaded(obj);
	if (err)
		bpf_object__close(obj);
	return err;
}

void progs_close(void)
{
	if (cur.obj) {
		bpf_object__close(cur.obj);
	} else if (cur.prog_fd >= 0) {
		close(cur.prog_fd);
		for (int i = 0; i < MAP__COUNT; i++)
			if (cur.map_fds[i] >= 0)
				close(cur.map_fds[i]);
	}
	cur.obj = NULL;
	cur.prog_fd = -1;
}
