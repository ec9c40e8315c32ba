// SPDX-License-Identifier: GPL-2.0
/* fixtures.c -- packet fixtures for wg_relay_xdp, run with BPF_PROG_TEST_RUN.
 *
 * Each case: maps in a known state, one crafted input frame, and the
 * expected verdict, output bytes and counter deltas. Every wg_stats counter
 * is compared, and so is every per-peer stats slot the fixtures hand out,
 * so a case also proves that nothing else was counted.
 *
 * Runs in a private network namespace (unshare) holding a veth pair, so the
 * ingress/egress ifindexes are real devices and nothing outside is touched;
 * the namespace disappears with the process.
 *
 * usage: fixtures <wg_relay.bpf.o>   (root)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <endian.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../wg_relay_abi.h"
#include "testlib.h"

#define RELAY_PORT 51820
#define MAX_CPUS 256

static struct {
	int prog, pass_prog;
	int config, nics, peers, sessions, macs, blocklist, stats, peer_stats, tx_ports;
	int ncpus;
	__u32 if0, if1; /* veth ends: the "relay NIC" and a second NIC */
} t;

static int failures, checks;
static const char *current;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		checks++;                                                                  \
		if (!(cond)) {                                                             \
			failures++;                                                        \
			fprintf(stderr, "FAIL %s (%s:%d): ", current, __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
		}                                                                          \
	} while (0)

/* ---- addresses ---------------------------------------------------------- */

static const __u8 MAC_A[6] = { 0x02, 0xaa, 0, 0, 0, 0x0a };
static const __u8 MAC_B[6] = { 0x02, 0xbb, 0, 0, 0, 0x0b };
static const __u8 MAC_GW2[6] = { 0x02, 0xcc, 0, 0, 0, 0x0c }; /* next hop on the second NIC */
static const __u8 MAC_GW3[6] = { 0x02, 0xdd, 0, 0, 0, 0x0d }; /* another next hop */
static const __u8 MAC_NIC0[6] = { 0x02, 0x00, 0, 0, 0, 0x01 };
static const __u8 MAC_NIC1[6] = { 0x02, 0x00, 0, 0, 0, 0x02 };
static const __u8 MAC_NIC0_NEW[6] = { 0x02, 0x00, 0, 0, 0, 0x11 }; /* NIC0 after a change */
static const __u8 MAC_H[6] = { 0x02, 0x48, 0, 0, 0, 0x01 };	   /* the hubs' next hop */
static const __u8 MAC_S1[6] = { 0x02, 0x53, 0, 0, 0, 0x01 };
static const __u8 MAC_S2[6] = { 0x02, 0x53, 0, 0, 0, 0x02 };
static const __u8 MAC_S3[6] = { 0x02, 0x53, 0, 0, 0, 0x03 };

#define NIC0_IP "10.99.0.1"
#define NIC0_NEW_IP "10.99.0.77"
#define NIC1_IP "10.98.0.1"

#define A_IP "198.51.100.10"
#define A_PORT 40001
#define B_IP "203.0.113.20"
#define B_PORT 40002
#define C_IP "192.0.2.30" /* partner of D, never seen and not registered: no MAC */
#define C_PORT 40003
#define D_IP "192.0.2.40"
#define D_PORT 40004
#define X_IP "192.0.2.99" /* unregistered */
#define X_PORT 5555
/* Hub links: H is a hub with spokes S1 and S2, H2 another hub (on H's IP)
 * with spoke S3. */
#define H_IP "198.51.100.50"
#define H_PORT 40050
#define H2_IP H_IP
#define H2_PORT 40051
#define S1_IP "203.0.113.61"
#define S1_PORT 40061
#define S2_IP "203.0.113.62"
#define S2_PORT 40062
#define S3_IP "203.0.113.63"
#define S3_PORT 40063
/* receiver indexes, as the helper's protocol gives them (the little-endian
 * u32 at bytes 4..8) */
#define IDX_S1 0x11223344u
#define IDX_S2 0x55667788u
#define IDX_SHARED 0x0badcafeu /* chosen by S1 towards H and by S3 towards H2 */

#define EPOCH0 7 /* wg_config.nic_epoch after reset_state */

/* The wg_peer_stats slot of each endpoint the fixtures register (the helper
 * hands these out in the field). D has the last valid slot; slot 0 is
 * nobody's, so a program that counts into 0 (or masks an out-of-range slot
 * to 0 or 65535) is caught. */
static const struct {
	const char *ip;
	__u16 port;
	__u32 slot;
} slot_table[] = {
	{ A_IP, A_PORT, 1 },   { B_IP, B_PORT, 2 },
	{ C_IP, C_PORT, 3 },   { X_IP, X_PORT, 4 },
	{ H_IP, H_PORT, 5 },   { H2_IP, H2_PORT, 6 },
	{ S1_IP, S1_PORT, 7 }, { S2_IP, S2_PORT, 8 },
	{ S3_IP, S3_PORT, 9 }, { D_IP, D_PORT, WG_MAX_PEERS - 1 },
};
#define NSLOTS (sizeof(slot_table) / sizeof(slot_table[0]))

static __u32 slot_of(const char *ip, __u16 port)
{
	for (size_t i = 0; i < NSLOTS; i++)
		if (!strcmp(slot_table[i].ip, ip) && slot_table[i].port == port)
			return slot_table[i].slot;
	die("no stats slot for %s:%u", ip, port);
	return 0;
}

/* Every slot expect() compares: the table's and slot 0. */
static __u32 watched[NSLOTS + 1];
static size_t nwatched;

/* ---- frames ------------------------------------------------------------- */

struct frame {
	__u8 b[1600];
	__u32 len;
};

/* A WireGuard-shaped payload: the type word, then a recognisable pattern. */
static void wg_payload(__u8 *p, __u32 type, __u32 len)
{
	for (__u32 i = 0; i < len; i++)
		p[i] = (__u8)(0x40 + i * 7);
	if (len >= 4) {
		p[0] = (__u8)type;
		p[1] = (__u8)(type >> 8);
		p[2] = (__u8)(type >> 16);
		p[3] = (__u8)(type >> 24);
	}
}

struct spec {
	const __u8 *dst_mac, *src_mac;
	const char *saddr, *daddr;
	__u16 sport, dport;
	__u8 ttl, tos;
	__u16 ip_id;
	__u16 udp_check; /* as sent (network order); the relay must zero it */
};

/* Ethernet + IPv4 (no options, valid checksum) + UDP + payload. */
static void build(struct frame *f, const struct spec *s, const __u8 *payload, __u32 plen)
{
	struct ethhdr *eth = (void *)f->b;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	memset(f, 0, sizeof(*f));
	memcpy(eth->h_dest, s->dst_mac, 6);
	memcpy(eth->h_source, s->src_mac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = s->tos;
	ip->tot_len = htons((__u16)(sizeof(*ip) + sizeof(*udp) + plen));
	ip->id = htons(s->ip_id);
	ip->frag_off = htons(0x4000); /* DF */
	ip->ttl = s->ttl ? s->ttl : 57;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = ip4(s->saddr);
	ip->daddr = ip4(s->daddr);
	ip->check = csum16(ip, sizeof(*ip));
	udp->source = htons(s->sport);
	udp->dest = htons(s->dport);
	udp->len = htons((__u16)(sizeof(*udp) + plen));
	udp->check = s->udp_check;
	memcpy(udp + 1, payload, plen);
	f->len = (__u32)(sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + plen);
}

static struct iphdr *ip_of(struct frame *f)
{
	return (void *)(f->b + sizeof(struct ethhdr));
}

static struct udphdr *udp_of(struct frame *f)
{
	return (void *)(f->b + sizeof(struct ethhdr) + sizeof(struct iphdr));
}

static void refresh_ip_csum(struct frame *f)
{
	ip_of(f)->check = 0;
	ip_of(f)->check = csum16(ip_of(f), (size_t)ip_of(f)->ihl * 4);
}

/* A WireGuard-shaped datagram from src to the relay's NIC0 address. */
static void wg_frame(struct frame *f, const __u8 *src_mac, const char *saddr, __u16 sport,
		     __u32 type, __u32 plen)
{
	__u8 payload[1500];
	struct spec s = { .dst_mac = MAC_NIC0,
			  .src_mac = src_mac,
			  .saddr = saddr,
			  .daddr = "10.99.0.1",
			  .sport = sport,
			  .dport = RELAY_PORT,
			  .ip_id = 0x1234,
			  .tos = 0x10,
			  .udp_check = htons(0xbeef) };

	wg_payload(payload, type, plen);
	build(f, &s, payload, plen);
}

/* A type 3 or 4 from a hub carrying `index` as its receiver index (bytes
 * 4..8, little-endian as on the wire). */
static void hub_frame(struct frame *f, const __u8 *src_mac, const char *saddr, __u16 sport,
		      __u32 type, __u32 plen, __u32 index)
{
	__u8 *p = f->b + sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr);

	wg_frame(f, src_mac, saddr, sport, type, plen);
	p[4] = (__u8)index;
	p[5] = (__u8)(index >> 8);
	p[6] = (__u8)(index >> 16);
	p[7] = (__u8)(index >> 24);
}

/* ---- maps --------------------------------------------------------------- */

static void stats_now(__u64 out[WG_STAT__MAX])
{
	__u64 cpu[MAX_CPUS];

	for (__u32 i = 0; i < WG_STAT__MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(t.stats, &i, cpu))
			die("stats lookup: %s", strerror(errno));
		for (int c = 0; c < t.ncpus; c++)
			out[i] += cpu[c];
	}
}

/* wg_peer_stats[slot] summed over the CPUs; -1 (and zeros) for a slot
 * outside the array. */
static int slot_stat(__u32 slot, struct wg_peer_stat *sum)
{
	struct wg_peer_stat cpu[MAX_CPUS];

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(t.peer_stats, &slot, cpu))
		return -1;
	for (int c = 0; c < t.ncpus; c++) {
		sum->packets += cpu[c].packets;
		sum->bytes += cpu[c].bytes;
	}
	return 0;
}

static int peer_stat(const char *ip, __u16 port, struct wg_peer_stat *sum)
{
	return slot_stat(slot_of(ip, port), sum);
}

static void zero_slot(__u32 slot)
{
	static const struct wg_peer_stat zero[MAX_CPUS];

	if (bpf_map_update_elem(t.peer_stats, &slot, zero, BPF_ANY))
		die("peer stats slot %u: %s", slot, strerror(errno));
}

static void set_config(__u16 port, __u16 nic_epoch)
{
	__u32 zero = 0;
	struct wg_config c = { .relay_port = htons(port), .nic_epoch = nic_epoch };

	if (bpf_map_update_elem(t.config, &zero, &c, BPF_ANY))
		die("config: %s", strerror(errno));
}

