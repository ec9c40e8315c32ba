/* SPDX-License-Identifier: GPL-2.0 */
/* maps.h -- the maps as the helper writes and reads them. progs.c owns their
 * fds (they belong to the program every NIC runs) and hands them over with
 * maps_use(); maps.c owns the per-endpoint counter slots, which only it hands
 * out; the other stages use the fds in `maps` and never change them.
 */
#ifndef WG_RELAY_HELPER_MAPS_H
#define WG_RELAY_HELPER_MAPS_H

#include <bpf/libbpf.h>

/* The object's maps, in the order of map_names (which are also the names of
 * their pins, see pins.c). */
enum helper_map {
	MAP_CONFIG,
	MAP_NICS,
	MAP_PEERS,
	MAP_SESSIONS,
	MAP_MACS,
	MAP_BLOCKLIST,
	MAP_STATS,
	MAP_PEER_STATS,
	MAP_TX_PORTS,
	MAP_META,
	MAP__COUNT,
};

extern const char *const map_names[MAP__COUNT];

/* Set by maps_use() whenever progs.c changes the program every NIC runs (at
 * start, and when a kept program's maps are adopted); valid until the next
 * maps_use(). */
struct helper_maps {
	int config_fd, nics_fd, peers_fd, sessions_fd, macs_fd, blocklist_fd, stats_fd,
		peer_stats_fd, tx_ports_fd, meta_fd;
	int ncpus; /* values in one lookup of a per-CPU map */
};

extern struct helper_maps maps;

/* Once, before the first maps_use(). */
void maps_init(void);

/* From now on the commands write these maps (fds[MAP_*]); the counter slots
 * are rebuilt from the entries wg_peers already holds. */
void maps_use(const int fds[MAP__COUNT]);

/* The reason= text for a failed write of map (err: a positive errno). */
const char *map_error(const char *map, int err);

void cmd_config(int argc, char **argv);
void cmd_nic(int argc, char **argv);
void cmd_unnic(int argc, char **argv);
void cmd_peer(int argc, char **argv);
void cmd_unpeer(int argc, char **argv);
void cmd_session(int argc, char **argv);
void cmd_unsession(int argc, char **argv);
void cmd_block(int argc, char **argv);
void cmd_unblock(int argc, char **argv);
void cmd_clear(int argc, char **argv);
void cmd_dump(int argc, char **argv);

#endif /* WG_RELAY_HELPER_MAPS_H */
