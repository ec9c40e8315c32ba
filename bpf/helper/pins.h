/* SPDX-License-Identifier: GPL-2.0 */
/* pins.h -- the program, its maps and its XDP link pinned under
 * <root>/<iface>/ (root: $WG_RELAY_XDP_PIN_ROOT, else /sys/fs/bpf/wg-relay):
 * how a program outlives its helper (the link pin keeps it attached) and how
 * the next helper finds it (pins_find). pins.c owns the paths and the BPF
 * file system; it decides nothing about adopting (attach.c does).
 */
#ifndef WG_RELAY_HELPER_PINS_H
#define WG_RELAY_HELPER_PINS_H

#include <linux/types.h>

#include "../wg_relay_abi.h"
#include "maps.h"

struct prog_set;

/* A program found attached to a NIC through its pinned link. Every fd is
 * ours to close (kept_close), -1 when absent. */
struct kept {
	int link_fd;
	int prog_fd; /* the pinned program, when it is the one the link runs */
	__u32 prog_id;
	int skb;     /* attached in generic mode */
	int meta_ok; /* meta was read and has WG_META_MAGIC */
	struct wg_meta meta;
	int map_fds[MAP__COUNT];
};

/* Reads the root from the environment. */
void pins_init(void);

const char *pins_root(void);

/* 0 when <root>/<iface>/ can hold pins (the BPF file system is mounted
 * under root, mounting it on /sys/fs/bpf when root is there and it is not),
 * else -errno. */
int pins_ready(const char *iface);

/* pins_ready() for the root alone (which it leaves as it found it). */
int pins_ready_root(void);

/* 1: a program is attached to ifindex through the link pinned for iface,
 * and k describes it; 0: none (pins that no longer describe the NIC --
 * a defunct link, another program attached -- are removed); <0: -errno. */
int pins_find(const char *iface, __u32 ifindex, struct kept *k);

void kept_close(struct kept *k);

/* Pins the program and its maps for iface, replacing what was pinned. */
int pins_save(const char *iface, const struct prog_set *ps);

/* Pins (link_fd >= 0) or unpins (link_fd < 0) the link of iface. */
int pins_link(const char *iface, int link_fd);

/* Removes every pin of iface and its directory (and the root, once empty). */
void pins_remove(const char *iface);

#endif /* WG_RELAY_HELPER_PINS_H */
