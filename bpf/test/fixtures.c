// SPDX-License-Identifier: GPL-2.0
/* fixtures.c -- packet fixtures for wg_relay_xdp, run with BPF_PROG_TEST_RUN.
 *
 * Each case: maps in a known state, one crafted input frame, and the
 * expected verdict, output bytes and counter deltas (every wg_stats counter
 * is compared, so a case also proves that nothing else was counted).
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

#define RELAY_PORT 51820

static struct {
	int prog, pass_prog;
	int config, nics, peers, macs, blocklist, stats, peer_stats, tx_ports;
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

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fixtures: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ---- addresses ---------------------------------------------------------- */

static const __u8 MAC_A[6] = { 0x02, 0xaa, 0, 0, 0, 0x0a };
static const __u8 MAC_B[6] = { 0x02, 0xbb, 0, 0, 0, 0x0b };
static const __u8 MAC_GW2[6] = { 0x02, 0xcc, 0, 0, 0, 0x0c }; /* next hop on the second NIC */
static const __u8 MAC_NIC0[6] = { 0x02, 0x00, 0, 0, 0, 0x01 };
static const __u8 MAC_NIC1[6] = { 0x02, 0x00, 0, 0, 0, 0x02 };

static __u32 ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die("bad ip %s", s);
	return a.s_addr;
}

/* ---- frames ------------------------------------------------------------- */

struct frame {
	__u8 b[1600];
	__u32 len;
};

static __u16 csum16(const void *p, size_t n)
{
	const __u8 *b = p;
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

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

/* ---- maps --------------------------------------------------------------- */

static void stats_now(__u64 out[WG_STAT__MAX])
{
	__u64 cpu[1024];

	for (__u32 i = 0; i < WG_STAT__MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(t.stats, &i, cpu))
			die("stats lookup: %s", strerror(errno));
		for (int c = 0; c < t.ncpus; c++)
			out[i] += cpu[c];
	}
}

static int peer_stat(const char *ip, __u16 port, struct wg_peer_stat *sum)
{
	struct wg_peer_key key = { .ip = ip4(ip), .port = htons(port) };
	struct wg_peer_stat cpu[1024];

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(t.peer_stats, &key, cpu))
		return -1;
	for (int c = 0; c < t.ncpus; c++) {
		sum->rx_packets += cpu[c].rx_packets;
		sum->rx_bytes += cpu[c].rx_bytes;
		sum->fwd_packets += cpu[c].fwd_packets;
		sum->fwd_bytes += cpu[c].fwd_bytes;
	}
	return 0;
}