/* What the helper does after every change to wg_nics. */
static void bump_epoch(void)
{
	__u32 zero = 0;
	struct wg_config c;

	if (bpf_map_lookup_elem(t.config, &zero, &c))
		die("config lookup: %s", strerror(errno));
	c.nic_epoch++;
	if (bpf_map_update_elem(t.config, &zero, &c, BPF_ANY))
		die("config: %s", strerror(errno));
}

static void set_nic(__u32 ifindex, const char *ip, const __u8 *mac)
{
	struct wg_nic n = { .ip = ip4(ip) };

	memcpy(n.mac, mac, 6);
	if (bpf_map_update_elem(t.nics, &ifindex, &n, BPF_ANY))
		die("nic: %s", strerror(errno));
}

static void del_nic(__u32 ifindex)
{
	bpf_map_delete_elem(t.nics, &ifindex);
}

/* A wg_peers entry as the helper's `peer` command writes it: the route
 * (the program's part) zeroed. */
static void set_peer_slot(const char *ip, __u16 port, const char *pip, __u16 pport, __u32 egress,
			  __u16 flags, __u32 slot)
{
	struct wg_peer_key k = { .ip = ip4(ip), .port = htons(port) };
	struct wg_peer_value v;

	memset(&v, 0, sizeof(v));
	v.partner_ip = ip4(pip);
	v.partner_port = htons(pport);
	v.flags = flags;
	v.egress_ifindex = egress;
	v.generation = 1;
	v.stats_slot = slot;
	if (bpf_map_update_elem(t.peers, &k, &v, BPF_ANY))
		die("peer: %s", strerror(errno));
}

static void set_peer(const char *ip, __u16 port, const char *pip, __u16 pport, __u32 egress,
		     __u16 flags)
{
	set_peer_slot(ip, port, pip, pport, egress, flags, slot_of(ip, port));
}

static void del_peer(const char *ip, __u16 port)
{
	struct wg_peer_key k = { .ip = ip4(ip), .port = htons(port) };

	bpf_map_delete_elem(t.peers, &k);
}

static int get_peer(const char *ip, __u16 port, struct wg_peer_value *v)
{
	struct wg_peer_key k = { .ip = ip4(ip), .port = htons(port) };

	return bpf_map_lookup_elem(t.peers, &k, v);
}

/* A wg_sessions entry as the helper's `session` command writes it. */
static void set_session(const char *hub_ip, __u16 hub_port, __u32 index, const char *owner_ip,
			__u16 owner_port, __u32 egress)
{
	struct wg_session_key k = { .hub_ip = ip4(hub_ip),
				    .hub_port = htons(hub_port),
				    .receiver_index = htole32(index) };
	struct wg_session_value v = { .owner_ip = ip4(owner_ip),
				      .owner_port = htons(owner_port),
				      .egress_ifindex = egress };

	if (bpf_map_update_elem(t.sessions, &k, &v, BPF_ANY))
		die("session: %s", strerror(errno));
}

static void del_session(const char *hub_ip, __u16 hub_port, __u32 index)
{
	struct wg_session_key k = { .hub_ip = ip4(hub_ip),
				    .hub_port = htons(hub_port),
				    .receiver_index = htole32(index) };

	bpf_map_delete_elem(t.sessions, &k);
}

static void set_mac(const char *ip, const __u8 *mac, __u32 ifindex)
{
	__u32 key = ip4(ip);
	struct wg_mac m = { .ifindex = ifindex };

	memcpy(m.mac, mac, 6);
	if (bpf_map_update_elem(t.macs, &key, &m, BPF_ANY))
		die("mac: %s", strerror(errno));
}

static void del_mac(const char *ip)
{
	__u32 key = ip4(ip);

	bpf_map_delete_elem(t.macs, &key);
}

static int get_mac(const char *ip, struct wg_mac *m)
{
	__u32 key = ip4(ip);

	return bpf_map_lookup_elem(t.macs, &key, m);
}

