// SPDX-License-Identifier: GPL-2.0
/* maps.c -- the map-writing stage: turns parsed `config`, `nic`, `unnic`,
 * `peer`, `unpeer`, `session`, `unsession`, `block`, `unblock` and `clear` commands into map
 * updates. Single-threaded, it is the only writer of every map the program
 * does not write itself (but wg_tx_ports, which follows the attachments in
 * attach.c), and the only one that adds or removes wg_peers entries (the
 * program writes only the route inside their values), which is why the
 * counter-slot allocator and the NIC epoch live here and nowhere else.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../wg_relay_abi.h"
#include "main.h"
#include "maps.h"
#include "protocol.h"

struct helper_maps maps;

static struct wg_peer_stat *zero_stat; /* ncpus zeros: one wg_peer_stats slot */

/* wg_peer_stats slots. Each wg_peers entry counts into its own slot of the
 * per-CPU array; the helper hands them out (the program only follows
 * stats_slot), so this allocator is the only record of which are free. A
 * stack: the slot freed last is the one reused first. */
static struct {
	__u32 free[WG_MAX_PEERS]; /* free slots, the next one on top */
	__u32 nfree;
	__u8 used[WG_MAX_PEERS]; /* guards against freeing a slot twice */
} slots;

/* ---- map utilities ----------------------------------------------------- */

/* Empties a hash map. Bounded: the program may insert concurrently. */
static int map_clear(int fd, size_t key_size, __u32 max_entries)
{
	char key[16];

	if (key_size > sizeof(key))
		return -EINVAL;
	for (__u64 i = 0; i < 2ull * max_entries + 16; i++) {
		if (bpf_map_get_next_key(fd, NULL, key))
			return errno == ENOENT ? 0 : -errno;
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
			return -errno;
	}
	return -EAGAIN;
}

static int map_delete(int fd, const void *key)
{
	if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
		return -errno;
	return 0;
}

const char *map_error(const char *map, int err)
{
	static char buf[160];

	if (err == E2BIG || err == ENOSPC)
		snprintf(buf, sizeof(buf), "%s full", map);
	else
		snprintf(buf, sizeof(buf), "%s: %s", map, strerror(err));
	return buf;
}

/* ---- stats slots and the NIC epoch -------------------------------------- */

static int slot_take(__u32 *slot)
{
	if (!slots.nfree)
		return -1;
	*slot = slots.free[--slots.nfree];
	slots.used[*slot] = 1;
	return 0;
}

static void slot_put(__u32 slot)
{
	if (slot >= WG_MAX_PEERS || !slots.used[slot])
		return;
	slots.used[slot] = 0;
	slots.free[slots.nfree++] = slot;
}

/* Every slot free but those of the entries in wg_peers: all of them at
 * start, and after `clear` whatever a failed clear left behind keeps its
 * slot. Slot 0 is handed out first. */
static void slots_rebuild(void)
{
	struct wg_peer_key key, next;
	struct wg_peer_value val;
	int more = !bpf_map_get_next_key(maps.peers_fd, NULL, &next);

	memset(slots.used, 0, sizeof(slots.used));
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(maps.peers_fd, &key, &next);
		if (!bpf_map_lookup_elem(maps.peers_fd, &key, &val) &&
		    val.stats_slot < WG_MAX_PEERS)
			slots.used[val.stats_slot] = 1;
	}
	slots.nfree = 0;
	for (__u32 s = WG_MAX_PEERS; s-- > 0;)
		if (!slots.used[s])
			slots.free[slots.nfree++] = s;
}

/* wg_nics changed: a new wg_config.nic_epoch makes the program refill every
 * route it cached in a wg_peers value (the egress NIC's MAC and IP, or the
 * NIC itself, may be gone) on that source's next frame, instead of us
 * rewriting every entry. 0 is skipped: it is the epoch before any `nic`,
 * and the all-zero route `peer` writes then never matches the current
 * epoch, whatever tx_ifindex says. The wrap (65535 changes) is harmless
 * unless a route survives all of them without a single frame from its
 * source. */