static void set_config(__u16 port)
{
	__u32 zero = 0;
	struct wg_config c = { .relay_port = htons(port) };

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

static void set_peer(const char *ip, __u16 port, const char *pip, __u16 pport, __u32 egress,
		     __u16 flags)
{
	struct wg_peer_key k = { .ip = ip4(ip), .port = htons(port) };
	struct wg_peer_value v = { .partner_ip = ip4(pip),
				   .partner_port = htons(pport),
				   .flags = flags,
				   .egress_ifindex = egress,
				   .generation = 1 };

	if (bpf_map_update_elem(t.peers, &k, &v, BPF_ANY))
		die("peer: %s", strerror(errno));
}

static void del_peer(const char *ip, __u16 port)
{
	struct wg_peer_key k = { .ip = ip4(ip), .port = htons(port) };

	bpf_map_delete_elem(t.peers, &k);
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

/* Runs `in` and checks verdict, output and that exactly the counters named
 * in `counted` (a -1 terminated list) went up by one. For PASS and DROP the
 * output must be the input, byte for byte. */
static void expect(const char *name, const struct frame *in, __u32 ingress, int verdict,
		   const int *counted, struct frame *out)
{
	__u64 before[WG_STAT__MAX], after[WG_STAT__MAX], want[WG_STAT__MAX];
	struct frame scratch;

	current = name;
	if (!out)
		out = &scratch;
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

/* ---- the cases ---------------------------------------------------------- */

#define A_IP "198.51.100.10"
#define A_PORT 40001
#define B_IP "203.0.113.20"
#define B_PORT 40002
#define C_IP "192.0.2.30" /* registered partner of D, never seen: no MAC */
#define D_IP "192.0.2.40"
#define D_PORT 40004
#define X_IP "192.0.2.99" /* unregistered */

static void reset_state(void)
{
	__u32 key = 0, next;
	__u64 blob[1024] = {};

	/* stats to zero, learning forgotten, fresh config */
	for (__u32 i = 0; i < WG_STAT__MAX; i++)
		bpf_map_update_elem(t.stats, &i, blob, BPF_ANY);
	while (!bpf_map_get_next_key(t.macs, NULL, &next)) {
		key = next;
		bpf_map_delete_elem(t.macs, &key);
	}
	set_config(RELAY_PORT);
	set_nic(t.if0, "10.99.0.1", MAC_NIC0);
	set_nic(t.if1, "10.98.0.1", MAC_NIC1);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	set_peer(B_IP, B_PORT, A_IP, A_PORT, 0, 0);
	set_peer(D_IP, D_PORT, C_IP, 40003, 0, 0);
}

static void test_unconfigured_port_passes_uncounted(void)
{
	struct frame f;
	__u32 zero = 0;
	struct wg_config off = {};

	bpf_map_update_elem(t.config, &zero, &off, BPF_ANY);
	wg_frame(&f, MAC_A, A_IP, A_PORT, 4, 64);
	expect("unconfigured relay port: passed, not counted", &f, t.if0, XDP_PASS, NONE, NULL);
	set_config(RELAY_PORT);
}

static void test_forwarding_and_learning(void)
{
	struct frame in, out;
	struct wg_mac m;
	struct wg_peer_stat ps;

	/* B speaks first: its MAC is learned, A's is unknown */
	wg_frame(&in, MAC_B, B_IP, B_PORT, 4, 32);
	expect("type 4 before the partner's MAC is known: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_NO_MAC), NULL);
	CHECK(get_mac(B_IP, &m) == 0, "B's MAC not learned");
	CHECK(!memcmp(m.mac, MAC_B, 6) && m.ifindex == t.if0 && m.pad == 0,
	      "B learned as wrong MAC/ifindex %u", m.ifindex);
	CHECK(get_mac(A_IP, &m) != 0, "A's MAC known before A sent anything");

	/* A's transport data goes out of the same NIC to B */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 96);
	expect("type 4 between linked peers: XDP_TX, rewritten", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_B, MAC_NIC0, "10.99.0.1", B_IP, B_PORT);
	CHECK(get_mac(A_IP, &m) == 0 && !memcmp(m.mac, MAC_A, 6) && m.ifindex == t.if0,
	      "A's MAC not learned while forwarding");
	CHECK(peer_stat(A_IP, A_PORT, &ps) == 0, "no per-peer stat for A");
	CHECK(ps.rx_packets == 1 && ps.rx_bytes == 96 && ps.fwd_packets == 1 && ps.fwd_bytes == 96,
	      "A's per-peer stat %llu/%llu/%llu/%llu", (unsigned long long)ps.rx_packets,
	      (unsigned long long)ps.rx_bytes, (unsigned long long)ps.fwd_packets,
	      (unsigned long long)ps.fwd_bytes);

	/* now B's is forwarded too (the smallest transport message) */
	wg_frame(&in, MAC_B, B_IP, B_PORT, 4, 32);
	expect("minimal type 4 (32 bytes) forwarded back", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_A, MAC_NIC0, "10.99.0.1", A_IP, A_PORT);

	wg_frame(&in, MAC_B, B_IP, B_PORT, 3, 64);
	expect("type 3 cookie reply forwarded like transport data", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_A, MAC_NIC0, "10.99.0.1", A_IP, A_PORT);
	CHECK(peer_stat(B_IP, B_PORT, &ps) == 0 && ps.fwd_packets == 2 && ps.fwd_bytes == 32 + 64 &&
		      ps.rx_packets == 2 && ps.rx_bytes == 96,
	      "B's per-peer stat %llu/%llu", (unsigned long long)ps.fwd_packets,
	      (unsigned long long)ps.fwd_bytes);

	/* Ethernet padding after the IP datagram is tolerated and kept */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 40);
	struct frame padded = in;

	memset(padded.b + padded.len, 0xee, 6);
	padded.len += 6;
	expect("trailing Ethernet padding: forwarded, padding untouched", &padded, t.if0, XDP_TX,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), &out);
	CHECK(out.len == padded.len && !memcmp(out.b + in.len, padded.b + in.len, 6),
	      "padding changed");

	/* A moves behind another next hop: learned again */
	wg_frame(&in, MAC_GW2, A_IP, A_PORT, 4, 32);
	expect("same IP from a new MAC: forwarded", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), NULL);
	CHECK(get_mac(A_IP, &m) == 0 && !memcmp(m.mac, MAC_GW2, 6), "MAC change not learned");
	set_mac(A_IP, MAC_A, t.if0);
}

