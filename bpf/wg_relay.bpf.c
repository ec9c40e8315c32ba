// SPDX-License-Identifier: GPL-2.0
/* wg_relay.bpf.c -- the XDP fast path of wg-relay.
 *
 * Forwards WireGuard transport data (type 4) and cookie replies (type 3)
 * between registered, linked endpoints -- from a hub (a peer in several
 * links) to the spoke that owns the message's receiver index -- and hands
 * everything else that userspace's forwarding rules need to the kernel stack
 * (XDP_PASS), untouched. Userspace (through the helper) owns wg_config,
 * wg_nics, wg_peers, wg_sessions and wg_blocklist; the program writes wg_macs (learning),
 * wg_stats, wg_peer_stats and the route cache inside wg_peers values
 * (struct wg_peer_route).
 *
 * Verdicts, in order, for each frame:
 *   not Ethernet/IPv4, IPv4 options, fragment, cut-off headers  PASS  PASS_OTHER
 *   not UDP, or UDP to another port                             PASS  (not counted)
 *   -- from here on the frame counts exactly one of the following --
 *   source IP blocklisted and not expired                       DROP  DROP_BLOCK
 *   not WireGuard-shaped, lengths inconsistent                  DROP  DROP_SHAPE
 *   type 1 or 2                                                 PASS  PASS_HANDSHAKE
 *   unregistered source endpoint, or WG_PEER_F_PASS             PASS  PASS_NO_PEER
 *   a hub's, and (hub, receiver index) not in wg_sessions       PASS  PASS_NO_SESSION
 *   partner MAC not learned, egress NIC not in wg_nics          PASS  PASS_NO_MAC
 *   egress NIC != ingress and not in wg_tx_ports                PASS  TX_ERR
 *   otherwise: rewritten to the partner                         TX / REDIRECT  FWD
 * Every PASS leaves the frame byte for byte as it arrived, so the
 * userspace path sees exactly what it would have seen without XDP.
 *
 * Cost: a forwarded frame takes one hash lookup (wg_peers) and two per-CPU
 * array counts. The blocklist is consulted for a registered source only
 * when userspace flagged its entry (WG_PEER_F_BLOCK_CHECK); learning and
 * the route to the partner live in the entry's value, so wg_macs, wg_nics
 * and the partner's entry are touched only when a next hop changes.
 * Hub links cost more, and only their own frames: a hub's frame adds the
 * wg_sessions lookup, and the route to its spoke -- and a spoke's to its hub
 * -- is looked up in wg_macs and wg_nics every time instead of cached (see
 * WG_PEER_F_PARTNER_HUB): four lookups and three.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "wg_relay_abi.h"

#define IP_FLAG_MF 0x2000
#define IP_FRAG_OFFSET 0x1fff
#define RELAY_TTL 64

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wg_config);
} wg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WG_MAX_NICS);
	__type(key, __u32);
	__type(value, struct wg_nic);
} wg_nics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WG_MAX_PEERS);
	__type(key, struct wg_peer_key);
	__type(value, struct wg_peer_value);
} wg_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WG_MAX_SESSIONS);
	__type(key, struct wg_session_key);
	__type(value, struct wg_session_value);
} wg_sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WG_MAX_MACS);
	__type(key, __u32);
	__type(value, struct wg_mac);
} wg_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WG_MAX_BLOCKED);
	__type(key, __u32);
	__type(value, wg_block_expiry_t);
} wg_blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WG_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} wg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WG_MAX_PEERS);
	__type(key, __u32);
	__type(value, struct wg_peer_stat);
} wg_peer_stats SEC(".maps");

/* DEVMAP_HASH rather than DEVMAP: keyed by ifindex directly, and ifindexes
 * (in containers especially) are not below max_entries. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, WG_MAX_NICS);
	__type(key, __u32);
	__type(value, __u32);
} wg_tx_ports SEC(".maps");

/* Written by the helper, never read here: which build this is (see
 * wg_relay_abi.h), for the helper that finds the program attached. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wg_meta);
} wg_meta SEC(".maps");

static __always_inline int count(__u32 what, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&wg_stats, &what);

	if (c)
		(*c)++;
	return verdict;
}

/* Shape is judged on the 4-byte little-endian type word, so a datagram with
 * a non-zero reserved byte is not shaped. */