static int bump_nic_epoch(void)
{
	struct wg_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(maps.config_fd, &zero, &cfg))
		return -errno;
	if (++cfg.nic_epoch == 0)
		cfg.nic_epoch = 1;
	if (bpf_map_update_elem(maps.config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

/* ---- startup ----------------------------------------------------------- */

const char *const map_names[MAP__COUNT] = {
	[MAP_CONFIG] = WG_MAP_CONFIG,	  [MAP_NICS] = WG_MAP_NICS,
	[MAP_PEERS] = WG_MAP_PEERS,	  [MAP_SESSIONS] = WG_MAP_SESSIONS,
	[MAP_MACS] = WG_MAP_MACS,	  [MAP_BLOCKLIST] = WG_MAP_BLOCKLIST,
	[MAP_STATS] = WG_MAP_STATS,	  [MAP_PEER_STATS] = WG_MAP_PEER_STATS,
	[MAP_TX_PORTS] = WG_MAP_TX_PORTS, [MAP_META] = WG_MAP_META,
};

void maps_init(void)
{
	maps.ncpus = libbpf_num_possible_cpus();
	if (maps.ncpus <= 0)
		fatal("possible cpus: %s", strerror(-maps.ncpus));
	zero_stat = calloc((size_t)maps.ncpus, sizeof(struct wg_peer_stat));
	if (!zero_stat)
		fatal("%s", strerror(ENOMEM));
}

void maps_use(const int fds[MAP__COUNT])
{
	maps.config_fd = fds[MAP_CONFIG];
	maps.nics_fd = fds[MAP_NICS];
	maps.peers_fd = fds[MAP_PEERS];
	maps.sessions_fd = fds[MAP_SESSIONS];
	maps.macs_fd = fds[MAP_MACS];
	maps.blocklist_fd = fds[MAP_BLOCKLIST];
	maps.stats_fd = fds[MAP_STATS];
	maps.peer_stats_fd = fds[MAP_PEER_STATS];
	maps.tx_ports_fd = fds[MAP_TX_PORTS];
	maps.meta_fd = fds[MAP_META];
	/* empty maps: every slot free; adopted ones: those of their entries taken */
	slots_rebuild();
}

/* ---- map commands ------------------------------------------------------- */

void cmd_config(int argc, char **argv)
{
	struct wg_config cfg;
	__u16 port;
	__u32 zero = 0;

	if (argc != 2 || parse_port(argv[1], &port)) {
		say("err config reason=usage: config <relay_port 1..65535>");
		return;
	}
	/* read-modify-write: the NIC epoch is not the port's to reset */
	if (bpf_map_lookup_elem(maps.config_fd, &zero, &cfg)) {
		say("err config reason=%s", map_error(WG_MAP_CONFIG, errno));
		return;
	}
	cfg.relay_port = port;
	if (bpf_map_update_elem(maps.config_fd, &zero, &cfg, BPF_ANY)) {
		say("err config reason=%s", map_error(WG_MAP_CONFIG, errno));
		return;
	}
	say("ok config");
}

void cmd_nic(int argc, char **argv)
{
	struct wg_nic nic = {};
	__u32 ifindex;
	int err;

	if (argc != 4 || parse_u32(argv[1], UINT32_MAX, &ifindex) || ifindex == 0 ||
	    parse_ip(argv[2], &nic.ip) || parse_mac(argv[3], nic.mac)) {
		say("err nic reason=usage: nic <ifindex> <ipv4> <mac>");
		return;
	}
	if (bpf_map_update_elem(maps.nics_fd, &ifindex, &nic, BPF_ANY)) {
		say("err nic reason=%s", map_error(WG_MAP_NICS, errno));
		return;
	}
	if ((err = bump_nic_epoch())) {
		say("err nic reason=%s", map_error(WG_MAP_CONFIG, -err));
		return;
	}
	say("ok nic");
}

void cmd_unnic(int argc, char **argv)
{
	__u32 ifindex;
	int err;

	if (argc != 2 || parse_u32(argv[1], UINT32_MAX, &ifindex) || ifindex == 0) {
		say("err unnic reason=usage: unnic <ifindex>");
		return;
	}
	if ((err = map_delete(maps.nics_fd, &ifindex))) {
		say("err unnic reason=%s", map_error(WG_MAP_NICS, -err));
		return;
	}
	if ((err = bump_nic_epoch())) {
		say("err unnic reason=%s", map_error(WG_MAP_CONFIG, -err));
		return;
	}
	say("ok unnic");
}

void cmd_peer(int argc, char **argv)
{
	struct wg_peer_key key = {};
	struct wg_peer_value val = {}, old;
	__u32 flags, partner_port;

	/* partner port 0 is parsed here and allowed below only for a hub */
	if (argc != 8 || parse_ip(argv[1], &key.ip) || parse_port(argv[2], &key.port) ||
	    parse_ip(argv[3], &val.partner_ip) || parse_u32(argv[4], 65535, &partner_port) ||
	    parse_u32(argv[5], UINT32_MAX, &val.egress_ifindex) ||
	    parse_u32(argv[6], 65535, &flags) || parse_u32(argv[7], UINT32_MAX, &val.generation) ||
	    (partner_port == 0 && !(flags & WG_PEER_F_HUB))) {
		say("err peer reason=usage: peer <ip> <port> <partner_ip> <partner_port> "
		    "<egress_ifindex> <flags> <generation>");
		return;
	}
	if (flags & ~WG_PEER_F_KNOWN) {
		say("err peer reason=unknown flag bits 0x%x", flags & ~WG_PEER_F_KNOWN);
		return;
	}
	/* A hub's frames go where wg_sessions says; a partner would be a
	 * second, contradicting answer. */
	if ((flags & WG_PEER_F_HUB) && (val.partner_ip || partner_port)) {
		say("err peer reason=a hub has no partner: 0.0.0.0 0");
		return;
	}
	val.partner_port = htons((__u16)partner_port);
	val.flags = (__u16)flags;
	/* val.route stays zero: the program refills it on the next frame */

	/* An update keeps the entry's slot, so its counters go on. */
	int exists = !bpf_map_lookup_elem(maps.peers_fd, &key, &old);

	if (!exists && errno != ENOENT) {
		say("err peer reason=%s", map_error(WG_MAP_PEERS, errno));
		return;
	}
	if (exists) {
		val.stats_slot = old.stats_slot;
		if (bpf_map_update_elem(maps.peers_fd, &key, &val, BPF_ANY))
			say("err peer reason=%s", map_error(WG_MAP_PEERS, errno));
		else
			say("ok peer");
		return;
	}
	/* A new endpoint starts at 0 in a fresh slot, zeroed here because the
	 * previous owner's counts (and late frames of it) are still in it. */
	if (slot_take(&val.stats_slot)) {
		say("err peer reason=%s", map_error(WG_MAP_PEERS, E2BIG));
		return;
	}
	if (bpf_map_update_elem(maps.peer_stats_fd, &val.stats_slot, zero_stat, BPF_ANY)) {
		say("err peer reason=%s", map_error(WG_MAP_PEER_STATS, errno));
		slot_put(val.stats_slot);
		return;
	}
	if (bpf_map_update_elem(maps.peers_fd, &key, &val, BPF_ANY)) {
		say("err peer reason=%s", map_error(WG_MAP_PEERS, errno));
		slot_put(val.stats_slot);
		return;
	}
	say("ok peer");
}

void cmd_unpeer(int argc, char **argv)
{
	struct wg_peer_key key = {};
	struct wg_peer_value val;
	int err;

	if (argc != 3 || parse_ip(argv[1], &key.ip) || parse_port(argv[2], &key.port)) {
		say("err unpeer reason=usage: unpeer <ip> <port>");
		return;
	}
	if (bpf_map_lookup_elem(maps.peers_fd, &key, &val)) {
		if (errno == ENOENT)
			say("ok unpeer");
		else
			say("err unpeer reason=%s", map_error(WG_MAP_PEERS, errno));
		return;
	}
	if ((err = map_delete(maps.peers_fd, &key))) {
		say("err unpeer reason=%s", map_error(WG_MAP_PEERS, -err));
		return;
	}
	/* The endpoint's counters go with it: nothing reports the slot any
	 * more, and a frame in flight that still counts into it is wiped when
	 * the slot is handed out again (see PROTOCOL.md). */
	slot_put(val.stats_slot);
	say("ok unpeer");
}

/* The receiver index is the decimal of the little-endian u32 at bytes 4..8
 * of the message (Java: ByteBuf.getIntLE(4), unsigned); the key holds those
 * 4 bytes as the packet has them, so the program compares without swapping. */
static int parse_session_key(char **argv, struct wg_session_key *key)
{
	__u32 index;

	if (parse_ip(argv[1], &key->hub_ip) || parse_port(argv[2], &key->hub_port) ||
	    parse_u32(argv[3], UINT32_MAX, &index))
		return -1;
	key->receiver_index = htole32(index);
	return 0;
}

void cmd_session(int argc, char **argv)
{
	struct wg_session_key key = {};
	struct wg_session_value val = {};

	if (argc != 7 || parse_session_key(argv, &key) || parse_ip(argv[4], &val.owner_ip) ||
	    parse_port(argv[5], &val.owner_port) ||
	    parse_u32(argv[6], UINT32_MAX, &val.egress_ifindex)) {
		say("err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
		    "<owner_ip> <owner_port> <egress_ifindex>");
		return;
	}
	if (bpf_map_update_elem(maps.sessions_fd, &key, &val, BPF_ANY)) {
		say("err session reason=%s", map_error(WG_MAP_SESSIONS, errno));
		return;
	}
	say("ok session");
}

void cmd_unsession(int argc, char **argv)
{
	struct wg_session_key key = {};
	int err;

	if (argc != 4 || parse_session_key(argv, &key)) {
		say("err unsession reason=usage: unsession <hub_ip> <hub_port> <receiver_index>");
		return;
	}
	if ((err = map_delete(maps.sessions_fd, &key))) {
		say("err unsession reason=%s", map_error(WG_MAP_SESSIONS, -err));
		return;
	}
	say("ok unsession");
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns */
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

void cmd_block(int argc, char **argv)
{
	__u32 ip, seconds;

	if (argc != 3 || parse_ip(argv[1], &ip) || parse_u32(argv[2], UINT32_MAX, &seconds)) {
		say("err block reason=usage: block <ip> <seconds, 0 = forever>");
		return;
	}
	wg_block_expiry_t expires = seconds ? monotonic_ns() + seconds * 1000000000ull : 0;

	if (bpf_map_update_elem(maps.blocklist_fd, &ip, &expires, BPF_ANY)) {
		say("err block reason=%s", map_error(WG_MAP_BLOCKLIST, errno));
		return;
	}
	say("ok block");
}

void cmd_unblock(int argc, char **argv)
{
	__u32 ip;
	int err;

	if (argc != 2 || parse_ip(argv[1], &ip)) {
		say("err unblock reason=usage: unblock <ip>");
		return;
	}
	if ((err = map_delete(maps.blocklist_fd, &ip))) {
		say("err unblock reason=%s", map_error(WG_MAP_BLOCKLIST, -err));
		return;
	}
	say("ok unblock");
}

void cmd_clear(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err clear reason=usage: clear");
		return;
	}
	int err, epoch_err;

	err = map_clear(maps.peers_fd, sizeof(struct wg_peer_key), WG_MAX_PEERS);
	if (!err)
		err = map_clear(maps.sessions_fd, sizeof(struct wg_session_key), WG_MAX_SESSIONS);
	if (!err)
		err = map_clear(maps.nics_fd, sizeof(__u32), WG_MAX_NICS);
	if (!err)
		err = map_clear(maps.blocklist_fd, sizeof(__u32), WG_MAX_BLOCKED);
	/* wg_peer_stats is an array and cannot be emptied: its slots become
	 * free (and are zeroed when handed out again). Even after a failure:
	 * an entry left in wg_peers keeps its slot, and wg_nics may have
	 * changed in part. */
	slots_rebuild();
	epoch_err = bump_nic_epoch();
	if (err || (err = epoch_err)) {
		say("err clear reason=%s", strerror(-err));
		return;
	}
	say("ok clear");
}
