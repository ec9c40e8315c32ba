// SPDX-License-Identifier: GPL-2.0
/* microbench.c -- BPF run time per forwarded frame of wg_relay_xdp, and of
 * ../shared/bench's XDP_TX reference in the same run, via BPF_PROG_TEST_RUN.
 *
 * Each program runs `repeat` times over one transport frame (type 4, 128 B
 * payload). Test runs reuse the frame without resetting it, so the maps are
 * set up for a steady state in which the rewritten frame is forwarded again:
 * the partner of the relay's own address:port is the relay's own
 * address:port. The frame thus keeps taking the full forwarding path, and
 * every run's verdict is XDP_TX (checked through the counters afterwards).
 *
 * The same frame is then timed on the paths of hub links (bpf/README.md):
 * "hub" with the relay's endpoint a hub (WG_PEER_F_HUB) whose session for
 * the frame's receiver index is owned by itself, "spoke" with its partner a
 * hub (WG_PEER_F_PARTNER_HUB) -- both look their route up per frame.
 *
 * This is a micro benchmark: the frame and the map entries sit in a hot
 * cache. The live figure (docs/benchmarks.md section 4) is taken from the
 * attached programs under load; this one is for quick, quiet comparisons
 * while changing the program. Rounds alternate the programs and the medians
 * of ns/run and of the per-round ratio are printed.
 *
 * Needs only CAP_BPF and CAP_NET_ADMIN -- the relay's own capabilities --
 * so `make test` runs it with just those, proving that the verifier accepts
 * the program without CAP_PERFMON or CAP_SYS_ADMIN (it is stricter then:
 * no variable packet pointer arithmetic, no partial overwrite of a spilled
 * pointer).
 *
 * usage: microbench <wg_relay.bpf.o> [<xdp_tx_ref.bpf.o>|-] [rounds] [repeat]
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../wg_relay_abi.h"
#include "testlib.h"

#define RELAY_IP "10.99.0.1"
#define RELAY_PORT 51820
#define PAYLOAD 128
#define MAX_ROUNDS 101

static const __u8 MAC_NIC[6] = { 0x02, 0x00, 0, 0, 0, 0x01 };

/* A transport datagram as the program leaves it: from the relay's own
 * endpoint to itself, so every run sees the same frame. */
static __u32 build_frame(__u8 *b)
{
	struct ethhdr *eth = (void *)b;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u8 *payload = (void *)(udp + 1);

	memset(b, 0, sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + PAYLOAD);
	memcpy(eth->h_dest, MAC_NIC, 6);
	memcpy(eth->h_source, MAC_NIC, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + PAYLOAD);
	ip->frag_off = htons(0x4000);
	ip->ttl = 57;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = ip4(RELAY_IP);
	ip->daddr = ip4(RELAY_IP);
	ip->check = csum16(ip, sizeof(*ip));
	udp->source = htons(RELAY_PORT);
	udp->dest = htons(RELAY_PORT);
	udp->len = htons(sizeof(*udp) + PAYLOAD);
	for (int i = 0; i < PAYLOAD; i++)
		payload[i] = (__u8)(0x40 + i * 7);
	payload[0] = WG_MSG_TRANSPORT;
	payload[1] = payload[2] = payload[3] = 0;
	return (__u32)(sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + PAYLOAD);
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		die("map %s missing", name);
	return bpf_map__fd(m);
}

static void put(int fd, const void *key, const void *value)
{
	if (bpf_map_update_elem(fd, key, value, BPF_ANY))
		die("map update: %s", strerror(errno));
}

static struct bpf_object *load(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int err;

	if (!obj)
		die("open %s: %s", path, strerror(errno));
	err = bpf_object__load(obj);
	if (err)
		die("load %s: %s", path, strerror(-err));
	return obj;
}

/* wg_relay_xdp: the relay's own endpoint is a linked peer whose partner is
 * itself; its MAC is learned on the first run. */
static int setup_ours(struct bpf_object *obj, __u32 ifindex)
{
	__u32 zero = 0;
	struct wg_config cfg = { .relay_port = htons(RELAY_PORT) };
	struct wg_nic nic = { .ip = ip4(RELAY_IP) };
	struct wg_peer_key self = { .ip = ip4(RELAY_IP), .port = htons(RELAY_PORT) };
	struct wg_peer_value to_self = { .partner_ip = self.ip, .partner_port = self.port };

	memcpy(nic.mac, MAC_NIC, 6);
	put(map_fd(obj, WG_MAP_CONFIG), &zero, &cfg);
	put(map_fd(obj, WG_MAP_NICS), &ifindex, &nic);
	put(map_fd(obj, WG_MAP_PEERS), &self, &to_self);
	return bpf_program__fd(bpf_object__find_program_by_name(obj, WG_PROG_RELAY));
}

/* The hub links' paths on the same frame: flags for the relay's own entry,
 * and for a hub the session of the frame's receiver index (wg_payload's
 * bytes 4..8), owned by the relay's own endpoint again. */