static __always_inline int wg_shaped(__u32 type, __u32 len)
{
	switch (type) {
	case WG_MSG_INITIATION:
		return len == WG_LEN_INITIATION;
	case WG_MSG_RESPONSE:
		return len == WG_LEN_RESPONSE;
	case WG_MSG_COOKIE_REPLY:
		return len == WG_LEN_COOKIE_REPLY;
	case WG_MSG_TRANSPORT:
		return len >= WG_LEN_TRANSPORT_MIN;
	}
	return 0;
}

static __always_inline int blocked(__u32 saddr)
{
	wg_block_expiry_t *expires = bpf_map_lookup_elem(&wg_blocklist, &saddr);

	return expires && (*expires == 0 || bpf_ktime_get_ns() < *expires);
}

/* MACs as one 4- and one 2-byte word, not six bytes. In the frame they are
 * not 4-byte aligned, which the verifier accepts on every architecture with
 * efficient unaligned access (x86-64, arm64); elsewhere the load fails and
 * the relay refuses to start with the verifier's message. */
static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	*(__u32 *)dst = *(const __u32 *)src;
	*(__u16 *)(dst + 4) = *(const __u16 *)(src + 4);
}

/* Remember through which next hop (source MAC) and NIC the registered
 * endpoint's IP is reached, and clear the partner entry's cached route to
 * this endpoint so that the partner's next frame refills it from wg_macs.
 * Done when the next hop changed, and on every handshake whether or not it
 * did: handshakes are rare and go up anyway, and this bounds the life of a
 * stale route (e.g. a refill that raced with a change on another CPU) to the
 * next handshake -- which a tunnel whose data stopped arriving sends within
 * seconds. Threat: a host on the same L2 segment that spoofs a registered
 * ip:port can steer the partner's frames to itself; it could do the same
 * with ARP, and the payload stays end-to-end encrypted. */
static __always_inline void learn(struct wg_peer_value *peer, __u32 saddr, const __u8 *src_mac,
				  __u32 ifindex, int always)
{
	struct wg_peer_route *seen = &peer->route;

	if (!always && seen->seen_ifindex == ifindex && mac_equal(seen->seen_mac, src_mac))
		return;

	struct wg_mac fresh = { .ifindex = ifindex };
	struct wg_peer_key partner = { .ip = peer->partner_ip, .port = peer->partner_port };

	mac_copy(fresh.mac, src_mac);
	bpf_map_update_elem(&wg_macs, &saddr, &fresh, BPF_ANY);
	mac_copy(seen->seen_mac, src_mac);
	seen->seen_ifindex = ifindex;

	/* A hub has no one partner whose route to clear: its spokes and
	 * sessions read its next hop from wg_macs with every frame. */
	if (peer->flags & WG_PEER_F_HUB)
		return;

	struct wg_peer_value *back = bpf_map_lookup_elem(&wg_peers, &partner);

	if (back)
		back->route.tx_ifindex = 0;
}

/* The egress NIC of the route cached in the entry, filled first if it is
 * empty, stale or not this entry's (struct wg_peer_route); 0 when the
 * partner's next hop or the egress NIC is unknown. The caller uses the
 * ifindex returned, not the field: another CPU may clear it meanwhile. */
static __always_inline __u32 route(struct wg_peer_value *peer, const struct wg_peer_key *src,
				   __u16 nic_epoch)
{
	struct wg_peer_route *r = &peer->route;
	__u32 tx_ifindex = r->tx_ifindex;

	if (tx_ifindex && r->nic_epoch == nic_epoch && r->owner.ip == src->ip &&
	    r->owner.port == src->port)
		return tx_ifindex;

	__u32 partner_ip = peer->partner_ip;
	struct wg_mac *hop = bpf_map_lookup_elem(&wg_macs, &partner_ip);

	if (!hop) {
		/* Never learned, or evicted from the LRU map while the partner's
		 * entry still remembers it: make the partner's next frame learn. */
		struct wg_peer_key partner = { .ip = partner_ip, .port = peer->partner_port };
		struct wg_peer_value *back = bpf_map_lookup_elem(&wg_peers, &partner);

		if (back)
			back->route.seen_ifindex = 0;
		return 0;
	}
	__u32 egress = peer->egress_ifindex ? peer->egress_ifindex : hop->ifindex;
	struct wg_nic *nic = bpf_map_lookup_elem(&wg_nics, &egress);

	if (!nic)
		return 0;
	mac_copy(r->hop_mac, hop->mac);
	mac_copy(r->nic_mac, nic->mac);
	r->nic_ip = nic->ip;
	r->nic_epoch = nic_epoch;
	r->owner = *src;
	r->tx_ifindex = egress;
	return egress;
}