/* wg_macs[ip] is (mac, ifindex). */
static int mac_is(const char *ip, const __u8 *mac, __u32 ifindex)
{
	struct wg_mac m;

	return !get_mac(ip, &m) && !memcmp(m.mac, mac, 6) && m.ifindex == ifindex && m.pad == 0;
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void set_block(const char *ip, __u64 expires)
{
	__u32 key = ip4(ip);

	if (bpf_map_update_elem(t.blocklist, &key, &expires, BPF_ANY))
		die("block: %s", strerror(errno));
}

static void del_block(const char *ip)
{
	__u32 key = ip4(ip);

	bpf_map_delete_elem(t.blocklist, &key);
}

static void set_tx_port(__u32 ifindex)
{
	if (bpf_map_update_elem(t.tx_ports, &ifindex, &ifindex, BPF_ANY))
		die("tx_ports: %s", strerror(errno));
}

static void clear_map(int fd, const char *what)
{
	__u8 key[64];

	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			die("clear %s: %s", what, strerror(errno));
}

/* ---- running ------------------------------------------------------------ */

static const char *verdict_name(int v)
{
	static const char *names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v >= 0 && v <= 4 ? names[v] : "?";
}

static int run_prog(int prog, const struct frame *in, __u32 ingress, struct frame *out)
{
	struct xdp_md ctx = { .data_end = in->len, .ingress_ifindex = ingress };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b, .data_size_in = in->len,
		    .data_out = out->b, .data_size_out = sizeof(out->b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	memset(out, 0, sizeof(*out));
	if (bpf_prog_test_run_opts(prog, &opts))
		die("%s: test run: %s", current, strerror(errno));
	out->len = opts.data_size_out;
	return (int)opts.retval;
}

/* The stats slot of the frame's source endpoint's wg_peers entry, if it has
 * one, and the frame's UDP payload length. */
static int source_slot(const struct frame *f, __u32 *slot, __u32 *payload_len)
{
	struct wg_peer_key k = {};
	struct wg_peer_value v;
	__u16 udp_len;

	if (f->len < 14 + 20 + 8)
		return -1;
	memcpy(&k.ip, f->b + 14 + 12, 4);
	memcpy(&k.port, f->b + 14 + 20, 2);
	memcpy(&udp_len, f->b + 14 + 20 + 4, 2);
	if (bpf_map_lookup_elem(t.peers, &k, &v))
		return -1;
	*slot = v.stats_slot;
	*payload_len = ntohs(udp_len) - 8u;
	return 0;
}

/* Runs `in` and checks verdict, output and that exactly the counters named
 * in `counted` (a -1 terminated list) went up by one. For PASS and DROP the
 * output must be the input, byte for byte, and no per-peer slot may move;
 * for TX and REDIRECT exactly the source entry's slot gains one packet and
 * the UDP payload bytes (none if that slot is outside wg_peer_stats). */
static void expect(const char *name, const struct frame *in, __u32 ingress, int verdict,
		   const int *counted, struct frame *out)
{
	__u64 before[WG_STAT__MAX], after[WG_STAT__MAX], want[WG_STAT__MAX];
	struct wg_peer_stat pbefore[NSLOTS + 2], pafter;
	__u32 slots[NSLOTS + 2], slot = 0, bytes = 0;
	size_t nslots = nwatched;
	struct frame scratch;
	int fwd = verdict == XDP_TX || verdict == XDP_REDIRECT;
	int has_slot = !source_slot(in, &slot, &bytes);

	current = name;
	if (!out)
		out = &scratch;
	memcpy(slots, watched, sizeof(watched[0]) * nwatched);
	if (has_slot && slot < WG_MAX_PEERS) {
		size_t i = 0;

		while (i < nslots && slots[i] != slot)
			i++;
		if (i == nslots)
			slots[nslots++] = slot;
	}
	for (size_t i = 0; i < nslots; i++)
		slot_stat(slots[i], &pbefore[i]);
	stats_now(before);
	int got = run_prog(t.prog, in, ingress, out);

	stats_now(after);
	CHECK(got == verdict, "verdict %s, want %s", verdict_name(got), verdict_name(verdict));
	memcpy(want, before, sizeof(want));
	for (const int *c = counted; *c >= 0; c++)
		want[*c]++;
	for (int i = 0; i < WG_STAT__MAX; i++)
		CHECK(after[i] == want[i], "stat %d: %llu -> %llu, want %llu", i,
		      (unsigned long long)before[i], (unsigned long long)after[i],
		      (unsigned long long)want[i]);
	for (size_t i = 0; i < nslots; i++) {
		struct wg_peer_stat w = pbefore[i];

		if (fwd && has_slot && slots[i] == slot) {
			w.packets++;
			w.bytes += bytes;
		}
		slot_stat(slots[i], &pafter);
		CHECK(pafter.packets == w.packets && pafter.bytes == w.bytes,
		      "peer stats slot %u: %llu/%llu, want %llu/%llu", slots[i],
		      (unsigned long long)pafter.packets, (unsigned long long)pafter.bytes,
		      (unsigned long long)w.packets, (unsigned long long)w.bytes);
	}
	if (verdict == XDP_PASS || verdict == XDP_DROP)
		CHECK(out->len == in->len && !memcmp(out->b, in->b, in->len),
		      "frame modified on %s", verdict_name(verdict));
}

#define COUNTS(...) ((const int[]){ __VA_ARGS__, -1 })
#define NONE ((const int[]){ -1 })

/* The forwarded frame as it must leave: built independently of the program. */
static void expect_rewritten(const struct frame *in, const struct frame *out, const __u8 *dst_mac,
			     const __u8 *src_mac, const char *saddr, const char *daddr, __u16 dport)
{
	struct frame want = *in;
	struct ethhdr *eth = (void *)want.b;

	memcpy(eth->h_dest, dst_mac, 6);
	memcpy(eth->h_source, src_mac, 6);
	ip_of(&want)->saddr = ip4(saddr);
	ip_of(&want)->daddr = ip4(daddr);
	ip_of(&want)->ttl = 64;
	refresh_ip_csum(&want);
	udp_of(&want)->source = htons(RELAY_PORT);
	udp_of(&want)->dest = htons(dport);
	udp_of(&want)->check = 0;

	CHECK(out->len == want.len, "length %u, want %u", out->len, want.len);
	CHECK(!memcmp(out->b, want.b, 14), "ethernet header differs");
	CHECK(!memcmp(out->b + 14, want.b + 14, 20), "IP header differs");
	CHECK(!memcmp(out->b + 34, want.b + 34, 8), "UDP header differs");
	CHECK(!memcmp(out->b + 42, in->b + 42, in->len - 42), "payload differs");
	/* a valid header sums to 0xffff: csum16 over it is 0 */
	CHECK(csum16(out->b + 14, 20) == 0, "IP checksum invalid");
	CHECK(out->b[40] == 0 && out->b[41] == 0, "UDP checksum not 0");
}

/* A handshake initiation from a registered endpoint: passed to userspace,
 * and its next hop learned, as in the field. */
static void hello(const __u8 *mac, const char *ip, __u16 port, __u32 ingress)
{
	struct frame in;

	wg_frame(&in, mac, ip, port, WG_MSG_INITIATION, WG_LEN_INITIATION);
	expect("handshake from a registered endpoint: PASS_HANDSHAKE", &in, ingress, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(mac_is(ip, mac, ingress), "%s not learned from its handshake", ip);
}

/* A and B shake hands on NIC0: both MACs learned, nothing forwarded yet. */
static void hello_a_and_b(void)
{
	hello(MAC_A, A_IP, A_PORT, t.if0);
	hello(MAC_B, B_IP, B_PORT, t.if0);
}

/* ---- the cases ---------------------------------------------------------- */

/* Every case starts here: counters and per-peer slots zero, nothing
 * learned or blocked, no tx ports, and A<->B, D->C registered as the helper
 * writes them (routes zeroed). */
static void reset_state(void)
{
	static const __u64 zero[MAX_CPUS];

	for (__u32 i = 0; i < WG_STAT__MAX; i++)
		if (bpf_map_update_elem(t.stats, &i, zero, BPF_ANY))
			die("stats reset: %s", strerror(errno));
	for (size_t i = 0; i < nwatched; i++)
		zero_slot(watched[i]);
	clear_map(t.macs, "wg_macs");
	clear_map(t.peers, "wg_peers");
	clear_map(t.sessions, "wg_sessions");
	clear_map(t.blocklist, "wg_blocklist");
	clear_map(t.tx_ports, "wg_tx_ports");
	clear_map(t.nics, "wg_nics");
	set_config(RELAY_PORT, EPOCH0);
	set_nic(t.if0, NIC0_IP, MAC_NIC0);
	set_nic(t.if1, NIC1_IP, MAC_NIC1);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	set_peer(B_IP, B_PORT, A_IP, A_PORT, 0, 0);
	set_peer(D_IP, D_PORT, C_IP, C_PORT, 0, 0);
}

static void test_unconfigured_port_passes_uncounted(void)
{
	struct frame f;
	__u32 zero = 0;
	struct wg_config off = {};

	bpf_map_update_elem(t.config, &zero, &off, BPF_ANY);
	wg_frame(&f, MAC_A, A_IP, A_PORT, 4, 64);
	expect("unconfigured relay port: passed, not counted", &f, t.if0, XDP_PASS, NONE, NULL);
	CHECK(get_mac(A_IP, &(struct wg_mac){}) != 0, "learned while unconfigured");
}

static void test_forwarding_and_learning(void)
{
	struct frame in, out;
	struct wg_peer_value v;
	struct wg_peer_stat ps;

	/* B speaks first: its MAC is learned, A's is unknown */
	wg_frame(&in, MAC_B, B_IP, B_PORT, 4, 32);
	expect("type 4 before the partner's MAC is known: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	CHECK(mac_is(B_IP, MAC_B, t.if0), "B's MAC not learned (or wrong MAC/ifindex/pad)");
	CHECK(get_mac(A_IP, &(struct wg_mac){}) != 0, "A's MAC known before A sent anything");
	CHECK(!get_peer(B_IP, B_PORT, &v) && !memcmp(v.route.seen_mac, MAC_B, 6) &&
		      v.route.seen_ifindex == t.if0 && v.route.tx_ifindex == 0,
	      "B's entry: seen %u, route %u", v.route.seen_ifindex, v.route.tx_ifindex);
	expect("again: still PASS_NO_MAC", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_NO_MAC), NULL);

	/* A's transport data goes out of the same NIC to B */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 96);
	expect("type 4 between linked peers: XDP_TX, rewritten", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	CHECK(mac_is(A_IP, MAC_A, t.if0), "A's MAC not learned while forwarding");
	CHECK(peer_stat(A_IP, A_PORT, &ps) == 0 && ps.packets == 1 && ps.bytes == 96,
	      "A's per-peer stat %llu/%llu", (unsigned long long)ps.packets,
	      (unsigned long long)ps.bytes);
	CHECK(!get_peer(A_IP, A_PORT, &v) && v.route.tx_ifindex == t.if0 &&
		      !memcmp(v.route.hop_mac, MAC_B, 6) && !memcmp(v.route.nic_mac, MAC_NIC0, 6) &&
		      v.route.nic_ip == ip4(NIC0_IP) && v.route.nic_epoch == EPOCH0,
	      "A's route not filled: tx %u epoch %u", v.route.tx_ifindex, v.route.nic_epoch);
	expect("A again, route cached: XDP_TX", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* now B's is forwarded too (the smallest transport message) */
	wg_frame(&in, MAC_B, B_IP, B_PORT, 4, 32);
	expect("minimal type 4 (32 bytes) forwarded back", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&in, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);

	wg_frame(&in, MAC_B, B_IP, B_PORT, 3, 64);
	expect("type 3 cookie reply forwarded like transport data", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	CHECK(peer_stat(B_IP, B_PORT, &ps) == 0 && ps.packets == 2 && ps.bytes == 32 + 64,
	      "B's per-peer stat %llu/%llu", (unsigned long long)ps.packets,
	      (unsigned long long)ps.bytes);

	/* Ethernet padding after the IP datagram is tolerated and kept, and
	 * not counted as payload */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 40);
	struct frame padded = in;

	memset(padded.b + padded.len, 0xee, 6);
	padded.len += 6;
	expect("trailing Ethernet padding: forwarded, padding untouched", &padded, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	CHECK(out.len == padded.len && !memcmp(out.b + in.len, padded.b + in.len, 6),
	      "padding changed");
	CHECK(peer_stat(A_IP, A_PORT, &ps) == 0 && ps.packets == 3 && ps.bytes == 96 + 96 + 40,
	      "A's per-peer stat %llu/%llu", (unsigned long long)ps.packets,
	      (unsigned long long)ps.bytes);

	/* A moves behind another next hop: learned again, and B's frames
	 * follow it */
	wg_frame(&in, MAC_GW3, A_IP, A_PORT, 4, 32);
	expect("same IP from a new MAC: forwarded", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	CHECK(mac_is(A_IP, MAC_GW3, t.if0), "MAC change not learned");
	CHECK(!get_peer(B_IP, B_PORT, &v) && v.route.tx_ifindex == 0,
	      "B's route to A not cleared by A's new MAC");
	wg_frame(&in, MAC_B, B_IP, B_PORT, 4, 48);
	expect("B to A after A's MAC changed: to the new MAC", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW3, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
}

static void test_handshakes_pass(void)
{
	struct frame in, out;

	wg_frame(&in, MAC_A, A_IP, A_PORT, 1, 148);
	expect("type 1 initiation: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(mac_is(A_IP, MAC_A, t.if0), "A not learned from its initiation");
	wg_frame(&in, MAC_B, B_IP, B_PORT, 2, 92);
	expect("type 2 response: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(mac_is(B_IP, MAC_B, t.if0), "B not learned from its response");
	wg_frame(&in, MAC_A, X_IP, X_PORT, 1, 148);
	expect("type 1 from an unknown source: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(get_mac(X_IP, &(struct wg_mac){}) != 0, "MAC learned from an unregistered source");

	/* learned from the handshakes alone: the first transport packet each
	 * way is forwarded */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	expect("first type 4 after the handshake: forwarded", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	wg_frame(&in, MAC_B, B_IP, B_PORT, 4, 64);
	expect("first type 4 back: forwarded", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);

	/* a registered endpoint's handshake from a new next hop teaches its
	 * MAC (on another NIC) and clears its partner's route */
	wg_frame(&in, MAC_GW2, B_IP, B_PORT, 1, 148);
	expect("type 1 from a registered endpoint via NIC1: PASS_HANDSHAKE", &in, t.if1, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(mac_is(B_IP, MAC_GW2, t.if1), "not learned from handshake");
	set_tx_port(t.if1);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	expect("A to B after B's handshake via NIC1: XDP_REDIRECT", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC1, NIC1_IP, B_IP, B_PORT);

	/* D's partner C has no entry: learning from D does not need one */
	wg_frame(&in, MAC_GW3, D_IP, D_PORT, 1, 148);
	expect("type 1 from a registered endpoint without a partner entry", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(mac_is(D_IP, MAC_GW3, t.if0), "D not learned from its handshake");
}

static void test_unknown_and_flagged_sources_pass(void)
{
	struct frame in, out;
	struct wg_mac m;

	hello(MAC_B, B_IP, B_PORT, t.if0);
	wg_frame(&in, MAC_A, X_IP, X_PORT, 4, 64);
	expect("type 4 from an unregistered endpoint: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	CHECK(get_mac(X_IP, &m) != 0, "MAC learned from an unregistered source");
	wg_frame(&in, MAC_A, A_IP, A_PORT + 1, 4, 64);
	expect("registered IP, other port: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	CHECK(get_mac(A_IP, &m) != 0, "MAC learned for an unregistered port of a registered IP");
	wg_frame(&in, MAC_A, X_IP, X_PORT, 3, 64);
	expect("type 3 from an unregistered endpoint: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);

	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_PASS);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	expect("WG_PEER_F_PASS: transport data passed to userspace", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	CHECK(mac_is(A_IP, MAC_A, t.if0), "PASS-flagged source not learned");
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	expect("flag cleared: forwarded again", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_PASS);
	expect("flag set on an entry with a filled route: passed", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
}

static void test_missing_mac_or_nic_passes(void)
{
	struct frame in, out;

	wg_frame(&in, MAC_A, D_IP, D_PORT, 4, 64);
	expect("partner never seen: PASS_NO_MAC", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_NO_MAC),
	       NULL);

	/* partner learned on a NIC the relay has no address for */
	set_mac(C_IP, MAC_B, 4242);
	expect("egress NIC without wg_nics entry: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	del_mac(C_IP);

	/* C registers and says hello via NIC1, whose address is gone */
	set_peer(C_IP, C_PORT, D_IP, D_PORT, 0, 0);
	del_nic(t.if1);
	bump_epoch();
	hello(MAC_GW2, C_IP, C_PORT, t.if1);
	set_tx_port(t.if1);
	expect("partner learned on a NIC not in wg_nics: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	set_nic(t.if1, NIC1_IP, MAC_NIC1);
	bump_epoch();
	expect("the NIC's address back, epoch bumped: XDP_REDIRECT", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC1, NIC1_IP, C_IP, C_PORT);
}

static void test_egress_to_another_nic(void)
{
	struct frame in, out;

	/* C is reached through NIC1's next hop; D arrives on NIC0 */
	set_mac(C_IP, MAC_GW2, t.if1);
	wg_frame(&in, MAC_A, D_IP, D_PORT, 4, 200);
	expect("egress NIC not in wg_tx_ports: TX_ERR, passed untouched", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_TX_ERR), NULL);

	set_tx_port(t.if1);
	expect("partner learned on another attached NIC: XDP_REDIRECT", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC1, NIC1_IP, C_IP, C_PORT);

	/* a pinned egress wins over where the MAC was learned */
	set_mac(C_IP, MAC_GW2, t.if0);
	set_peer(D_IP, D_PORT, C_IP, C_PORT, t.if1, 0);
	expect("pinned egress NIC: XDP_REDIRECT out of it", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC1, NIC1_IP, C_IP, C_PORT);
	set_peer(D_IP, D_PORT, C_IP, C_PORT, t.if0, 0);
	expect("pinned egress == ingress: XDP_TX", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC0, NIC0_IP, C_IP, C_PORT);

	/* the tx port goes away under a filled route */
	set_peer(D_IP, D_PORT, C_IP, C_PORT, t.if1, 0);
	expect("pinned egress NIC1 again: XDP_REDIRECT", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	bpf_map_delete_elem(t.tx_ports, &t.if1);
	expect("tx port removed under a cached route: TX_ERR, passed untouched", &in, t.if0,
	       XDP_PASS, COUNTS(WG_STAT_TX_ERR), NULL);
}

/* (a) The route cached in an entry follows the partner's next hop. */
static void test_route_follows_next_hop(void)
{
	struct frame a2b, b2a, out;
	struct wg_peer_value v;

	hello_a_and_b();
	wg_frame(&a2b, MAC_A, A_IP, A_PORT, 4, 80);
	expect("A to B: XDP_TX to B's MAC", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* the route is A's own: wg_macs[B] is no longer needed (LRU may
	 * evict it) */
	del_mac(B_IP);
	expect("A to B with wg_macs[B] evicted: cached route, XDP_TX", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* B now comes from another next hop on the same NIC */
	wg_frame(&b2a, MAC_GW3, B_IP, B_PORT, 4, 48);
	expect("B from a new MAC: forwarded to A", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&b2a, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	CHECK(mac_is(B_IP, MAC_GW3, t.if0), "B's new MAC not in wg_macs");
	CHECK(!get_peer(A_IP, A_PORT, &v) && v.route.tx_ifindex == 0,
	      "A's route not cleared by B's new MAC");
	expect("A to B after B's MAC changed: to the new MAC", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_GW3, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* nothing changed: no learning, A's route stays */
	expect("B again from the same MAC and NIC: forwarded", &b2a, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	CHECK(!get_peer(A_IP, A_PORT, &v) && v.route.tx_ifindex == t.if0 &&
		      !memcmp(v.route.hop_mac, MAC_GW3, 6),
	      "A's route cleared although B's next hop did not change");

	/* B moves to the other NIC: B's frames are redirected to A's NIC,
	 * A's leave through NIC1 with NIC1's addresses */
	set_tx_port(t.if0);
	set_tx_port(t.if1);
	wg_frame(&b2a, MAC_GW2, B_IP, B_PORT, 4, 48);
	expect("B via NIC1: XDP_REDIRECT to A on NIC0", &b2a, t.if1, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&b2a, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	CHECK(mac_is(B_IP, MAC_GW2, t.if1), "B's new NIC not in wg_macs");
	expect("A to B after B moved to NIC1: XDP_REDIRECT out of NIC1", &a2b, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_GW2, MAC_NIC1, NIC1_IP, B_IP, B_PORT);

	/* a handshake is learned even from an unchanged next hop: it restores
	 * an evicted wg_macs entry and makes the partner refill its route */
	wg_frame(&b2a, MAC_GW2, B_IP, B_PORT, WG_MSG_RESPONSE, WG_LEN_RESPONSE);
	del_mac(B_IP);
	expect("B's handshake, next hop unchanged: PASS_HANDSHAKE", &b2a, t.if1, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(mac_is(B_IP, MAC_GW2, t.if1), "evicted MAC not restored by a handshake");
	CHECK(!get_peer(A_IP, A_PORT, &v) && v.route.tx_ifindex == 0,
	      "A's route not cleared by B's handshake");
	expect("A to B after B's handshake: XDP_REDIRECT out of NIC1", &a2b, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_GW2, MAC_NIC1, NIC1_IP, B_IP, B_PORT);

	/* same MAC, other NIC: still a change */
	wg_frame(&b2a, MAC_GW2, B_IP, B_PORT, 4, 48);
	expect("B with the same MAC back on NIC0: XDP_TX", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	CHECK(mac_is(B_IP, MAC_GW2, t.if0), "B's NIC change not learned");
	expect("A to B after B's NIC changed back: XDP_TX out of NIC0", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_GW2, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
}

/* (b) A route caches the egress NIC's address until wg_config.nic_epoch
 * changes. */
static void test_nic_epoch(void)
{
	struct frame a2b, b2a, out;

	hello_a_and_b();
	wg_frame(&a2b, MAC_A, A_IP, A_PORT, 4, 64);
	wg_frame(&b2a, MAC_B, B_IP, B_PORT, 4, 72);
	expect("A to B: NIC0's address", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	expect("B to A: NIC0's address", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&b2a, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);

	/* the contract: the helper bumps the epoch with every wg_nics change;
	 * until it does, the cached address is used */
	set_nic(t.if0, NIC0_NEW_IP, MAC_NIC0_NEW);
	expect("wg_nics changed, epoch not bumped: cached (old) NIC address", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	bump_epoch();
	expect("epoch bumped: A's route refilled, new NIC address", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0_NEW, NIC0_NEW_IP, B_IP, B_PORT);
	expect("epoch bumped: B's route refilled too", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&b2a, &out, MAC_A, MAC_NIC0_NEW, NIC0_NEW_IP, A_IP, A_PORT);

	/* the NIC leaves wg_nics: nothing goes out with its old address */
	del_nic(t.if0);
	bump_epoch();
	expect("egress NIC gone, epoch bumped: PASS_NO_MAC", &a2b, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	expect("egress NIC gone, again: PASS_NO_MAC", &a2b, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	set_nic(t.if0, NIC0_IP, MAC_NIC0);
	bump_epoch();
	expect("egress NIC back, epoch bumped: forwarded", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* the epoch wraps */
	set_config(RELAY_PORT, 0xffff);
	expect("epoch 0xffff: forwarded", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	set_nic(t.if0, NIC0_NEW_IP, MAC_NIC0_NEW);
	bump_epoch();
	expect("epoch wrapped to 0: route refilled", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0_NEW, NIC0_NEW_IP, B_IP, B_PORT);
}

/* (c) The blocklist: always for unregistered sources and unshaped frames,
 * for a registered source only with WG_PEER_F_BLOCK_CHECK. */
static void test_blocklist(void)
{
	struct frame in, out, bad;

	hello_a_and_b();
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	wg_frame(&bad, MAC_A, A_IP, A_PORT, 99, 10);

	/* documented: userspace flags the entry before it blocks the IP */
	set_block(A_IP, 0);
	expect("registered, blocked, entry not flagged: forwarded", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	expect("unshaped from a blocked registered source, not flagged: DROP_BLOCK", &bad, t.if0,
	       XDP_DROP, COUNTS(WG_STAT_DROP_BLOCK), NULL);

	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_BLOCK_CHECK);
	expect("flagged, blocked forever: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	set_block(A_IP, monotonic_ns() + 60ull * 1000000000ull);
	expect("flagged, blocked for another minute: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	expect("unshaped from a blocked flagged source: DROP_BLOCK", &bad, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	wg_frame(&in, MAC_GW3, A_IP, A_PORT, 1, 148);
	expect("flagged, blocked handshake: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	CHECK(mac_is(A_IP, MAC_A, t.if0), "learned from a dropped frame");
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_BLOCK_CHECK | WG_PEER_F_PASS);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	expect("flagged and PASS-flagged, blocked: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_BLOCK_CHECK);

	set_block(A_IP, monotonic_ns() - 1000000ull);
	expect("flagged, expired block: forwarded", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	expect("unshaped from a source whose block expired: DROP_SHAPE", &bad, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);
	del_block(A_IP);
	expect("flagged, not blocked: forwarded", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	expect("unshaped from an unblocked source: DROP_SHAPE", &bad, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);

	/* a block on the partner's IP does not stop frames to it */
	set_block(B_IP, 0);
	expect("partner blocked: A's frames still forwarded", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), NULL);
	del_block(B_IP);

	/* unregistered sources: always looked up */
	wg_frame(&in, MAC_A, X_IP, X_PORT, 1, 148);
	set_block(X_IP, 0);
	expect("blocked unknown source's handshake: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	wg_frame(&in, MAC_A, X_IP, X_PORT, 4, 64);
	expect("blocked unknown source's transport data: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT + 1, 4, 64);
	set_block(A_IP, 0);
	expect("blocked IP, unregistered port (registered port not flagged): DROP_BLOCK", &in,
	       t.if0, XDP_DROP, COUNTS(WG_STAT_DROP_BLOCK), NULL);
	del_block(A_IP);
	wg_frame(&bad, MAC_A, X_IP, X_PORT, 4, 31);
	expect("unshaped from a blocked unknown source: DROP_BLOCK", &bad, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	set_block(X_IP, monotonic_ns() - 1000000ull);
	expect("unshaped from an unknown source whose block expired: DROP_SHAPE", &bad, t.if0,
	       XDP_DROP, COUNTS(WG_STAT_DROP_SHAPE), NULL);
	wg_frame(&in, MAC_A, X_IP, X_PORT, 1, 148);
	expect("unknown source whose block expired: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	del_block(X_IP);
	expect("unshaped from an unknown unblocked source: DROP_SHAPE", &bad, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);

	/* cut inside the payload (no type word): the block still decides */
	wg_frame(&bad, MAC_A, A_IP, A_PORT, 4, 64);
	bad.len = 14 + 20 + 8 + 2;
	set_block(A_IP, 0);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	expect("truncated frame from a blocked source: DROP_BLOCK", &bad, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_BLOCK), NULL);
	del_block(A_IP);
}

static void test_unshaped_dropped(void)
{
	static const struct {
		__u32 type, len;
	} bad[] = {
		{ 4, 31 },	 { 4, 4 },	    { 4, 0 },	    { 1, 147 },
		{ 1, 149 },	 { 1, 92 },	    { 2, 91 },	    { 2, 93 },
		{ 2, 148 },	 { 3, 63 },	    { 3, 65 },	    { 3, 32 },
		{ 0, 64 },	 { 5, 64 },	    { 0x104, 64 }, /* type 4 with reserved byte 1
								      set */
		{ 0x10004, 64 }, { 0x1000004, 64 }, { 0x101, 148 }, { 0xffffffff, 148 },
	};
	struct frame in;
	char name[96];

	hello(MAC_B, B_IP, B_PORT, t.if0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "unshaped type word 0x%x, %u bytes: DROP_SHAPE",
			 bad[i].type, bad[i].len);
		wg_frame(&in, MAC_A, A_IP, A_PORT, bad[i].type, bad[i].len);
		expect(name, &in, t.if0, XDP_DROP, COUNTS(WG_STAT_DROP_SHAPE), NULL);
	}
	CHECK(get_mac(A_IP, &(struct wg_mac){}) != 0, "learned from an unshaped frame");

	/* lengths that disagree */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->len = htons(8 + 63);
	expect("UDP length shorter than IP payload: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->len = htons(8 + 65);
	expect("UDP length beyond IP payload: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->len = htons(7);
	expect("UDP length below its header: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	ip_of(&in)->tot_len = htons(20 + 8 + 64 + 10);
	udp_of(&in)->len = htons(8 + 64 + 10);
	refresh_ip_csum(&in);
	expect("IP total length beyond the frame: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);
}

static void test_not_ours_or_not_parsed(void)
{
	struct frame in;

	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->dest = htons(RELAY_PORT + 1);
	expect("UDP to another port: passed, not counted", &in, t.if0, XDP_PASS, NONE, NULL);

	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	ip_of(&in)->protocol = IPPROTO_TCP;
	refresh_ip_csum(&in);
	expect("TCP: passed, not counted", &in, t.if0, XDP_PASS, NONE, NULL);
	CHECK(get_mac(A_IP, &(struct wg_mac){}) != 0, "learned from a frame not to the relay");

	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	((struct ethhdr *)in.b)->h_proto = htons(ETH_P_ARP);
	expect("ARP: PASS_OTHER", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_OTHER), NULL);
	((struct ethhdr *)in.b)->h_proto = htons(ETH_P_IPV6);
	expect("IPv6 ethertype: PASS_OTHER", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_OTHER),
	       NULL);
	((struct ethhdr *)in.b)->h_proto = htons(ETH_P_8021Q);
	expect("VLAN-tagged: PASS_OTHER", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_OTHER), NULL);

	/* IPv4 with 4 bytes of options (NOPs) before the UDP header */
	{
		struct frame o;
		__u8 *ipb;

		wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
		memcpy(o.b, in.b, 34);
		memset(o.b + 34, 1, 4);
		memcpy(o.b + 38, in.b + 34, in.len - 34);
		o.len = in.len + 4;
		ipb = o.b + 14;
		ipb[0] = 0x46;
		((struct iphdr *)ipb)->tot_len = htons((__u16)(o.len - 14));
		refresh_ip_csum(&o);
		expect("IPv4 options: PASS_OTHER", &o, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_OTHER),
		       NULL);
	}

	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	ip_of(&in)->frag_off = htons(0x2000);
	refresh_ip_csum(&in);
	expect("first fragment (MF): PASS_OTHER", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_OTHER),
	       NULL);
	ip_of(&in)->frag_off = htons(0x0010);
	refresh_ip_csum(&in);
	expect("later fragment (offset): PASS_OTHER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_OTHER), NULL);

	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	ip_of(&in)->version = 6;
	expect("IP version not 4: PASS_OTHER", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_OTHER),
	       NULL);
}

static void test_truncated_frames(void)
{
	struct frame full, cut;
	char name[96];

	hello(MAC_B, B_IP, B_PORT, t.if0);
	wg_frame(&full, MAC_A, A_IP, A_PORT, 4, 64);
	/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header */
	for (__u32 len = 14; len < full.len; len++) {
		cut = full;
		cut.len = len;
		memset(cut.b + len, 0, sizeof(cut.b) - len);
		if (len < 14 + 20 + 8) {
			snprintf(name, sizeof(name), "cut to %u bytes (headers): PASS_OTHER", len);
			expect(name, &cut, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_OTHER), NULL);
		} else {
			snprintf(name, sizeof(name), "cut to %u bytes (payload): DROP_SHAPE", len);
			expect(name, &cut, t.if0, XDP_DROP, COUNTS(WG_STAT_DROP_SHAPE), NULL);
		}
	}
}

/* (d) Per-peer stats: forwarded frames only, UDP payload bytes, into the
 * source entry's slot only. */
static void test_peer_stats(void)
{
	struct frame in, out;
	struct wg_peer_stat a, b, c, d, x, z;
	static const __u32 sizes[] = { 100, 200, 32 };

	hello_a_and_b();
	peer_stat(A_IP, A_PORT, &a);
	peer_stat(B_IP, B_PORT, &b);
	CHECK(a.packets == 0 && a.bytes == 0 && b.packets == 0 && b.bytes == 0,
	      "handshakes counted per peer");

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		wg_frame(&in, MAC_A, A_IP, A_PORT, 4, sizes[i]);
		expect("A to B: forwarded, counted in A's slot", &in, t.if0, XDP_TX,
		       COUNTS(WG_STAT_FWD), &out);
	}
	wg_frame(&in, MAC_B, B_IP, B_PORT, 3, 64);
	expect("B's cookie reply: forwarded, counted in B's slot", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);

	/* passed or dropped: nothing per peer */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 1, 148);
	expect("A's handshake: not counted per peer", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 31);
	expect("A's unshaped frame: not counted per peer", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_DROP_SHAPE), NULL);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_BLOCK_CHECK);
	set_block(A_IP, 0);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	expect("A blocked: not counted per peer", &in, t.if0, XDP_DROP, COUNTS(WG_STAT_DROP_BLOCK),
	       NULL);
	del_block(A_IP);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_PASS);
	expect("A PASS-flagged: not counted per peer", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	wg_frame(&in, MAC_A, D_IP, D_PORT, 4, 64);
	expect("D, partner unknown: not counted per peer", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	set_mac(C_IP, MAC_GW2, t.if1);
	expect("D, egress not a tx port: not counted per peer", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_TX_ERR), NULL);
	set_tx_port(t.if1);
	wg_frame(&in, MAC_A, D_IP, D_PORT, 4, 1000);
	expect("D redirected: counted in D's slot (the last one)", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);

	current = "per-peer stats: totals";
	peer_stat(A_IP, A_PORT, &a);
	peer_stat(B_IP, B_PORT, &b);
	peer_stat(C_IP, C_PORT, &c);
	peer_stat(D_IP, D_PORT, &d);
	peer_stat(X_IP, X_PORT, &x);
	slot_stat(0, &z);
	CHECK(a.packets == 3 && a.bytes == 100 + 200 + 32, "A %llu/%llu, want 3/332",
	      (unsigned long long)a.packets, (unsigned long long)a.bytes);
	CHECK(b.packets == 1 && b.bytes == 64, "B %llu/%llu, want 1/64",
	      (unsigned long long)b.packets, (unsigned long long)b.bytes);
	CHECK(d.packets == 1 && d.bytes == 1000, "D %llu/%llu, want 1/1000",
	      (unsigned long long)d.packets, (unsigned long long)d.bytes);
	CHECK(c.packets == 0 && c.bytes == 0 && x.packets == 0 && x.bytes == 0 && z.packets == 0 &&
		      z.bytes == 0,
	      "unused slots counted");
}

/* (e) An entry re-written by the helper (route zeroed) forwards again. */
static void test_rewritten_entry(void)
{
	struct frame a2b, b2a, a2d, out;
	struct wg_peer_value v;

	hello_a_and_b();
	wg_frame(&a2b, MAC_A, A_IP, A_PORT, 4, 64);
	wg_frame(&b2a, MAC_B, B_IP, B_PORT, 4, 64);
	expect("A to B", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect("B to A", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);

	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	expect("A's entry re-written: forwarded, route refilled", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	CHECK(!get_peer(A_IP, A_PORT, &v) && v.route.tx_ifindex == t.if0 &&
		      !memcmp(v.route.hop_mac, MAC_B, 6) && !memcmp(v.route.seen_mac, MAC_A, 6) &&
		      v.route.seen_ifindex == t.if0,
	      "A's route/seen not refilled: tx %u seen %u", v.route.tx_ifindex,
	      v.route.seen_ifindex);
	expect("B to A after A's entry was re-written", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&b2a, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);

	/* re-linked to another partner: the route follows the entry */
	set_peer(D_IP, D_PORT, A_IP, A_PORT, 0, 0);
	hello(MAC_GW3, D_IP, D_PORT, t.if0);
	set_peer(A_IP, A_PORT, D_IP, D_PORT, 0, 0);
	wg_frame(&a2d, MAC_A, A_IP, A_PORT, 4, 64);
	expect("A re-linked to D: to D", &a2d, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2d, &out, MAC_GW3, MAC_NIC0, NIC0_IP, D_IP, D_PORT);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	expect("A linked back to B: to B", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* epoch 0: a zeroed route's nic_epoch matches, it must still be
	 * filled */
	set_config(RELAY_PORT, 0);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	expect("config epoch 0, entry re-written: route filled", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* re-written while the partner's MAC is not in wg_macs (evicted)
	 * although B's entry still remembers it as seen */
	del_mac(B_IP);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	expect("re-written, partner's MAC evicted: PASS_NO_MAC", &a2b, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	CHECK(!get_peer(B_IP, B_PORT, &v) && v.route.seen_ifindex == 0,
	      "B's seen next hop not forgotten: seen %u", v.route.seen_ifindex);
	/* so B's next frame, from an unchanged next hop, is learned again */
	expect("B, next hop unchanged: forwarded", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&b2a, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	CHECK(mac_is(B_IP, MAC_B, t.if0), "B not learned again after its MAC was evicted");
	expect("A to B once B is learned again: forwarded", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* the same after an epoch bump (every route refilled) */
	del_mac(B_IP);
	bump_epoch();
	expect("epoch bumped, partner's MAC evicted: PASS_NO_MAC", &a2b, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	expect("B after the eviction: forwarded (its route to A refilled)", &b2a, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	CHECK(mac_is(B_IP, MAC_B, t.if0), "B not learned again after the epoch bump");
	expect("A to B again: forwarded", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* B's entry re-written as well: learned again from any frame */
	set_peer(B_IP, B_PORT, A_IP, A_PORT, 0, 0);
	del_mac(B_IP);
	expect("B's entry re-written: B forwarded", &b2a, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&b2a, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	CHECK(mac_is(B_IP, MAC_B, t.if0), "B not learned again after its entry was re-written");
}

/* (f) Entries userspace should not write, or states in between. */
/* A preallocated hash map hands a replaced element to the next update at
 * once, so a program still holding it may fill a route into what is by then
 * another endpoint's entry. Such a route names the key it was filled for;
 * any other entry must refill rather than use it. */
static void test_route_of_another_key_is_refilled(void)
{
	struct frame a2b, out;
	struct wg_peer_key a = { .ip = ip4(A_IP), .port = htons(A_PORT) };
	struct wg_peer_value v;

	hello_a_and_b();
	wg_frame(&a2b, MAC_A, A_IP, A_PORT, 4, 64);

	/* a complete, current route to a next hop nobody learned */
	if (get_peer(A_IP, A_PORT, &v))
		die("A's entry: %s", strerror(errno));
	memcpy(v.route.seen_mac, MAC_A, 6);
	v.route.seen_ifindex = t.if0;
	memcpy(v.route.hop_mac, MAC_GW3, 6);
	memcpy(v.route.nic_mac, MAC_NIC0, 6);
	v.route.nic_ip = ip4(NIC0_IP);
	v.route.nic_epoch = EPOCH0;
	v.route.tx_ifindex = t.if0;

	/* filled for A itself: used as it is (the control for the case below) */
	v.route.owner = a;
	if (bpf_map_update_elem(t.peers, &a, &v, BPF_ANY))
		die("peer: %s", strerror(errno));
	expect("route filled for this key: used", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_GW3, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* filled for another key (here B's), or for A's key with another port */
	v.route.owner.ip = ip4(B_IP);
	v.route.owner.port = htons(B_PORT);
	if (bpf_map_update_elem(t.peers, &a, &v, BPF_ANY))
		die("peer: %s", strerror(errno));
	expect("route filled for another key: refilled", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	CHECK(!get_peer(A_IP, A_PORT, &v) && v.route.owner.ip == a.ip &&
		      v.route.owner.port == a.port,
	      "the refilled route names its key");

	v.route.owner = a;
	v.route.owner.port = htons(A_PORT + 1);
	memcpy(v.route.hop_mac, MAC_GW3, 6);
	if (bpf_map_update_elem(t.peers, &a, &v, BPF_ANY))
		die("peer: %s", strerror(errno));
	expect("route filled for the same IP, another port: refilled", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
}

static void test_hostile_entries(void)
{
	struct frame a2b, in, out;

	hello_a_and_b();
	wg_frame(&a2b, MAC_A, A_IP, A_PORT, 4, 64);

	/* stats slot out of range: forwarded, the count is lost (expect()
	 * checks that no watched slot, 0 and 65535 included, moves) */
	set_peer_slot(A_IP, A_PORT, B_IP, B_PORT, 0, 0, WG_MAX_PEERS);
	expect("stats slot WG_MAX_PEERS: forwarded, not counted per peer", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	set_peer_slot(A_IP, A_PORT, B_IP, B_PORT, 0, 0, 0xffffffffu);
	expect("stats slot 0xffffffff: forwarded, not counted per peer", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);

	/* an entry that is its own partner: reflected to the source */
	set_peer(A_IP, A_PORT, A_IP, A_PORT, 0, 0);
	expect("own partner: reflected to itself", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	expect("own partner, cached: reflected again", &a2b, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&a2b, &out, MAC_A, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	wg_frame(&in, MAC_GW3, A_IP, A_PORT, 4, 64);
	expect("own partner from a new MAC: reflected to the new MAC", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW3, MAC_NIC0, NIC0_IP, A_IP, A_PORT);
	CHECK(mac_is(A_IP, MAC_GW3, t.if0), "own partner's new MAC not learned");

	/* the partner's entry is missing (deleted, or not yet written) */
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	del_peer(B_IP, B_PORT);
	expect("partner entry missing, learning: forwarded", &a2b, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&a2b, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
	CHECK(mac_is(A_IP, MAC_A, t.if0), "A not learned with its partner's entry missing");
	wg_frame(&in, MAC_GW2, B_IP, B_PORT, 4, 64);
	expect("the deleted partner sends: PASS_NO_PEER, not learned", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	CHECK(mac_is(B_IP, MAC_B, t.if0), "learned from a source without an entry");
	wg_frame(&in, MAC_GW3, D_IP, D_PORT, 4, 64);
	expect("D (partner C has no entry nor MAC) learns: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	CHECK(mac_is(D_IP, MAC_GW3, t.if0), "D not learned");

	/* pinned to an ifindex that is no NIC of the relay */
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 4242, 0);
	expect("egress pinned to an unknown ifindex: PASS_NO_MAC", &a2b, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	set_nic(4242, NIC1_IP, MAC_NIC1);
	bump_epoch();
	expect("egress in wg_nics but not a tx port: TX_ERR", &a2b, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_TX_ERR), NULL);

	/* a non-zero pad in the key is another key */
	{
		struct wg_peer_key k = { .ip = ip4(A_IP), .port = htons(A_PORT), .pad = 1 };
		struct wg_peer_value v = { .partner_ip = ip4(B_IP), .partner_port = htons(B_PORT) };

		del_peer(A_IP, A_PORT);
		if (bpf_map_update_elem(t.peers, &k, &v, BPF_ANY))
			die("peer: %s", strerror(errno));
		expect("entry only under a padded key: PASS_NO_PEER", &a2b, t.if0, XDP_PASS,
		       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	}
}

/* ---- hub links ------------------------------------------------------------ */

/* H is a hub (no partner) with spokes S1 and S2, whose partner is H; all
 * three said hello on NIC0, and each spoke owns one receiver index at H. */
static void hub_setup(void)
{
	set_peer(H_IP, H_PORT, "0.0.0.0", 0, 0, WG_PEER_F_HUB);
	set_peer(S1_IP, S1_PORT, H_IP, H_PORT, 0, WG_PEER_F_PARTNER_HUB);
	set_peer(S2_IP, S2_PORT, H_IP, H_PORT, 0, WG_PEER_F_PARTNER_HUB);
	hello(MAC_H, H_IP, H_PORT, t.if0);
	hello(MAC_S1, S1_IP, S1_PORT, t.if0);
	hello(MAC_S2, S2_IP, S2_PORT, t.if0);
	set_session(H_IP, H_PORT, IDX_S1, S1_IP, S1_PORT, 0);
	set_session(H_IP, H_PORT, IDX_S2, S2_IP, S2_PORT, 0);
}

static void test_hub_forwards_by_receiver_index(void)
{
	struct frame in, out;
	struct wg_peer_stat ps;

	hub_setup();
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 96, IDX_S1);
	expect("hub type 4, S1's index: to S1", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S1, MAC_NIC0, NIC0_IP, S1_IP, S1_PORT);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 200, IDX_S2);
	expect("hub type 4, S2's index: to S2", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S2, MAC_NIC0, NIC0_IP, S2_IP, S2_PORT);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 32, IDX_S1);
	expect("hub type 4 back to S1 (32 bytes)", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S1, MAC_NIC0, NIC0_IP, S1_IP, S1_PORT);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_COOKIE_REPLY, WG_LEN_COOKIE_REPLY, IDX_S2);
	expect("hub type 3 cookie reply, S2's index: to S2", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S2, MAC_NIC0, NIC0_IP, S2_IP, S2_PORT);
	CHECK(peer_stat(H_IP, H_PORT, &ps) == 0 && ps.packets == 4 &&
		      ps.bytes == 96 + 200 + 32 + WG_LEN_COOKIE_REPLY,
	      "the hub's per-peer stat %llu/%llu", (unsigned long long)ps.packets,
	      (unsigned long long)ps.bytes);

	/* the spokes to the hub: an ordinary link whose partner is the hub */
	wg_frame(&in, MAC_S1, S1_IP, S1_PORT, WG_MSG_TRANSPORT, 64);
	expect("S1 to its hub: to H", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_H, MAC_NIC0, NIC0_IP, H_IP, H_PORT);
	wg_frame(&in, MAC_S2, S2_IP, S2_PORT, WG_MSG_COOKIE_REPLY, WG_LEN_COOKIE_REPLY);
	expect("S2's type 3 to its hub: to H", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_H, MAC_NIC0, NIC0_IP, H_IP, H_PORT);

	/* the index is the packet's bytes 4..8 as a little-endian u32: the
	 * same bytes in the other order are another index */
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, __builtin_bswap32(IDX_S1));
	expect("S1's index byte-swapped: PASS_NO_SESSION", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_SESSION), NULL);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, 0);
	expect("index 0, nobody's: PASS_NO_SESSION", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_SESSION), NULL);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_COOKIE_REPLY, WG_LEN_COOKIE_REPLY, 0xffffffffu);
	expect("type 3 with an unknown index: PASS_NO_SESSION", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_SESSION), NULL);
	del_session(H_IP, H_PORT, IDX_S1);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_S1);
	expect("S1's session removed: PASS_NO_SESSION", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_SESSION), NULL);
	set_session(H_IP, H_PORT, IDX_S1, S2_IP, S2_PORT, 0);
	expect("the index now S2's: to S2", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S2, MAC_NIC0, NIC0_IP, S2_IP, S2_PORT);

	/* a session under a hub endpoint does not make its IP's other ports hubs */
	hub_frame(&in, MAC_H, H_IP, H_PORT + 7, WG_MSG_TRANSPORT, 64, IDX_S2);
	expect("the hub's IP, another port: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	/* sessions are read only for a HUB-flagged source */
	set_session(A_IP, A_PORT, IDX_S2, S2_IP, S2_PORT, 0);
	hello_a_and_b();
	hub_frame(&in, MAC_A, A_IP, A_PORT, WG_MSG_TRANSPORT, 64, IDX_S2);
	expect("an ordinary peer with a stray session: to its partner", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, NIC0_IP, B_IP, B_PORT);
}

static void test_hub_handshakes_pass(void)
{
	struct frame in;
	struct wg_mac m;

	hub_setup();
	/* whatever their bytes 4..8 say (a type 2's receiver index is at 8..12) */
	hub_frame(&in, MAC_GW3, H_IP, H_PORT, WG_MSG_INITIATION, WG_LEN_INITIATION, IDX_S1);
	expect("hub type 1 (bytes 4..8 a known index): PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(mac_is(H_IP, MAC_GW3, t.if0), "the hub not learned from its initiation");
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_RESPONSE, WG_LEN_RESPONSE, IDX_S2);
	expect("hub type 2: PASS_HANDSHAKE", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_HANDSHAKE),
	       NULL);
	CHECK(!get_mac(H_IP, &m) && !memcmp(m.mac, MAC_H, 6),
	      "the hub not learned from its response");
	wg_frame(&in, MAC_S1, S1_IP, S1_PORT, WG_MSG_INITIATION, WG_LEN_INITIATION);
	expect("spoke type 1: PASS_HANDSHAKE", &in, t.if0, XDP_PASS, COUNTS(WG_STAT_PASS_HANDSHAKE),
	       NULL);
}

/* A hub entry with WG_PEER_F_PASS (a partner of the hub has an answered
 * roaming candidate): everything from the hub goes up. */
static void test_hub_pass_flag_passes_everything(void)
{
	struct frame in, out;

	hub_setup();
	set_peer(H_IP, H_PORT, "0.0.0.0", 0, 0, WG_PEER_F_HUB | WG_PEER_F_PASS);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_S1);
	expect("PASS-flagged hub, known index: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_COOKIE_REPLY, WG_LEN_COOKIE_REPLY, IDX_S2);
	expect("PASS-flagged hub, type 3: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, 12345);
	expect("PASS-flagged hub, unknown index: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_PEER), NULL);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_INITIATION, WG_LEN_INITIATION, IDX_S1);
	expect("PASS-flagged hub, type 1: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_HANDSHAKE), NULL);
	/* the spokes' frames to the hub are not the hub's to hold back */
	wg_frame(&in, MAC_S1, S1_IP, S1_PORT, WG_MSG_TRANSPORT, 64);
	expect("S1 to its PASS-flagged hub: forwarded", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&in, &out, MAC_H, MAC_NIC0, NIC0_IP, H_IP, H_PORT);

	set_peer(H_IP, H_PORT, "0.0.0.0", 0, 0, WG_PEER_F_HUB);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_S1);
	expect("flag cleared: forwarded to S1 again", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&in, &out, MAC_S1, MAC_NIC0, NIC0_IP, S1_IP, S1_PORT);
}

/* The same index under two hubs: each goes to its own hub's spoke. */
static void test_hub_index_collision(void)
{
	struct frame in, out;

	hub_setup();
	set_peer(H2_IP, H2_PORT, "0.0.0.0", 0, 0, WG_PEER_F_HUB);
	set_peer(S3_IP, S3_PORT, H2_IP, H2_PORT, 0, WG_PEER_F_PARTNER_HUB);
	hello(MAC_S3, S3_IP, S3_PORT, t.if0);
	set_session(H_IP, H_PORT, IDX_SHARED, S1_IP, S1_PORT, 0);
	set_session(H2_IP, H2_PORT, IDX_SHARED, S3_IP, S3_PORT, 0);

	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_SHARED);
	expect("shared index from H: to S1", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S1, MAC_NIC0, NIC0_IP, S1_IP, S1_PORT);
	hub_frame(&in, MAC_H, H2_IP, H2_PORT, WG_MSG_TRANSPORT, 64, IDX_SHARED);
	expect("shared index from H2: to S3", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S3, MAC_NIC0, NIC0_IP, S3_IP, S3_PORT);
	hub_frame(&in, MAC_H, H2_IP, H2_PORT, WG_MSG_TRANSPORT, 64, IDX_S1);
	expect("H's index sent by H2: PASS_NO_SESSION", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_SESSION), NULL);
	del_session(H_IP, H_PORT, IDX_SHARED);
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_SHARED);
	expect("shared index gone under H: PASS_NO_SESSION", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_SESSION), NULL);
	hub_frame(&in, MAC_H, H2_IP, H2_PORT, WG_MSG_TRANSPORT, 64, IDX_SHARED);
	expect("... and still H2's: to S3", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S3, MAC_NIC0, NIC0_IP, S3_IP, S3_PORT);
}

/* A session's spoke without a route behaves as a partner without one. */
static void test_hub_session_without_route(void)
{
	struct frame in, out;
	struct wg_peer_value v;

	hub_setup();
	hub_frame(&in, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_S1);

	/* S1's next hop forgotten (wg_macs is an LRU map), though its entry
	 * remembers seeing it: passed, and S1 is made to learn again */
	del_mac(S1_IP);
	CHECK(!get_peer(S1_IP, S1_PORT, &v) && v.route.seen_ifindex == t.if0,
	      "S1's entry has not seen its hello");
	expect("spoke's MAC unknown: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	CHECK(!get_peer(S1_IP, S1_PORT, &v) && v.route.seen_ifindex == 0,
	      "S1's entry still trusts what it saw: %u", v.route.seen_ifindex);
	wg_frame(&out, MAC_S1, S1_IP, S1_PORT, WG_MSG_TRANSPORT, 64);
	expect("S1's next frame: forwarded to H, and learned", &out, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), NULL);
	CHECK(mac_is(S1_IP, MAC_S1, t.if0), "S1 not learned again");
	expect("spoke's MAC learned again: to S1", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S1, MAC_NIC0, NIC0_IP, S1_IP, S1_PORT);

	/* a spoke never seen, without a wg_peers entry at all */
	set_session(H_IP, H_PORT, IDX_S1, C_IP, C_PORT, 0);
	expect("session to an endpoint never seen: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);

	/* the session's pinned egress NIC, as a partner's */
	set_session(H_IP, H_PORT, IDX_S1, S1_IP, S1_PORT, 4242);
	expect("session pinned to an ifindex that is no NIC: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	set_session(H_IP, H_PORT, IDX_S1, S1_IP, S1_PORT, t.if1);
	expect("session pinned to NIC1, not a tx port: TX_ERR", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_TX_ERR), NULL);
	set_tx_port(t.if1);
	expect("session pinned to NIC1: XDP_REDIRECT out of it", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S1, MAC_NIC1, NIC1_IP, S1_IP, S1_PORT);
	del_nic(t.if1);
	bump_epoch();
	expect("pinned NIC gone from wg_nics: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);

	/* a spoke whose hub has not been seen */
	del_mac(H_IP);
	wg_frame(&in, MAC_S2, S2_IP, S2_PORT, WG_MSG_TRANSPORT, 64);
	expect("hub's MAC unknown: S2's frame PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_PASS_NO_MAC), NULL);
	CHECK(!get_peer(H_IP, H_PORT, &v) && v.route.seen_ifindex == 0,
	      "the hub's entry still trusts what it saw");
}

/* Routes of hub links are not cached: a new next hop of either end, and a
 * changed NIC, apply to the very next frame. */
static void test_hub_routes_follow_next_hops(void)
{
	struct frame h2s1, s1h, in, out;

	hub_setup();
	set_tx_port(t.if0);
	set_tx_port(t.if1);
	hub_frame(&h2s1, MAC_H, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_S1);
	wg_frame(&s1h, MAC_S1, S1_IP, S1_PORT, WG_MSG_TRANSPORT, 64);
	expect("H to S1", &h2s1, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&h2s1, &out, MAC_S1, MAC_NIC0, NIC0_IP, S1_IP, S1_PORT);
	expect("S1 to H", &s1h, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&s1h, &out, MAC_H, MAC_NIC0, NIC0_IP, H_IP, H_PORT);

	/* S1 moves behind another next hop on NIC1 */
	wg_frame(&in, MAC_GW2, S1_IP, S1_PORT, WG_MSG_TRANSPORT, 64);
	expect("S1 via NIC1: redirected to H on NIC0", &in, t.if1, XDP_REDIRECT,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_H, MAC_NIC0, NIC0_IP, H_IP, H_PORT);
	expect("H to S1 after S1 moved: out of NIC1 to the new next hop", &h2s1, t.if0,
	       XDP_REDIRECT, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&h2s1, &out, MAC_GW2, MAC_NIC1, NIC1_IP, S1_IP, S1_PORT);

	/* the hub moves behind another next hop: every spoke follows at once
	 * (a pair's partner would have its cached route cleared; a hub has
	 * many, which is why spokes of a hub cache none) */
	hub_frame(&in, MAC_GW3, H_IP, H_PORT, WG_MSG_TRANSPORT, 64, IDX_S2);
	expect("H from a new MAC: to S2", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_S2, MAC_NIC0, NIC0_IP, S2_IP, S2_PORT);
	CHECK(mac_is(H_IP, MAC_GW3, t.if0), "the hub's new MAC not learned");
	expect("S1 to H after H moved: the new MAC", &s1h, t.if1, XDP_REDIRECT, COUNTS(WG_STAT_FWD),
	       &out);
	expect_rewritten(&s1h, &out, MAC_GW3, MAC_NIC0, NIC0_IP, H_IP, H_PORT);
	wg_frame(&in, MAC_S2, S2_IP, S2_PORT, WG_MSG_TRANSPORT, 64);
	expect("S2 to H after H moved: the new MAC", &in, t.if0, XDP_TX, COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW3, MAC_NIC0, NIC0_IP, H_IP, H_PORT);

	/* NIC0's address changes: no epoch needed for what is not cached, but
	 * it is bumped anyway as the helper does */
	set_nic(t.if0, NIC0_NEW_IP, MAC_NIC0_NEW);
	bump_epoch();
	expect("H to S2 after NIC0 changed: the new address", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW3, MAC_NIC0_NEW, NIC0_NEW_IP, H_IP, H_PORT);
}

static void test_pass_program(void)
{
	struct frame in, out;

	current = "wg_relay_pass passes everything";
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	CHECK(run_prog(t.pass_prog, &in, t.if0, &out) == XDP_PASS, "not XDP_PASS");
}

/* Every frame to the relay port counts exactly one of the counters
 * 0..WG_STAT__RX_PARTS-1 (their sum is the helper's rx); PASS_OTHER and
 * frames not for the relay are outside. */
/* xorshift32: reproducible from the seed the fuzz case prints */
static __u32 fuzz_state;

static __u32 fuzz_next(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 17;
	fuzz_state ^= fuzz_state << 5;
	return fuzz_state;
}

/* Hostile input: WireGuard-shaped frames from registered, unregistered and
 * blocked sources, with random bytes overwritten in the headers and the type
 * word, lengths rewritten, and frames cut short, run with the maps in a
 * forwarding state. Whatever arrives, the program must give a defined
 * verdict, count at most one counter (exactly one and the right kind for a
 * drop or a forward), leave what it passes or drops byte for byte, and send
 * only frames with a valid IP header from the relay port. FIXTURES_SEED
 * replays a run. */
static void test_mutated_frames(void)
{
	static const struct {
		const __u8 *mac;
		const char *ip;
		__u16 port;
	} sources[] = { { MAC_A, A_IP, A_PORT },   { MAC_B, B_IP, B_PORT },
			{ MAC_GW2, X_IP, X_PORT }, { MAC_GW3, D_IP, D_PORT },
			{ MAC_H, H_IP, H_PORT },   { MAC_S1, S1_IP, S1_PORT } };
	/* the receiver index wg_payload() leaves at bytes 4..8 of every frame */
	const __u32 payload_index = 0x5c | 0x63 << 8 | 0x6a << 16 | (__u32)0x71 << 24;
	static const __u32 types[] = { 1, 2, 3, 4, 4, 4 };
	static const __u32 lens[] = { 148, 92, 64, 32, 100, 1400 };
	const char *env = getenv("FIXTURES_SEED");
	__u32 seed = env ? (__u32)strtoul(env, NULL, 0) : (__u32)time(NULL) | 1;
	struct frame in, out;
	int before_checks = checks, before_failures = failures;
	int verdicts[5] = { 0 }, hub_forwarded = 0;

	printf("fixtures: mutated frames, FIXTURES_SEED=%u\n", seed);
	fuzz_state = seed;
	hello_a_and_b();
	hub_setup();
	set_session(H_IP, H_PORT, payload_index, S1_IP, S1_PORT, 0);
	set_block(D_IP, 0);
	set_tx_port(t.if0);
	set_tx_port(t.if1);
	current = "mutated frame";
	for (int i = 0; i < 20000 && failures - before_failures < 10; i++) {
		__u32 s = fuzz_next() % 6, k = fuzz_next() % 6;
		__u32 ingress = fuzz_next() % 2 ? t.if0 : t.if1;
		__u64 before[WG_STAT__MAX], after[WG_STAT__MAX];

		wg_frame(&in, sources[s].mac, sources[s].ip, sources[s].port, types[k], lens[k]);
		for (__u32 n = fuzz_next() % 4; n > 0; n--) /* headers and the type word */
			in.b[fuzz_next() % 46] = (__u8)fuzz_next();
		if (fuzz_next() % 4 == 0) /* UDP length */
			*(__u16 *)(in.b + 38) = (__u16)fuzz_next();
		if (fuzz_next() % 4 == 0) /* IP total length */
			*(__u16 *)(in.b + 16) = (__u16)fuzz_next();
		if (fuzz_next() % 4 == 0) /* cut short; the kernel takes no less than 14 bytes */
			in.len = 14 + fuzz_next() % (in.len - 13);

		stats_now(before);
		int v = run_prog(t.prog, &in, ingress, &out);

		stats_now(after);
		int moved = 0, which = -1;

		for (int c = 0; c < WG_STAT__MAX; c++)
			if (after[c] != before[c]) {
				moved += (int)(after[c] - before[c]);
				which = c;
			}
		CHECK(v == XDP_PASS || v == XDP_DROP || v == XDP_TX || v == XDP_REDIRECT,
		      "#%d: verdict %d", i, v);
		if (v >= 0 && v <= XDP_REDIRECT)
			verdicts[v]++;
		CHECK(moved <= 1, "#%d: %d counts for one frame", i, moved);
		CHECK(moved == 1 || v == XDP_PASS, "#%d: %s without a count", i, verdict_name(v));
		if (v == XDP_DROP)
			CHECK(which == WG_STAT_DROP_SHAPE || which == WG_STAT_DROP_BLOCK,
			      "#%d: DROP counted as %d", i, which);
		if (v == XDP_PASS || v == XDP_DROP)
			CHECK(out.len == in.len && !memcmp(out.b, in.b, in.len),
			      "#%d: frame modified on %s", i, verdict_name(v));
		if (v == XDP_TX || v == XDP_REDIRECT) {
			hub_forwarded += s == 4;
			CHECK(which == WG_STAT_FWD, "#%d: forward counted as %d", i, which);
			CHECK(out.len == in.len && csum16(out.b + 14, 20) == 0 &&
				      udp_of(&out)->source == htons(RELAY_PORT) &&
				      !memcmp(out.b + 42, in.b + 42, in.len - 42),
			      "#%d: forwarded frame malformed", i);
			__u32 ip_len = ntohs(ip_of(&out)->tot_len),
			      udp_len = ntohs(udp_of(&out)->len);

			CHECK(ip_len == 20 + udp_len && 14 + ip_len <= out.len && udp_len >= 8 + 32,
			      "#%d: forwarded with IP length %u, UDP length %u, frame %u", i,
			      ip_len, udp_len, out.len);
		}
	}
	if (failures != before_failures)
		fprintf(stderr, "fixtures: replay with FIXTURES_SEED=%u\n", seed);
	printf("fixtures: mutated frames: %d passed, %d dropped, %d sent back, %d redirected\n",
	       verdicts[XDP_PASS], verdicts[XDP_DROP], verdicts[XDP_TX], verdicts[XDP_REDIRECT]);
	CHECK(checks - before_checks > 20000, "fewer frames than planned ran");
	CHECK(verdicts[XDP_PASS] && verdicts[XDP_DROP] && verdicts[XDP_TX] &&
		      verdicts[XDP_REDIRECT],
	      "the mutations must reach every verdict");
	CHECK(hub_forwarded > 0, "no frame of the hub was forwarded");
}

static void test_counters_add_up(void)
{
	struct frame in, out;
	struct wg_peer_stat before, after;
	__u64 s0[WG_STAT__MAX], s1[WG_STAT__MAX], parts = 0;
	__u64 to_relay = 0, other = 0, fwd = 0;

	hello_a_and_b();

	current = "counters add up";
	peer_stat(A_IP, A_PORT, &before);
	stats_now(s0);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 1000);
	for (int i = 0; i < 100; i++, to_relay++, fwd++)
		run_prog(t.prog, &in, t.if0, &out);
	peer_stat(A_IP, A_PORT, &after);
	CHECK(after.packets - before.packets == 100 && after.bytes - before.bytes == 100000,
	      "A's per-peer deltas %llu/%llu, want 100/100000",
	      (unsigned long long)(after.packets - before.packets),
	      (unsigned long long)(after.bytes - before.bytes));

	/* one of each verdict, to the relay port */
	wg_frame(&in, MAC_B, B_IP, B_PORT, 4, 32); /* FWD */
	run_prog(t.prog, &in, t.if0, &out), to_relay++, fwd++;
	wg_frame(&in, MAC_A, X_IP, X_PORT, 4, 64); /* PASS_NO_PEER */
	run_prog(t.prog, &in, t.if0, &out), to_relay++;
	wg_frame(&in, MAC_A, X_IP, X_PORT, 1, 148); /* PASS_HANDSHAKE */
	run_prog(t.prog, &in, t.if0, &out), to_relay++;
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 20); /* DROP_SHAPE */
	run_prog(t.prog, &in, t.if0, &out), to_relay++;
	set_block(X_IP, 0);
	wg_frame(&in, MAC_A, X_IP, X_PORT, 4, 64); /* DROP_BLOCK */
	run_prog(t.prog, &in, t.if0, &out), to_relay++;
	del_block(X_IP);
	wg_frame(&in, MAC_A, D_IP, D_PORT, 4, 64); /* PASS_NO_MAC: C never seen */
	run_prog(t.prog, &in, t.if0, &out), to_relay++;
	set_mac(C_IP, MAC_GW2, t.if1); /* TX_ERR: NIC1 not a tx port */
	run_prog(t.prog, &in, t.if0, &out), to_relay++;
	set_peer(H_IP, H_PORT, "0.0.0.0", 0, 0, WG_PEER_F_HUB);
	hub_frame(&in, MAC_H, H_IP, H_PORT, 4, 64, IDX_S1); /* PASS_NO_SESSION */
	run_prog(t.prog, &in, t.if0, &out), to_relay++;

	/* not counted in rx */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	((struct ethhdr *)in.b)->h_proto = htons(ETH_P_ARP); /* PASS_OTHER */
	run_prog(t.prog, &in, t.if0, &out), other++;
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->dest = htons(RELAY_PORT + 1); /* not counted at all */
	run_prog(t.prog, &in, t.if0, &out);

	stats_now(s1);
	for (int i = 0; i < WG_STAT__RX_PARTS; i++) {
		CHECK(s1[i] > s0[i], "counter %d did not move", i);
		parts += s1[i] - s0[i];
	}
	CHECK(parts == to_relay, "counters 0..%d add up to %llu, want %llu", WG_STAT__RX_PARTS - 1,
	      (unsigned long long)parts, (unsigned long long)to_relay);
	CHECK(s1[WG_STAT_FWD] - s0[WG_STAT_FWD] == fwd, "fwd delta %llu, want %llu",
	      (unsigned long long)(s1[WG_STAT_FWD] - s0[WG_STAT_FWD]), (unsigned long long)fwd);
	CHECK(s1[WG_STAT_PASS_OTHER] - s0[WG_STAT_PASS_OTHER] == other,
	      "pass_other delta %llu, want %llu",
	      (unsigned long long)(s1[WG_STAT_PASS_OTHER] - s0[WG_STAT_PASS_OTHER]),
	      (unsigned long long)other);
}

/* ---- setup -------------------------------------------------------------- */

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		die("map %s missing", name);
	return bpf_map__fd(m);
}

int main(int argc, char **argv)
{
	static void (*const cases[])(void) = {
		test_unconfigured_port_passes_uncounted,
		test_forwarding_and_learning,
		test_handshakes_pass,
		test_unknown_and_flagged_sources_pass,
		test_missing_mac_or_nic_passes,
		test_egress_to_another_nic,
		test_route_follows_next_hop,
		test_nic_epoch,
		test_blocklist,
		test_unshaped_dropped,
		test_not_ours_or_not_parsed,
		test_truncated_frames,
		test_peer_stats,
		test_rewritten_entry,
		test_route_of_another_key_is_refilled,
		test_hostile_entries,
		test_hub_forwards_by_receiver_index,
		test_hub_handshakes_pass,
		test_hub_pass_flag_passes_everything,
		test_hub_index_collision,
		test_hub_session_without_route,
		test_hub_routes_follow_next_hops,
		test_pass_program,
		test_counters_add_up,
		test_mutated_frames,
	};
	struct bpf_object *obj;
	int err;

	if (argc != 2)
		die("usage: fixtures <wg_relay.bpf.o>");
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
	if (system("ip link add wgfx0 type veth peer name wgfx1 && ip link set lo up"))
		die("cannot create a veth pair in the private namespace");
	t.if0 = if_nametoindex("wgfx0");
	t.if1 = if_nametoindex("wgfx1");
	if (!t.if0 || !t.if1)
		die("veth ifindexes");

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		die("open %s: %s", argv[1], strerror(errno));
	err = bpf_object__load(obj);
	if (err)
		die("load %s: %s", argv[1], strerror(-err));
	t.prog = bpf_program__fd(bpf_object__find_program_by_name(obj, WG_PROG_RELAY));
	t.pass_prog = bpf_program__fd(bpf_object__find_program_by_name(obj, WG_PROG_PASS));
	t.config = map_fd(obj, WG_MAP_CONFIG);
	t.nics = map_fd(obj, WG_MAP_NICS);
	t.peers = map_fd(obj, WG_MAP_PEERS);
	t.sessions = map_fd(obj, WG_MAP_SESSIONS);
	t.macs = map_fd(obj, WG_MAP_MACS);
	t.blocklist = map_fd(obj, WG_MAP_BLOCKLIST);
	t.stats = map_fd(obj, WG_MAP_STATS);
	t.peer_stats = map_fd(obj, WG_MAP_PEER_STATS);
	t.tx_ports = map_fd(obj, WG_MAP_TX_PORTS);
	t.ncpus = libbpf_num_possible_cpus();
	if (t.ncpus <= 0 || t.ncpus > MAX_CPUS)
		die("possible cpus: %d", t.ncpus);
	watched[nwatched++] = 0;
	for (size_t i = 0; i < NSLOTS; i++)
		watched[nwatched++] = slot_table[i].slot;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset_state();
		cases[i]();
	}

	bpf_object__close(obj);
	printf("fixtures: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
