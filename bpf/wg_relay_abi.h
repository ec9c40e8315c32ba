/* wg_relay_abi.h -- the one definition of every structure shared by the XDP
 * program (wg_relay.bpf.c), the helper (helper/; its layout dump in abi.c),
 * the fixture tests and, through the helper's `abi` dump, the Java loader.
 *
 * Rules that keep this an ABI and not a coincidence:
 *  - every multi-byte address and port is in network byte order, exactly as
 *    it sits in the packet, so the program compares and copies without
 *    swapping;
 *  - every pad field is explicit and must be written as 0 (hash keys are
 *    compared bytewise, so a non-zero pad is a different key);
 *  - the helper static_asserts every offset and size below; change a layout
 *    here and the helper's build breaks until its table agrees, and the Java
 *    side sees the new layout in the `abi` dump.
 *
 * Included by clang -target bpf and by gcc; needs only <linux/types.h>.
 */
#ifndef WG_RELAY_ABI_H
#define WG_RELAY_ABI_H

#include <linux/types.h>

/* Map names, as the helper finds them in the object. */
#define WG_MAP_CONFIG "wg_config"
#define WG_MAP_NICS "wg_nics"
#define WG_MAP_PEERS "wg_peers"
#define WG_MAP_MACS "wg_macs"
#define WG_MAP_BLOCKLIST "wg_blocklist"
#define WG_MAP_STATS "wg_stats"
#define WG_MAP_PEER_STATS "wg_peer_stats"
#define WG_MAP_TX_PORTS "wg_tx_ports"
#define WG_MAP_SESSIONS "wg_sessions"
#define WG_MAP_META "wg_meta"

/* Program names in the object: the relay, and a no-op XDP_PASS for the
 * far end of a veth (a veth delivers XDP_TX'd frames to its peer only
 * while the peer runs an XDP program). */
#define WG_PROG_RELAY "wg_relay_xdp"
#define WG_PROG_PASS "wg_relay_pass"

#define WG_MAX_NICS 64
#define WG_MAX_PEERS 65536
#define WG_MAX_MACS 65536
#define WG_MAX_BLOCKED 65536
#define WG_MAX_SESSIONS 65536

/* wg_config: ARRAY[1], key __u32 0. relay_port 0 = nothing is ours (the
 * program passes everything until the helper's `config`). nic_epoch changes
 * (the helper bumps it) whenever wg_nics changes: it invalidates every route
 * the program cached in a wg_peers value (struct wg_peer_route). */
struct wg_config {
	__u16 relay_port; /* network order */
	__u16 nic_epoch;
};

/* wg_nics: HASH, key __u32 ifindex. What the relay is on each NIC it may
 * send out of: the rewritten frame's IPv4 and Ethernet source. */
struct wg_nic {
	__u32 ip; /* network order */
	__u8 mac[6];
	__u16 pad;
};

/* wg_peers key: a registered peer's source endpoint. */
struct wg_peer_key {
	__u32 ip;   /* network order */
	__u16 port; /* network order */
	__u16 pad;  /* 0 */
};

/* WG_PEER_F_PASS: hand this source's transport data to userspace. Set by
 * userspace while the source's link partner has an answered roaming
 * candidate, so that userspace sees the packet that may commit it.
 * WG_PEER_F_BLOCK_CHECK: this source's IP is in wg_blocklist; look it up.
 * The program consults wg_blocklist for a registered source only when this
 * is set (a hash lookup per forwarded frame saved), and always for
 * unregistered sources and unshaped frames. Userspace sets it on every entry
 * whose IP it blocks, before it writes the wg_blocklist entry. */
#define WG_PEER_F_PASS 0x0001u
#define WG_PEER_F_BLOCK_CHECK 0x0002u
/* WG_PEER_F_HUB: this source is a hub (a peer in two or more links). It has no
 * single partner (partner_ip/port are 0): its transport data and cookie
 * replies go where wg_sessions says, keyed by the receiver index they carry.
 * WG_PEER_F_PARTNER_HUB: this source's partner is a hub. A hub's next hop
 * cannot be pushed into the route cache of each of its spokes (learning
 * clears one partner's route, and a hub has many), so the route to a hub is
 * not cached: it is read from wg_macs and wg_nics with every frame, and a
 * hub's new next hop is followed at once. */
