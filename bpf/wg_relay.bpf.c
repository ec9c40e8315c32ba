// SPDX-License-Identifier: GPL-2.0
/* wg_relay.bpf.c -- the XDP fast path of wg-relay.
 *
 * A pure function of (frame, maps): forwards WireGuard transport data (type
 * 4) and cookie replies (type 3) between registered, linked endpoints and
 * hands everything else that userspace's forwarding rules need to the
 * kernel stack (XDP_PASS), untouched. Userspace (through the helper) owns
 * wg_config, wg_nics, wg_peers and wg_blocklist; the program writes only
 * wg_macs (learning), wg_stats and wg_peer_stats.
 *
 * Verdicts, in order, for each frame:
 *   not Ethernet/IPv4, IPv4 options, fragment, cut-off headers  PASS  PASS_OTHER
 *   not UDP, or UDP to another port                             PASS  (not counted)
 *   -- from here on the frame counts RX --
 *   source IP blocklisted and not expired                       DROP  DROP_BLOCK
 *   not WireGuard-shaped, lengths inconsistent                  DROP  DROP_SHAPE
 *   type 1 or 2                                                 PASS  PASS_HANDSHAKE
 *   unregistered source endpoint, or WG_PEER_F_PASS             PASS  PASS_NO_PEER
 *   partner MAC not learned, egress NIC not in wg_nics          PASS  PASS_NO_MAC
 *   egress NIC != ingress and not in wg_tx_ports                PASS  TX_ERR
 *   otherwise: rewritten to the partner                         TX / REDIRECT  FWD
 * Every PASS leaves the frame byte for byte as it arrived, so the
 * userspace path sees exactly what it would have seen without XDP.
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
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, WG_MAX_PEERS);
	__type(key, struct wg_peer_key);
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

static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

/* Remember through which next hop (source MAC) and NIC the registered
 * endpoint's IP is reached. Written only on change: a write per packet would
 * bounce the entry's cache line between CPUs. Threat: a host on the same L2
 * segment that spoofs a registered ip:port can steer the partner's frames to
 * itself; it could do the same with ARP, and the payload stays end-to-end
 * encrypted. */
static __always_inline void learn(__u32 saddr, const __u8 *src_mac, __u32 ifindex)
{
	struct wg_mac *known = bpf_map_lookup_elem(&wg_macs, &saddr);
	struct wg_mac fresh = {};

	if (known && known->ifindex == ifindex && mac_equal(known->mac, src_mac))
		return;
	__builtin_memcpy(fresh.mac, src_mac, ETH_ALEN);
	fresh.ifindex = ifindex;
	bpf_map_update_elem(&wg_macs, &saddr, &fresh, BPF_ANY);
}

static __always_inline void count_peer(const struct wg_peer_key *key, __u64 bytes)
{
	struct wg_peer_stat *ps = bpf_map_lookup_elem(&wg_peer_stats, key);

	if (ps) {
		/* per-CPU value: this CPU is its only writer */
		ps->rx_packets++;
		ps->rx_bytes += bytes;
		ps->fwd_packets++;
		ps->fwd_bytes += bytes;
		return;
	}
	struct wg_peer_stat first = {
		.rx_packets = 1, .rx_bytes = bytes, .fwd_packets = 1, .fwd_bytes = bytes
	};
	/* full map: the packet is still forwarded, only its per-peer count is lost */
	bpf_map_update_elem(&wg_peer_stats, key, &first, BPF_NOEXIST);
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

	/* Addressed to the relay: from here every frame counts RX and gets
	 * exactly one more counter. */
	count(WG_STAT_RX, 0);
	if (blocked(ip->saddr))
		return count(WG_STAT_DROP_BLOCK, XDP_DROP);

	/* The UDP length must agree with the IP total length and both must fit
	 * in the frame (which may be longer: Ethernet padding). The frame length
	 * comes from a helper, not from subtracting packet pointers: that, or
	 * adding a variable length to one, is refused by the verifier without
	 * CAP_PERFMON, and the relay should need only NET_ADMIN and BPF. */
	__u64 frame_len = bpf_xdp_get_buff_len(ctx);
	__u32 ip_len = bpf_ntohs(ip->tot_len);
	__u32 udp_len = bpf_ntohs(udp->len);

	if (udp_len < sizeof(*udp) + 4 || ip_len != sizeof(*ip) + udp_len ||
	    sizeof(*eth) + ip_len > frame_len || (void *)(payload + 4) > end)
		return count(WG_STAT_DROP_SHAPE, XDP_DROP);
	__u32 payload_len = udp_len - sizeof(*udp);
	__u32 type = (__u32)payload[0] | (__u32)payload[1] << 8 | (__u32)payload[2] << 16 |
		     (__u32)payload[3] << 24;

	if (!wg_shaped(type, payload_len))
		return count(WG_STAT_DROP_SHAPE, XDP_DROP);

	struct wg_peer_key src = { .ip = ip->saddr, .port = udp->source, .pad = 0 };
	struct wg_peer_value *peer = bpf_map_lookup_elem(&wg_peers, &src);

	/* Learn from every shaped frame of a registered endpoint, handshakes
	 * included: the first transport packet each way then finds its
	 * partner's MAC already known. */
	if (peer)
		learn(src.ip, eth->h_source, ctx->ingress_ifindex);
	if (type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE)
		return count(WG_STAT_PASS_HANDSHAKE, XDP_PASS);
	if (!peer || (peer->flags & WG_PEER_F_PASS))
		return count(WG_STAT_PASS_NO_PEER, XDP_PASS);

	/* Copy what we use: userspace may replace the entry meanwhile. */
	__u32 partner_ip = peer->partner_ip;
	__u16 partner_port = peer->partner_port;
	__u32 egress = peer->egress_ifindex;
	struct wg_mac *hop = bpf_map_lookup_elem(&wg_macs, &partner_ip);

	if (!hop)
		return count(WG_STAT_PASS_NO_MAC, XDP_PASS);
	if (!egress)
		egress = hop->ifindex;
	struct wg_nic *nic = bpf_map_lookup_elem(&wg_nics, &egress);

	if (!nic)
		return count(WG_STAT_PASS_NO_MAC, XDP_PASS);

	/* Decide the verdict before touching the frame: a refused redirect
	 * passes the frame to userspace as it arrived. bpf_redirect_map only
	 * records the target; the redirect happens after we return. */
	int verdict = XDP_TX;

	if (egress != ctx->ingress_ifindex) {
		verdict = bpf_redirect_map(&wg_tx_ports, egress, XDP_PASS);
		if (verdict != XDP_REDIRECT)
			return count(WG_STAT_TX_ERR, XDP_PASS);
	}

	__builtin_memcpy(eth->h_dest, hop->mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nic->mac, ETH_ALEN);
	ip->saddr = nic->ip;
	ip->daddr = partner_ip;
	ip->ttl = RELAY_TTL;
	ip->check = 0;
	ip->check = ip_checksum(ip);
	udp->source = relay_port;
	udp->dest = partner_port;
	udp->check = 0; /* optional over IPv4; WireGuard authenticates the payload */

	count_peer(&src, payload_len);
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