/* Where a frame to (dst_ip, dst_port) goes, looked up now rather than taken
 * from a cache: for the routes no learning can invalidate -- a hub's to the
 * spoke of a session, a spoke's to its hub. The next hop and the egress NIC
 * are returned as map value pointers (valid for this run of the program);
 * 0 when the destination's next hop or the egress NIC is unknown. As in
 * route(), a destination whose next hop is gone from wg_macs is made to
 * learn again with its next frame. */
static __always_inline __u32 fresh_route(__u32 dst_ip, __u16 dst_port, __u32 pinned,
					 struct wg_mac **hop_out, struct wg_nic **nic_out)
{
	struct wg_mac *hop = bpf_map_lookup_elem(&wg_macs, &dst_ip);

	if (!hop) {
		struct wg_peer_key dst = { .ip = dst_ip, .port = dst_port };
		struct wg_peer_value *back = bpf_map_lookup_elem(&wg_peers, &dst);

		if (back)
			back->route.seen_ifindex = 0;
		return 0;
	}
	__u32 egress = pinned ? pinned : hop->ifindex;
	struct wg_nic *nic = bpf_map_lookup_elem(&wg_nics, &egress);

	if (!nic)
		return 0;
	*hop_out = hop;
	*nic_out = nic;
	return egress;
}

static __always_inline void count_peer(__u32 slot, __u64 bytes)
{
	struct wg_peer_stat *ps = bpf_map_lookup_elem(&wg_peer_stats, &slot);

	/* per-CPU value: this CPU is its only writer */
	if (ps) {
		ps->packets++;
		ps->bytes += bytes;
	}
}