#define WG_PEER_F_HUB 0x0004u
#define WG_PEER_F_PARTNER_HUB 0x0008u
#define WG_PEER_F_KNOWN \
	(WG_PEER_F_PASS | WG_PEER_F_BLOCK_CHECK | WG_PEER_F_HUB | WG_PEER_F_PARTNER_HUB)

/* The program's own state inside a wg_peers value: the helper writes it as
 * zeros with every `peer` command and the program fills it in place, so a
 * forwarded frame costs one hash lookup (wg_peers) instead of four.
 *  - seen_*: this source's next hop as last learned. A frame from another
 *    MAC or NIC, and every handshake, is learned (wg_macs) and clears the
 *    partner entry's route (a hub has no one partner: the routes to it are
 *    not cached, see WG_PEER_F_PARTNER_HUB).
 *  - route (owner .. tx_ifindex): where frames from this source go, filled
 *    from wg_macs (the partner's next hop) and wg_nics (the egress NIC's
 *    address). Used only while tx_ifindex is not 0, nic_epoch is
 *    wg_config's and owner is the entry's own key: a preallocated hash map
 *    hands a replaced element to the next update at once, so a program
 *    still holding the old element may write a route into what is by then
 *    another endpoint's entry -- which that endpoint must not trust.
 * Writes are plain stores from any CPU: while a next hop changes, a frame
 * may leave with the old MAC, or with fields of the old and the new route
 * (as with a stale ARP entry, it is lost); WireGuard retransmits, and the
 * next handshake refreshes both ends. Endpoints sharing an IP share its
 * wg_macs entry, but each clears only its own partner's route: the other's
 * partner follows on the other's next frame. MACs sit at
 * 4-byte aligned offsets of the value, copied as one 4- and one 2-byte word. */
struct wg_peer_route {
	__u8 seen_mac[6];
	__u16 nic_epoch;	  /* wg_config.nic_epoch when the route was filled */
	__u32 seen_ifindex;	  /* 0 = nothing learned since the entry was written */
	struct wg_peer_key owner; /* the key the route was filled for */
	__u8 hop_mac[6];	  /* the partner's next hop: the frame's new destination */
	__u16 pad1;
	__u8 nic_mac[6]; /* the egress NIC's MAC: the frame's new source */
	__u16 pad2;
	__u32 nic_ip;	  /* the relay's IPv4 on the egress NIC (network order) */
	__u32 tx_ifindex; /* the egress NIC; 0 = route not filled */
};

/* wg_peers value: where transport data from the key goes (for a hub: see
 * wg_sessions; its partner fields are 0 and its route cache unused). */
struct wg_peer_value {
	__u32 partner_ip;	    /* network order; 0 for a hub */
	__u16 partner_port;	    /* network order; 0 for a hub */
	__u16 flags;		    /* WG_PEER_F_* (host order) */
	__u32 egress_ifindex;	    /* 0 = the NIC the partner's MAC was learned on */
	__u32 generation;	    /* userspace's snapshot number; the program ignores it */
	__u32 stats_slot;	    /* this source's index in wg_peer_stats (the helper's) */
	struct wg_peer_route route; /* the program's; written as zeros */
};

/* wg_sessions: HASH (max WG_MAX_SESSIONS), userspace's session index of
 * every hub, mirrored. Key: the hub's source endpoint and a receiver index;
 * value: the spoke that owns the index (that sent it as its sender index in
 * a handshake), where a hub's type 3 or 4 carrying it goes. receiver_index is
 * bytes 4..8 of the message exactly as they sit in the packet: the
 * little-endian u32 of the WireGuard wire format, stored unswapped (the
 * helper writes htole32 of the protocol's decimal number). */
struct wg_session_key {
	__u32 hub_ip;	      /* network order */
	__u16 hub_port;	      /* network order */
	__u16 pad;	      /* 0 */
	__u32 receiver_index; /* packet bytes 4..8, as they are (little-endian) */
};

struct wg_session_value {
	__u32 owner_ip;	      /* network order */
	__u16 owner_port;     /* network order */
	__u16 pad;	      /* 0 */
	__u32 egress_ifindex; /* 0 = the NIC the owner's MAC was learned on */
};

