/* SPDX-License-Identifier: GPL-2.0 */
/* maps.h -- the object's maps as the helper writes and reads them. maps.c
 * owns their fds (and the per-endpoint counter slots, which only it hands
 * out); the other stages use the fds in `maps` and never change them.
 */
#ifndef WG_RELAY_HELPER_MAPS_H
#define WG_RELAY_HELPER_MAPS_H

#include <bpf/libbpf.h>

/* Set once by maps_open(); valid as long as the object, which main.c keeps
 * open until the process ends. */
struct helper_maps {
	int config_fd, nics_fd, peers_fd, sessions_fd, blocklist_fd, stats_fd, peer_stats_fd,
		tx_ports_fd;
	int ncpus; /* values in one lookup of a per-CPU map */
};

extern struct helper_maps maps;

/* Takes the loaded object's maps; fatal() for an object that lacks one. */
void maps_open(struct bpf_object *obj);

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

#endif /* WG_RELAY_HELPER_MAPS_H */