static __always_inline __u16 ip_checksum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int wg_relay_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u8 *payload = (void *)(udp + 1);
	__u32 zero = 0;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(WG_STAT_PASS_OTHER, XDP_PASS);
	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl != 5 ||
	    (ip->frag_off & bpf_htons(IP_FLAG_MF | IP_FRAG_OFFSET)))
		return count(WG_STAT_PASS_OTHER, XDP_PASS);
	if (ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if ((void *)(udp + 1) > end)
		return count(WG_STAT_PASS_OTHER, XDP_PASS);

	struct wg_config *cfg = bpf_map_lookup_elem(&wg_config, &zero);

	if (!cfg || cfg->relay_port == 0 || udp->dest != cfg->relay_port)
		return XDP_PASS;
	__be16 relay_port = cfg->relay_port;
	__u16 nic_epoch = cfg->nic_epoch;

	/* Addressed to the relay: from here every frame gets exactly one
	 * counter. The UDP length must agree with the IP total length and both
	 * must fit in the frame (which may be longer: Ethernet padding). The
	 * frame length comes from a helper, not from subtracting packet
	 * pointers: that, or adding a variable length to one, is refused by the
	 * verifier without CAP_PERFMON, and the relay should need only
	 * NET_ADMIN and BPF. An unshaped frame is a drop either way; the
	 * blocklist only decides which counter. */
	__u64 frame_len = bpf_xdp_get_buff_len(ctx);
	__u32 ip_len = bpf_ntohs(ip->tot_len);
	__u32 udp_len = bpf_ntohs(udp->len);
	__u32 type = 0;

	if (udp_len >= sizeof(*udp) + 4 && ip_len == sizeof(*ip) + udp_len &&
	    sizeof(*eth) + ip_len <= frame_len && (void *)(payload + 4) <= end)
		type = (__u32)payload[0] | (__u32)payload[1] << 8 | (__u32)payload[2] << 16 |
		       (__u32)payload[3] << 24;
	__u32 payload_len = udp_len - sizeof(*udp);

	if (!type || !wg_shaped(type, payload_len))
		return count(blocked(ip->saddr) ? WG_STAT_DROP_BLOCK : WG_STAT_DROP_SHAPE,
			     XDP_DROP);

	/* Read once: the compiler may otherwise keep a pointer into ctx, which
	 * the verifier refuses. */
	__u32 ingress = ctx->ingress_ifindex;
	struct wg_peer_key src = { .ip = ip->saddr, .port = udp->source, .pad = 0 };
	struct wg_peer_value *peer = bpf_map_lookup_elem(&wg_peers, &src);

	if ((!peer || (peer->flags & WG_PEER_F_BLOCK_CHECK)) && blocked(src.ip))
		return count(WG_STAT_DROP_BLOCK, XDP_DROP);

	/* Learn from every shaped frame of a registered endpoint, handshakes
	 * included: the first transport packet each way then finds its
	 * partner's MAC already known. */
	int handshake = type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE;

	if (peer)
		learn(peer, src.ip, eth->h_source, ingress, handshake);
	if (handshake)
		return count(WG_STAT_PASS_HANDSHAKE, XDP_PASS);
	if (!peer || (peer->flags & WG_PEER_F_PASS))
		return count(WG_STAT_PASS_NO_PEER, XDP_PASS);

	/* Where to (the partner, or for a hub the spoke that chose the
	 * receiver index) and how: the next hop and egress NIC, cached in the
	 * entry for a pair, looked up for either end of a hub link. */
	const __u8 *hop_mac, *nic_mac;
	__u32 nic_ip, dst_ip, tx_ifindex;
	__u16 dst_port;

	if (peer->flags & (WG_PEER_F_HUB | WG_PEER_F_PARTNER_HUB)) {
		__u32 pinned = peer->egress_ifindex;
		struct wg_mac *hop = NULL;
		struct wg_nic *nic = NULL;

		dst_ip = peer->partner_ip;
		dst_port = peer->partner_port;
		if (peer->flags & WG_PEER_F_HUB) {
			/* types 3 and 4 both carry the receiver index at bytes 4..8 */
			if ((void *)(payload + 8) > end)
				return count(WG_STAT_PASS_NO_SESSION, XDP_PASS);
			struct wg_session_key sk = { .hub_ip = src.ip,
						     .hub_port = src.port,
						     .pad = 0,
						     .receiver_index = *(__u32 *)(payload + 4) };
			struct wg_session_value *session = bpf_map_lookup_elem(&wg_sessions, &sk);

			if (!session)
				return count(WG_STAT_PASS_NO_SESSION, XDP_PASS);
			dst_ip = session->owner_ip;
			dst_port = session->owner_port;
			pinned = session->egress_ifindex;
		}
		tx_ifindex = fresh_route(dst_ip, dst_port, pinned, &hop, &nic);
		if (!tx_ifindex || !hop || !nic)
			return count(WG_STAT_PASS_NO_MAC, XDP_PASS);
		hop_mac = hop->mac;
		nic_mac = nic->mac;
		nic_ip = nic->ip;
	} else {
		tx_ifindex = route(peer, &src, nic_epoch);
		if (!tx_ifindex)
			return count(WG_STAT_PASS_NO_MAC, XDP_PASS);
		dst_ip = peer->partner_ip;
		dst_port = peer->partner_port;
		hop_mac = peer->route.hop_mac;
		nic_mac = peer->route.nic_mac;
		nic_ip = peer->route.nic_ip;
	}

	/* Decide the verdict before touching the frame: a refused redirect
	 * passes the frame to userspace as it arrived. bpf_redirect_map only
	 * records the target; the redirect happens after we return. Another
	 * CPU may refill the route meanwhile; the frame then leaves with the
	 * old route, the new one or a mix of both (see struct wg_peer_route). */
	int verdict = XDP_TX;

	if (tx_ifindex != ingress) {
		verdict = bpf_redirect_map(&wg_tx_ports, tx_ifindex, XDP_PASS);
		if (verdict != XDP_REDIRECT)
			return count(WG_STAT_TX_ERR, XDP_PASS);
	}

	mac_copy(eth->h_dest, hop_mac);
	mac_copy(eth->h_source, nic_mac);
	ip->saddr = nic_ip;
	ip->daddr = dst_ip;
	ip->ttl = RELAY_TTL;
	ip->check = 0;
	ip->check = ip_checksum(ip);
	udp->source = relay_port;
	udp->dest = dst_port;
	udp->check = 0; /* optional over IPv4; WireGuard authenticates the payload */

	count_peer(peer->stats_slot, payload_len);
	return count(WG_STAT_FWD, verdict);
}

/* For the far end of a veth whose near end runs wg_relay_xdp: veth delivers
 * XDP_TX'd frames to its peer only while the peer has an XDP program. */
SEC("xdp")
int wg_relay_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
