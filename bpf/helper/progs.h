/* SPDX-License-Identifier: GPL-2.0 */
/* progs.h -- which program (and which maps) every NIC of this helper runs.
 * progs.c owns it: at start the object argv[1] names, loaded with fresh
 * maps; after an attach found a kept program of the same build on its NIC,
 * that program with its maps (adopted); after one found a kept program of
 * another build whose maps have our layout, our object loaded again on the
 * kept maps. Only one program at a time: the NICs share the maps
 * (wg_tx_ports redirects between them).
 */
#ifndef WG_RELAY_HELPER_PROGS_H
#define WG_RELAY_HELPER_PROGS_H

#include <linux/types.h>

#include "maps.h"
#include "pins.h"

struct prog_set {
	struct bpf_object *obj; /* loaded by this helper; NULL for an adopted program */
	int prog_fd;
	__u32 prog_id;
	int map_fds[MAP__COUNT];
};

/* Loads path with fresh maps and writes its wg_meta; fatal() on failure. */
void progs_load(const char *path);

const struct prog_set *progs_current(void);

/* This build: the hashes wg_meta holds (see wg_relay_abi.h). */
__u64 progs_prog_hash(void);
__u64 progs_abi_hash(void);

/* True once a NIC runs the current program: from then on it stays the one. */
int progs_committed(void);
void progs_commit(void);

/* The current program becomes k's program with k's maps; k's fds are taken
 * (set to -1 in k). Before any NIC is committed. */
void progs_adopt(struct kept *k);

/* The current program becomes our object loaded again on k's maps (all but
 * wg_meta, which is new and says this build). 0, or -errno with the current
 * program unchanged. Before any NIC is committed. */
int progs_reload_on(const struct kept *k);

/* Closes our fds of the program and its maps (pins and links keep theirs). */
void progs_close(void);

#endif /* WG_RELAY_HELPER_PROGS_H */