static void setup_ours_as(struct bpf_object *obj, __u16 flags)
{
	struct wg_peer_key self = { .ip = ip4(RELAY_IP), .port = htons(RELAY_PORT) };
	struct wg_peer_value v = { .flags = flags };
	struct wg_session_key sk = { .hub_ip = self.ip, .hub_port = self.port };
	struct wg_session_value owner = { .owner_ip = self.ip, .owner_port = self.port };
	__u8 frame[256];

	build_frame(frame);
	memcpy(&sk.receiver_index, frame + 42 + 4, 4);
	if (!(flags & WG_PEER_F_HUB)) {
		v.partner_ip = self.ip;
		v.partner_port = self.port;
	}
	put(map_fd(obj, WG_MAP_PEERS), &self, &v);
	put(map_fd(obj, WG_MAP_SESSIONS), &sk, &owner);
}

/* The reference's maps, as ../shared/bench/xdp_ref.sh fills them. */
struct ref_ep {
	__u32 ip;
	__u16 port, pad;
};
struct ref_partner {
	__u32 ip;
	__u16 port;
	__u8 mac[6];
};

static int setup_ref(struct bpf_object *obj)
{
	__u32 zero = 0;
	struct ref_ep me = { .ip = ip4(RELAY_IP), .port = htons(RELAY_PORT) };
	struct ref_partner to_self = { .ip = me.ip, .port = me.port };

	memcpy(to_self.mac, MAC_NIC, 6);
	put(map_fd(obj, "relay_cfg"), &zero, &me);
	put(map_fd(obj, "pairs"), &me, &to_self);
	return bpf_program__fd(bpf_object__find_program_by_name(obj, "xdp_tx_ref"));
}

/* ns per run of `repeat` runs; the verdict of the last run in *verdict. */
static double run(int prog, __u32 ifindex, __u32 repeat, __u32 *verdict)
{
	__u8 frame[256], out[256];
	struct xdp_md ctx = { .ingress_ifindex = ifindex };
	__u32 len = build_frame(frame);

	ctx.data_end = len;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = repeat);
	if (bpf_prog_test_run_opts(prog, &opts))
		die("test run: %s", strerror(errno));
	*verdict = opts.retval;
	return (double)opts.duration; /* the kernel's average ns per run */
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	double ours[MAX_ROUNDS], ref[MAX_ROUNDS], ratio[MAX_ROUNDS];
	int rounds, prog, ref_prog = -1;
	__u32 repeat, ifindex, verdict;
	struct bpf_object *obj, *ref_obj = NULL;

	if (argc < 2 || argc > 5)
		die("usage: microbench <wg_relay.bpf.o> [<xdp_tx_ref.bpf.o>|-] [rounds] [repeat]");
	rounds = argc > 3 ? atoi(argv[3]) : 15;
	repeat = argc > 4 ? (__u32)strtoul(argv[4], NULL, 10) : 1000000;
	if (rounds < 1 || rounds > MAX_ROUNDS || repeat < 1)
		die("rounds 1..%d, repeat >= 1", MAX_ROUNDS);
	/* The frames never leave BPF_PROG_TEST_RUN; any existing device will do
	 * as the ingress NIC, and lo needs no privilege to create. */
	ifindex = if_nametoindex("lo");
	if (!ifindex)
		die("no lo device");

	obj = load(argv[1]);
	prog = setup_ours(obj, ifindex);
	if (argc > 2 && strcmp(argv[2], "-")) {
		ref_obj = load(argv[2]);
		ref_prog = setup_ref(ref_obj);
	}

	/* warm up: learning, caches */
	run(prog, ifindex, 1000, &verdict);
	if (verdict != XDP_TX)
		die("wg_relay_xdp: verdict %u, want XDP_TX (%u)", verdict, XDP_TX);
	if (ref_prog >= 0) {
		run(ref_prog, ifindex, 1000, &verdict);
		if (verdict != XDP_TX)
			die("xdp_tx_ref: verdict %u, want XDP_TX", verdict);
	}
	for (int r = 0; r < rounds; r++) {
		ours[r] = run(prog, ifindex, repeat, &verdict);
		if (ref_prog >= 0) {
			ref[r] = run(ref_prog, ifindex, repeat, &verdict);
			ratio[r] = ours[r] / ref[r];
		}
	}
	printf("wg_relay_xdp  %.1f ns/run (median of %d rounds x %u runs)\n", median(ours, rounds),
	       rounds, repeat);
	if (ref_prog >= 0) {
		printf("xdp_tx_ref    %.1f ns/run\n", median(ref, rounds));
		printf("ratio         %.2f (median of per-round ratios)\n", median(ratio, rounds));
	}

	static const struct {
		const char *name;
		__u16 flags;
	} hub_paths[] = { { "hub", WG_PEER_F_HUB }, { "spoke", WG_PEER_F_PARTNER_HUB } };

	for (size_t p = 0; p < sizeof(hub_paths) / sizeof(hub_paths[0]); p++) {
		setup_ours_as(obj, hub_paths[p].flags);
		run(prog, ifindex, 1000, &verdict);
		if (verdict != XDP_TX)
			die("wg_relay_xdp as a %s: verdict %u, want XDP_TX (%u)", hub_paths[p].name,
			    verdict, XDP_TX);
		for (int r = 0; r < rounds; r++)
			ours[r] = run(prog, ifindex, repeat, &verdict);
		printf("  as a %-6s %.1f ns/run\n", hub_paths[p].name, median(ours, rounds));
	}
	bpf_object__close(obj);
	if (ref_obj)
		bpf_object__close(ref_obj);
	return 0;
}
