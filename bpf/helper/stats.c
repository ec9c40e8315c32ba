// SPDX-License-Identifier: GPL-2.0
/* stats.c -- the reporting stage: `stats` sums the program's per-CPU
 * counters into the protocol's fixed `stats` line and one `peerstat` line
 * per endpoint. It is apart from maps.c because it only reads: it follows
 * the counter slots maps.c hands out, and what it prints (rx as a sum, the
 * fixed field order) is defined by the protocol, not by the maps.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../wg_relay_abi.h"
#include "maps.h"
#include "protocol.h"
#include "stats.h"

_Static_assert(WG_STAT__MAX == 9, "stats line lists every counter");
/* The protocol's rx is every counter but pass_other: the program counts each
 * datagram to the relay port once, in one of the first WG_STAT__RX_PARTS. */
_Static_assert(WG_STAT__RX_PARTS == WG_STAT_PASS_OTHER && WG_STAT_PASS_OTHER == WG_STAT__MAX - 1,
	       "rx = the sum of every counter but pass_other");

/* Names of the counters on the `stats` line, indexed by enum wg_stat. */
static const char *const stat_names[WG_STAT__MAX] = {
	[WG_STAT_FWD] = "fwd",
	[WG_STAT_PASS_NO_PEER] = "pass_no_peer",
	[WG_STAT_PASS_NO_MAC] = "pass_no_mac",
	[WG_STAT_DROP_SHAPE] = "drop_shape",
	[WG_STAT_DROP_BLOCK] = "drop_block",
	[WG_STAT_PASS_HANDSHAKE] = "pass_handshake",
	[WG_STAT_TX_ERR] = "tx_err",
	[WG_STAT_PASS_NO_SESSION] = "pass_no_session",
	[WG_STAT_PASS_OTHER] = "pass_other",
};

/* Their order on the line after rx: the protocol's, which the Java side
 * parses and which predates the enum's numbering; new counters go last. */
static const enum wg_stat stats_order[WG_STAT__MAX] = {
	WG_STAT_FWD,	    WG_STAT_PASS_NO_PEER, WG_STAT_PASS_NO_MAC,
	WG_STAT_DROP_SHAPE, WG_STAT_DROP_BLOCK,	  WG_STAT_PASS_HANDSHAKE,
	WG_STAT_PASS_OTHER, WG_STAT_TX_ERR,	  WG_STAT_PASS_NO_SESSION,
};

void cmd_stats(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err stats reason=usage: stats");
		return;
	}
	__u64 totals[WG_STAT__MAX] = {}, rx = 0;
	/* big enough for one per-CPU value of either map */
	__u64 *cpu = calloc((size_t)maps.ncpus, sizeof(struct wg_peer_stat));

	if (!cpu) {
		say("err stats reason=%s", strerror(ENOMEM));
		return;
	}
	for (__u32 i = 0; i < WG_STAT__MAX; i++) {
		if (bpf_map_lookup_elem(maps.stats_fd, &i, cpu))
			continue;
		for (int c = 0; c < maps.ncpus; c++)
			totals[i] += cpu[c];
	}
	/* the program does not count rx: each datagram counts one of its parts */
	for (int i = 0; i < WG_STAT__RX_PARTS; i++)
		rx += totals[i];
	char line[512];
	size_t off = (size_t)snprintf(line, sizeof(line), "stats rx=%llu", (unsigned long long)rx);

	for (int i = 0; i < WG_STAT__MAX; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%llu",
					stat_names[stats_order[i]],
					(unsigned long long)totals[stats_order[i]]);
	say("%s", line);

	/* Per endpoint: the slot of each wg_peers entry. A slot counts from the
	 * `peer` that handed it out, so a slot with no packets is an endpoint
	 * nothing was forwarded from yet: not reported. */
	struct wg_peer_key key, next;
	struct wg_peer_value val;
	struct wg_peer_stat *pcpu = (struct wg_peer_stat *)cpu;
	int more = !bpf_map_get_next_key(maps.peers_fd, NULL, &next);

	while (more) {
		key = next;
		more = !bpf_map_get_next_key(maps.peers_fd, &key, &next);
		if (bpf_map_lookup_elem(maps.peers_fd, &key, &val) ||
		    bpf_map_lookup_elem(maps.peer_stats_fd, &val.stats_slot, pcpu))
			continue;
		struct wg_peer_stat sum = {};

		for (int c = 0; c < maps.ncpus; c++) {
			sum.packets += pcpu[c].packets;
			sum.bytes += pcpu[c].bytes;
		}
		if (!sum.packets)
			continue;
		char ip[INET_ADDRSTRLEN];

		/* rx_* = fwd_*: only forwarded frames are counted per endpoint */
		say("peerstat %s %u %llu %llu %llu %llu", ip_str(key.ip, ip), ntohs(key.port),
		    (unsigned long long)sum.packets, (unsigned long long)sum.bytes,
		    (unsigned long long)sum.packets, (unsigned long long)sum.bytes);
	}
	free(cpu);
	say("end");
}
