// SPDX-License-Identifier: GPL-2.0
/* pins.c -- the pin stage: <root>/<iface>/ holds `prog` (the program), one
 * pin per map (named as the map) and, while the Java side asked to keep the
 * program on exit, `link` (the bpf_link that attaches it to the NIC). The
 * link pin is what keeps a program attached after its helper exits; the
 * others are how the next helper finds the program's maps and build
 * (wg_meta). With several NICs the same maps are pinned under each NIC's
 * directory. Only root reads or writes here (mode 0700).
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "pins.h"
#include "progs.h"

#define DEFAULT_ROOT "/sys/fs/bpf/wg-relay"
#define BPFFS "/sys/fs/bpf"

static char root[PATH_MAX / 2];

void pins_init(void)
{
	const char *env = getenv("WG_RELAY_XDP_PIN_ROOT");

	snprintf(root, sizeof(root), "%s", env && *env ? env : DEFAULT_ROOT);
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		root[--n] = 0;
}

const char *pins_root(void)
{
	return root;
}

static void path_of(char *out, size_t n, const char *iface, const char *name)
{
	if (name)
		snprintf(out, n, "%s/%s/%s", root, iface, name);
	else
		snprintf(out, n, "%s/%s", root, iface);
}

static int on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/* As iproute2 does: a host without the BPF file system on /sys/fs/bpf gets it. */
int pins_ready(const char *iface)
{
	char dir[PATH_MAX];

	if (!strncmp(root, BPFFS "/", strlen(BPFFS) + 1) && !on_bpffs(BPFFS) &&
	    mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	if (mkdir(root, 0700) && errno != EEXIST)
		return -errno;
	if (!on_bpffs(root))
		return -ENOTSUP; /* "not supported": pins need the BPF file system */
	if (!iface)
		return 0;
	path_of(dir, sizeof(dir), iface, NULL);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int pins_ready_root(void)
{
	int err = pins_ready(NULL);

	rmdir(root); /* only when empty: no NIC has pins yet */
	return err;
}

static int get_pin(const char *iface, const char *name)
{
	char path[PATH_MAX];

	path_of(path, sizeof(path), iface, name);
	return bpf_obj_get(path);
}

static int put_pin(const char *iface, const char *name, int fd)
{
	char path[PATH_MAX];

	path_of(path, sizeof(path), iface, name);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

void kept_close(struct kept *k)
{
	if (k->link_fd >= 0)
		close(k->link_fd);
	if (k->prog_fd >= 0)
		close(k->prog_fd);
	for (int i = 0; i < MAP__COUNT; i++)
		if (k->map_fds[i] >= 0)
			close(k->map_fds[i]);
	k->link_fd = k->prog_fd = -1;
	for (int i = 0; i < MAP__COUNT; i++)
		k->map_fds[i] = -1;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The pinned program is what the NIC runs, though no link is pinned: a
 * running helper without keep owns these pins (its attach will be refused
 * with EBUSY). They are not stale; removing them would cost that helper its
 * adoption by a takeover. */
static int in_use(const char *iface, __u32 ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int fd = get_pin(iface, "prog");
	__u32 id = fd >= 0 ? prog_id_of(fd) : 0;

	if (fd >= 0)
		close(fd);
	return id && !bpf_xdp_query((int)ifindex, 0, &q) &&
	       (q.drv_prog_id == id || q.skb_prog_id == id);
}

int pins_find(const char *iface, __u32 ifindex, struct kept *k)
{
	struct bpf_link_info link = {};
	__u32 len = sizeof(link);
	char dir[PATH_MAX];
	struct stat st;

	memset(k, 0, sizeof(*k));
	k->link_fd = k->prog_fd = -1;
	for (int i = 0; i < MAP__COUNT; i++)
		k->map_fds[i] = -1;
	path_of(dir, sizeof(dir), iface, NULL);
	if (stat(dir, &st))
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;

	k->link_fd = get_pin(iface, "link");
	if (k->link_fd < 0 || bpf_obj_get_info_by_fd(k->link_fd, &link, &len) ||
	    link.type != BPF_LINK_TYPE_XDP || link.xdp.ifindex != ifindex)
		goto stale; /* no link kept, or one whose NIC is gone (ifindex 0) */

	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	if (bpf_xdp_query((int)ifindex, 0, &q))
		goto stale;
	if (q.drv_prog_id == link.prog_id)
		k->skb = 0;
	else if (q.skb_prog_id == link.prog_id)
		k->skb = 1;
	else
		goto stale;
	k->prog_id = link.prog_id;

	k->prog_fd = get_pin(iface, "prog");
	if (k->prog_fd >= 0 && prog_id_of(k->prog_fd) != link.prog_id) {
		close(k->prog_fd); /* the pinned program is not the attached one */
		k->prog_fd = -1;
	}
	for (int i = 0; i < MAP__COUNT; i++)
		k->map_fds[i] = get_pin(iface, map_names[i]);
	__u32 zero = 0;

	k->meta_ok = k->prog_fd >= 0 && k->map_fds[MAP_META] >= 0 &&
		     !bpf_map_lookup_elem(k->map_fds[MAP_META], &zero, &k->meta) &&
		     k->meta.magic == WG_META_MAGIC;
	return 1;
stale:
	kept_close(k);
	if (!in_use(iface, ifindex))
		pins_remove(iface);
	return 0;
}

int pins_save(const char *iface, const struct prog_set *ps)
{
	int err = pins_ready(iface);

	if (!err)
		err = put_pin(iface, "prog", ps->prog_fd);
	for (int i = 0; i < MAP__COUNT && !err; i++)
		err = put_pin(iface, map_names[i], ps->map_fds[i]);
	return err;
}

int pins_link(const char *iface, int link_fd)
{
	char path[PATH_MAX];

	if (link_fd >= 0) {
		int err = pins_ready(iface);

		return err ? err : put_pin(iface, "link", link_fd);
	}
	path_of(path, sizeof(path), iface, "link");
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

void pins_remove(const char *iface)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;

	path_of(dir, sizeof(dir), iface, NULL);
	d = opendir(dir);
	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
	rmdir(root); /* only once no NIC has pins left */
}