/* wg_macs: LRU_HASH, key __u32 ip (network order). Learned by the program:
 * next-hop MAC and ingress NIC of frames from a registered endpoint's IP. */
struct wg_mac {
	__u8 mac[6];
	__u16 pad;
	__u32 ifindex;
};

/* wg_blocklist: HASH, key __u32 ip (network order), value __u64 expiry in
 * CLOCK_MONOTONIC ns (bpf_ktime_get_ns); 0 = forever. */
typedef __u64 wg_block_expiry_t;

/* wg_stats: PERCPU_ARRAY of __u64, indexed by enum wg_stat. Each UDP
 * datagram to the relay port counts exactly one of the first eight; their
 * sum is the helper's `rx` (the program does not count it separately). */
enum wg_stat {
	WG_STAT_FWD = 0,	     /* forwarded by XDP_TX / XDP_REDIRECT */
	WG_STAT_PASS_NO_PEER = 1,    /* type 3/4 from an unregistered or PASS-flagged source */
	WG_STAT_PASS_NO_MAC = 2,     /* partner MAC not learned, or egress NIC not in wg_nics */
	WG_STAT_DROP_SHAPE = 3,	     /* not WireGuard-shaped, or lengths inconsistent */
	WG_STAT_DROP_BLOCK = 4,	     /* source IP blocklisted and not expired */
	WG_STAT_PASS_HANDSHAKE = 5,  /* type 1/2: userspace checks MAC1 and roaming */
	WG_STAT_TX_ERR = 6,	     /* egress NIC not in wg_tx_ports: passed unmodified */
	WG_STAT_PASS_NO_SESSION = 7, /* type 3/4 from a hub: receiver index not in wg_sessions */
	WG_STAT_PASS_OTHER = 8,	     /* not Ethernet/IPv4 w/o options, fragment, cut headers */
	WG_STAT__MAX = 9,
};
#define WG_STAT__RX_PARTS 8 /* the counters that add up to rx: 0..7 */

/* wg_peer_stats: PERCPU_ARRAY[WG_MAX_PEERS] indexed by a wg_peers value's
 * stats_slot. Only frames the program forwarded; bytes are UDP payload
 * bytes. The helper hands out slots and zeros a slot before reusing it. */
struct wg_peer_stat {
	__u64 packets;
	__u64 bytes;
};

/* wg_tx_ports: DEVMAP_HASH (max WG_MAX_NICS), key __u32 ifindex, value
 * __u32 ifindex; the attached NICs an XDP_REDIRECT may go out of. */

/* wg_meta: ARRAY[1], key __u32 0. What a helper that finds this program
 * already attached (kept by an earlier helper, see ../PROTOCOL.md "Pins")
 * needs to decide between adopting it and replacing it. The program never
 * reads it; the helper that loaded the program writes it once, before the
 * first attach. Its layout must never change: a helper of any later build
 * reads it (a new field would go into a new map).
 *  - prog_hash: FNV-1a 64 of the wg_relay.bpf.o file the program was
 *    loaded from: equal means the same program.
 *  - abi_hash: FNV-1a 64 of the `abi` table and of every map's definition
 *    (name, type, key and value size, entries, flags) but wg_meta's: equal
 *    means the maps can be handed to the other program as they are. */
#define WG_META_MAGIC 0x31796c6572677777ull /* "wwgrely1" little-endian */
struct wg_meta {
	__u64 magic; /* WG_META_MAGIC: the value was written */
	__u64 prog_hash;
	__u64 abi_hash;
};

/* WireGuard message types and the sizes that make a datagram "shaped"
 * (the first 4 payload bytes, little-endian, are the type: the 3 reserved
 * bytes must be zero). */
#define WG_MSG_INITIATION 1u
#define WG_MSG_RESPONSE 2u
#define WG_MSG_COOKIE_REPLY 3u
#define WG_MSG_TRANSPORT 4u
#define WG_LEN_INITIATION 148u
#define WG_LEN_RESPONSE 92u
#define WG_LEN_COOKIE_REPLY 64u
#define WG_LEN_TRANSPORT_MIN 32u

#endif /* WG_RELAY_ABI_H */
