// SPDX-License-Identifier: GPL-2.0
/* dump.c -- the read-back stage: `dump` prints what the maps userspace owns
 * hold (wg_config, wg_nics, wg_peers, wg_sessions, wg_blocklist), in the
 * words of the commands that write them. It exists for the helper that
 * adopted a kept program: its maps are not empty and not what the Java side
 * last pushed, so the Java side diffs its model against this instead of
 * clearing the maps, and kernel forwarding never stops for a resync. Read
 * only, like stats.c; apart from it because it reports entries, not counts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <endian.h>
#include <net/if.h>
#include <stdio.h>
#include <time.h>

#include "../wg_relay_abi.h"
#include "maps.h"
#include "protocol.h"

static void dump_nics(void)
{
	__u32 key, next;
	struct wg_nic nic;
	int more = !bpf_map_get_next_key(maps.nics_fd, NULL, &next);

	while (more) {
		key = next;
		more = !bpf_map_get_next_key(maps.nics_fd, &key, &next);
		if (bpf_map_lookup_elem(maps.nics_fd, &key, &nic))
			continue;
		char ip[INET_ADDRSTRLEN], name[IF_NAMESIZE];
		const unsigned char *m = nic.mac;

		say("nic %u %s %s %02x:%02x:%02x:%02x:%02x:%02x", key,
		    if_indextoname(key, name) ? name : "-", ip_str(nic.ip, ip), m[0], m[1], m[2],
		    m[3], m[4], m[5]);
	}
}

static void dump_peers(void)
{
	struct wg_peer_key key, next;
	struct wg_peer_value val;
	int more = !bpf_map_get_next_key(maps.peers_fd, NULL, &next);

	while (more) {
		key = next;
		more = !bpf_map_get_next_key(maps.peers_fd, &key, &next);
		if (bpf_map_lookup_elem(maps.peers_fd, &key, &val))
			continue;
		char ip[INET_ADDRSTRLEN], partner[INET_ADDRSTRLEN];

		say("peer %s %u %s %u %u %u %u", ip_str(key.ip, ip), ntohs(key.port),
		    ip_str(val.partner_ip, partner), ntohs(val.partner_port), val.egress_ifindex,
		    val.flags, val.generation);
	}
}

static void dump_sessions(void)
{
	struct wg_session_key key, next;
	struct wg_session_value val;
	int more = !bpf_map_get_next_key(maps.sessions_fd, NULL, &next);

	while (more) {
		key = next;
		more = !bpf_map_get_next_key(maps.sessions_fd, &key, &next);
		if (bpf_map_lookup_elem(maps.sessions_fd, &key, &val))
			continue;
		char hub[INET_ADDRSTRLEN], owner[INET_ADDRSTRLEN];

		say("session %s %u %u %s %u %u", ip_str(key.hub_ip, hub), ntohs(key.hub_port),
		    le32toh(key.receiver_index), ip_str(val.owner_ip, owner), ntohs(val.owner_port),
		    val.egress_ifindex);
	}
}

/* Seconds left, rounded up, as `block` takes them; 0 = forever. */
static void dump_blocklist(void)
{
	__u32 key, next;
	wg_block_expiry_t expires;
	struct timespec ts;
	int more = !bpf_map_get_next_key(maps.blocklist_fd, NULL, &next);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	__u64 now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;

	while (more) {
		key = next;
		more = !bpf_map_get_next_key(maps.blocklist_fd, &key, &next);
		if (bpf_map_lookup_elem(maps.blocklist_fd, &key, &expires))
			continue;
		char ip[INET_ADDRSTRLEN];

		if (!expires)
			say("block %s 0", ip_str(key, ip));
		else if (expires > now)
			say("block %s %llu", ip_str(key, ip),
			    (unsigned long long)((expires - now + 999999999ull) / 1000000000ull));
		else
			say("block %s expired", ip_str(key, ip));
	}
}

void cmd_dump(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err dump reason=usage: dump");
		return;
	}
	struct wg_config cfg = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(maps.config_fd, &zero, &cfg);
	say("dump");
	say("config %u %u", ntohs(cfg.relay_port), cfg.nic_epoch);
	dump_nics();
	dump_sessions();
	dump_peers();
	dump_blocklist();
	say("end");
}
