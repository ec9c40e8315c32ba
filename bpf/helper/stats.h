/* SPDX-License-Identifier: GPL-2.0 */
/* stats.h -- the counters as the protocol reports them: the `stats` command
 * reads wg_stats and wg_peer_stats (through the fds maps.c owns) and never
 * writes either.
 */
#ifndef WG_RELAY_HELPER_STATS_H
#define WG_RELAY_HELPER_STATS_H

void cmd_stats(int argc, char **argv);

#endif /* WG_RELAY_HELPER_STATS_H */
