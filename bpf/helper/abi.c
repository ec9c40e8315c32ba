// SPDX-License-Identifier: GPL-2.0
/* abi.c -- the ABI as the Java side sees it: one table of every field of
 * every struct shared through ../wg_relay_abi.h. The same table feeds the
 * static_asserts that pin the header's layout to these numbers and the `abi`
 * command that prints them, so the Java layout is checked against what this
 * very binary was compiled with. It stands apart from stats.c and maps.c
 * because it touches no map and no NIC: it reports the build, not the
 * running program.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>

#include "../wg_relay_abi.h"
#include "abi.h"
#include "protocol.h"

/* (struct, field, offset, size) */
#define WG_ABI_FIELDS(F)                          \
	F(wg_config, relay_port, 0, 2)            \
	F(wg_config, nic_epoch, 2, 2)             \
	F(wg_nic, ip, 0, 4)                       \
	F(wg_nic, mac, 4, 6)                      \
	F(wg_nic, pad, 10, 2)                     \
	F(wg_peer_key, ip, 0, 4)                  \
	F(wg_peer_key, port, 4, 2)                \
	F(wg_peer_key, pad, 6, 2)                 \
	F(wg_peer_value, partner_ip, 0, 4)        \
	F(wg_peer_value, partner_port, 4, 2)      \
	F(wg_peer_value, flags, 6, 2)             \
	F(wg_peer_value, egress_ifindex, 8, 4)    \
	F(wg_peer_value, generation, 12, 4)       \
	F(wg_peer_value, stats_slot, 16, 4)       \
	F(wg_peer_value, route, 20, 44)           \
	F(wg_peer_route, seen_mac, 0, 6)          \
	F(wg_peer_route, nic_epoch, 6, 2)         \
	F(wg_peer_route, seen_ifindex, 8, 4)      \
	F(wg_peer_route, owner, 12, 8)            \
	F(wg_peer_route, hop_mac, 20, 6)          \
	F(wg_peer_route, pad1, 26, 2)             \
	F(wg_peer_route, nic_mac, 28, 6)          \
	F(wg_peer_route, pad2, 34, 2)             \
	F(wg_peer_route, nic_ip, 36, 4)           \
	F(wg_peer_route, tx_ifindex, 40, 4)       \
	F(wg_mac, mac, 0, 6)                      \
	F(wg_mac, pad, 6, 2)                      \
	F(wg_mac, ifindex, 8, 4)                  \
	F(wg_peer_stat, packets, 0, 8)            \
	F(wg_peer_stat, bytes, 8, 8)              \
	F(wg_session_key, hub_ip, 0, 4)           \
	F(wg_session_key, hub_port, 4, 2)         \
	F(wg_session_key, pad, 6, 2)              \
	F(wg_session_key, receiver_index, 8, 4)   \
	F(wg_session_value, owner_ip, 0, 4)       \
	F(wg_session_value, owner_port, 4, 2)     \
	F(wg_session_value, pad, 6, 2)            \
	F(wg_session_value, egress_ifindex, 8, 4) \
	F(wg_meta, magic, 0, 8)                   \
	F(wg_meta, prog_hash, 8, 8)               \
	F(wg_meta, abi_hash, 16, 8)

#define WG_ABI_STRUCTS(S)       \
	S(wg_config, 4)         \
	S(wg_nic, 12)           \
	S(wg_peer_key, 8)       \
	S(wg_peer_value, 64)    \
	S(wg_peer_route, 44)    \
	S(wg_mac, 12)           \
	S(wg_peer_stat, 16)     \
	S(wg_session_key, 12)   \
	S(wg_session_value, 12) \
	S(wg_meta, 24)

#define FIELD_SIZE(s, f) sizeof(((struct s *)0)->f)
#define ASSERT_FIELD(s, f, off, size)                                        \
	_Static_assert(offsetof(struct s, f) == (off), #s "." #f " offset"); \
	_Static_assert(FIELD_SIZE(s, f) == (size), #s "." #f " size");
#define ASSERT_STRUCT(s, size) _Static_assert(sizeof(struct s) == (size), #s " sizeof");
WG_ABI_FIELDS(ASSERT_FIELD)
WG_ABI_STRUCTS(ASSERT_STRUCT)
_Static_assert(sizeof(wg_block_expiry_t) == 8, "wg_blocklist value");

__u64 fnv1a64(__u64 h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The table as the `abi` command prints it, each line hashed with its newline. */
__u64 abi_hash_table(__u64 h)
{
	char line[96];
	int n;

#define HASH_FIELD(s, f, off, size)                                                     \
	n = snprintf(line, sizeof(line), #s "." #f " %zu %zu\n", offsetof(struct s, f), \
		     FIELD_SIZE(s, f));                                                 \
	h = fnv1a64(h, line, (size_t)n);
#define HASH_STRUCT(s, size)                                                    \
	n = snprintf(line, sizeof(line), #s " sizeof %zu\n", sizeof(struct s)); \
	h = fnv1a64(h, line, (size_t)n);
	WG_ABI_FIELDS(HASH_FIELD)
	WG_ABI_STRUCTS(HASH_STRUCT)
	return h;
}

void cmd_abi(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err abi reason=usage: abi");
		return;
	}
	say("abi");
#define SAY_FIELD(s, f, off, size) \
	say(#s "." #f " %zu %zu", offsetof(struct s, f), FIELD_SIZE(s, f));
#define SAY_STRUCT(s, size) say(#s " sizeof %zu", sizeof(struct s));
	WG_ABI_FIELDS(SAY_FIELD)
	WG_ABI_STRUCTS(SAY_STRUCT)
	say("end");
}