static void test_handshakes_pass(void)
{
	struct frame in;
	struct wg_mac m;

	wg_frame(&in, MAC_A, A_IP, A_PORT, 1, 148);
	expect("type 1 initiation: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_HANDSHAKE), NULL);
	wg_frame(&in, MAC_B, B_IP, B_PORT, 2, 92);
	expect("type 2 response: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_HANDSHAKE), NULL);
	wg_frame(&in, MAC_A, X_IP, 5555, 1, 148);
	expect("type 1 from an unknown source: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(get_mac(X_IP, &m) != 0, "MAC learned from an unregistered source");

	/* a registered endpoint's handshake teaches its MAC */
	del_mac(D_IP);
	wg_frame(&in, MAC_GW2, D_IP, D_PORT, 1, 148);
	expect("type 1 from a registered endpoint: PASS_HANDSHAKE", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_HANDSHAKE), NULL);
	CHECK(get_mac(D_IP, &m) == 0 && !memcmp(m.mac, MAC_GW2, 6), "not learned from handshake");
}

static void test_unknown_and_flagged_sources_pass(void)
{
	struct frame in;

	wg_frame(&in, MAC_A, X_IP, 5555, 4, 64);
	expect("type 4 from an unregistered endpoint: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_NO_PEER), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT + 1, 4, 64);
	expect("registered IP, other port: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_NO_PEER), NULL);
	wg_frame(&in, MAC_A, X_IP, 5555, 3, 64);
	expect("type 3 from an unregistered endpoint: PASS_NO_PEER", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_NO_PEER), NULL);

	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, WG_PEER_F_PASS);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	expect("WG_PEER_F_PASS: transport data passed to userspace", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_NO_PEER), NULL);
	set_peer(A_IP, A_PORT, B_IP, B_PORT, 0, 0);
	expect("flag cleared: forwarded again", &in, t.if0, XDP_TX, COUNTS(WG_STAT_RX, WG_STAT_FWD),
	       NULL);
}

static void test_missing_mac_or_nic_passes(void)
{
	struct frame in;

	wg_frame(&in, MAC_A, D_IP, D_PORT, 4, 64);
	expect("partner never seen: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_NO_MAC), NULL);

	/* partner learned on a NIC the relay has no address for */
	set_mac(C_IP, MAC_B, 4242);
	expect("egress NIC without wg_nics entry: PASS_NO_MAC", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_PASS_NO_MAC), NULL);
	del_mac(C_IP);
}

static void test_egress_to_another_nic(void)
{
	struct frame in, out;

	/* C is reached through NIC1's next hop; D arrives on NIC0 */
	set_mac(C_IP, MAC_GW2, t.if1);
	wg_frame(&in, MAC_A, D_IP, D_PORT, 4, 200);
	expect("egress NIC not in wg_tx_ports: TX_ERR, passed untouched", &in, t.if0, XDP_PASS,
	       COUNTS(WG_STAT_RX, WG_STAT_TX_ERR), NULL);

	if (bpf_map_update_elem(t.tx_ports, &t.if1, &t.if1, BPF_ANY))
		die("tx_ports: %s", strerror(errno));
	expect("partner learned on another attached NIC: XDP_REDIRECT", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC1, "10.98.0.1", C_IP, 40003);

	/* a pinned egress wins over where the MAC was learned */
	set_mac(C_IP, MAC_GW2, t.if0);
	set_peer(D_IP, D_PORT, C_IP, 40003, t.if1, 0);
	expect("pinned egress NIC: XDP_REDIRECT out of it", &in, t.if0, XDP_REDIRECT,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC1, "10.98.0.1", C_IP, 40003);
	set_peer(D_IP, D_PORT, C_IP, 40003, t.if0, 0);
	expect("pinned egress == ingress: XDP_TX", &in, t.if0, XDP_TX,
	       COUNTS(WG_STAT_RX, WG_STAT_FWD), &out);
	expect_rewritten(&in, &out, MAC_GW2, MAC_NIC0, "10.99.0.1", C_IP, 40003);

	bpf_map_delete_elem(t.tx_ports, &t.if1);
	set_peer(D_IP, D_PORT, C_IP, 40003, 0, 0);
	del_mac(C_IP);
}

static void test_blocklist(void)
{
	struct frame in;

	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	set_block(A_IP, 0);
	expect("blocked forever: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_BLOCK), NULL);
	set_block(A_IP, monotonic_ns() + 60ull * 1000000000ull);
	expect("blocked for another minute: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_BLOCK), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 99, 10);
	expect("blocklist is checked before shape", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_BLOCK), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	set_block(A_IP, monotonic_ns() - 1000000ull);
	expect("expired block: forwarded", &in, t.if0, XDP_TX, COUNTS(WG_STAT_RX, WG_STAT_FWD),
	       NULL);
	del_block(A_IP);
	wg_frame(&in, MAC_A, X_IP, 5555, 1, 148);
	set_block(X_IP, 0);
	expect("blocked unknown source's handshake: DROP_BLOCK", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_BLOCK), NULL);
	del_block(X_IP);
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

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "unshaped type word 0x%x, %u bytes: DROP_SHAPE",
			 bad[i].type, bad[i].len);
		wg_frame(&in, MAC_A, A_IP, A_PORT, bad[i].type, bad[i].len);
		expect(name, &in, t.if0, XDP_DROP, COUNTS(WG_STAT_RX, WG_STAT_DROP_SHAPE), NULL);
	}

	/* lengths that disagree */
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->len = htons(8 + 63);
	expect("UDP length shorter than IP payload: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_SHAPE), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->len = htons(8 + 65);
	expect("UDP length beyond IP payload: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_SHAPE), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	udp_of(&in)->len = htons(7);
	expect("UDP length below its header: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_SHAPE), NULL);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	ip_of(&in)->tot_len = htons(20 + 8 + 64 + 10);
	udp_of(&in)->len = htons(8 + 64 + 10);
	refresh_ip_csum(&in);
	expect("IP total length beyond the frame: DROP_SHAPE", &in, t.if0, XDP_DROP,
	       COUNTS(WG_STAT_RX, WG_STAT_DROP_SHAPE), NULL);
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
			expect(name, &cut, t.if0, XDP_DROP, COUNTS(WG_STAT_RX, WG_STAT_DROP_SHAPE),
			       NULL);
		}
	}
}

static void test_pass_program(void)
{
	struct frame in, out;

	current = "wg_relay_pass passes everything";
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 64);
	CHECK(run_prog(t.pass_prog, &in, t.if0, &out) == XDP_PASS, "not XDP_PASS");
}

static void test_counters_add_up(void)
{
	struct frame in;
	struct wg_peer_stat before, after;
	__u64 s0[WG_STAT__MAX], s1[WG_STAT__MAX];

	current = "100 forwarded frames: FWD and per-peer stats count each";
	peer_stat(A_IP, A_PORT, &before);
	stats_now(s0);
	wg_frame(&in, MAC_A, A_IP, A_PORT, 4, 1000);
	for (int i = 0; i < 100; i++) {
		struct frame out;

		run_prog(t.prog, &in, t.if0, &out);
	}
	stats_now(s1);
	peer_stat(A_IP, A_PORT, &after);
	CHECK(s1[WG_STAT_RX] - s0[WG_STAT_RX] == 100 && s1[WG_STAT_FWD] - s0[WG_STAT_FWD] == 100,
	      "rx/fwd deltas %llu/%llu", (unsigned long long)(s1[WG_STAT_RX] - s0[WG_STAT_RX]),
	      (unsigned long long)(s1[WG_STAT_FWD] - s0[WG_STAT_FWD]));
	CHECK(after.fwd_packets - before.fwd_packets == 100 &&
		      after.fwd_bytes - before.fwd_bytes == 100000 &&
		      after.rx_bytes - before.rx_bytes == 100000,
	      "per-peer deltas");
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
	t.macs = map_fd(obj, WG_MAP_MACS);
	t.blocklist = map_fd(obj, WG_MAP_BLOCKLIST);
	t.stats = map_fd(obj, WG_MAP_STATS);
	t.peer_stats = map_fd(obj, WG_MAP_PEER_STATS);
	t.tx_ports = map_fd(obj, WG_MAP_TX_PORTS);
	t.ncpus = libbpf_num_possible_cpus();
	if (t.ncpus <= 0 || t.ncpus > 1024 / 4)
		die("possible cpus: %d", t.ncpus);

	reset_state();
	test_unconfigured_port_passes_uncounted();
	test_forwarding_and_learning();
	test_handshakes_pass();
	test_unknown_and_flagged_sources_pass();
	test_missing_mac_or_nic_passes();
	test_egress_to_another_nic();
	test_blocklist();
	test_unshaped_dropped();
	test_not_ours_or_not_parsed();
	test_truncated_frames();
	test_pass_program();
	test_counters_add_up();
	del_peer(X_IP, 5555);

	bpf_object__close(obj);
	printf("fixtures: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
