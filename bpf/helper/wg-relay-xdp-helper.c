// SPDX-License-Identifier: GPL-2.0
/* wg-relay-xdp-helper -- the privileged hands of the Java loader.
 *
 * Loads wg_relay.bpf.o (argv[1]), owns the program and its maps for its
 * lifetime (nothing is pinned), and executes one command per stdin line,
 * answering on stdout strictly in order (see ../PROTOCOL.md). It holds no
 * policy: the Java side decides what goes into the maps; this program only
 * translates text into map writes and XDP attachments.
 *
 * Lifetime: XDP is attached through bpf_link, so the kernel detaches the
 * program when this process dies however it dies. On stdin EOF (the JVM
 * exited or closed the pipe) and on SIGTERM/SIGINT/SIGHUP the helper detaches
 * every NIC explicitly and exits 0; the process's exit is therefore the
 * barrier after which no NIC runs the program.
 *
 * Single-threaded: the command loop is the only writer of every map the
 * program does not write itself, and the only one that adds or removes
 * wg_peers entries (the program writes only the route inside their values).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../wg_relay_abi.h"

/* ---- the ABI as the Java side sees it ---------------------------------- */

/* Every field of every shared struct: (struct, field, offset, size). The
 * static_asserts below pin the header's layout to these numbers, and the
 * `abi` command prints them, so the Java layout is checked against what
 * this very binary was compiled with. */
#define WG_ABI_FIELDS(F)                       \
	F(wg_config, relay_port, 0, 2)         \
	F(wg_config, nic_epoch, 2, 2)          \
	F(wg_nic, ip, 0, 4)                    \
	F(wg_nic, mac, 4, 6)                   \
	F(wg_nic, pad, 10, 2)                  \
	F(wg_peer_key, ip, 0, 4)               \
	F(wg_peer_key, port, 4, 2)             \
	F(wg_peer_key, pad, 6, 2)              \
	F(wg_peer_value, partner_ip, 0, 4)     \
	F(wg_peer_value, partner_port, 4, 2)   \
	F(wg_peer_value, flags, 6, 2)          \
	F(wg_peer_value, egress_ifindex, 8, 4) \
	F(wg_peer_value, generation, 12, 4)    \
	F(wg_peer_value, stats_slot, 16, 4)    \
	F(wg_peer_value, route, 20, 44)        \
	F(wg_peer_route, seen_mac, 0, 6)       \
	F(wg_peer_route, nic_epoch, 6, 2)      \
	F(wg_peer_route, seen_ifindex, 8, 4)   \
	F(wg_peer_route, owner, 12, 8)         \
	F(wg_peer_route, hop_mac, 20, 6)       \
	F(wg_peer_route, pad1, 26, 2)          \
	F(wg_peer_route, nic_mac, 28, 6)       \
	F(wg_peer_route, pad2, 34, 2)          \
	F(wg_peer_route, nic_ip, 36, 4)        \
	F(wg_peer_route, tx_ifindex, 40, 4)    \
	F(wg_mac, mac, 0, 6)                   \
	F(wg_mac, pad, 6, 2)                   \
	F(wg_mac, ifindex, 8, 4)               \
	F(wg_peer_stat, packets, 0, 8)         \
	F(wg_peer_stat, bytes, 8, 8)

#define WG_ABI_STRUCTS(S)    \
	S(wg_config, 4)      \
	S(wg_nic, 12)        \
	S(wg_peer_key, 8)    \
	S(wg_peer_value, 64) \
	S(wg_peer_route, 44) \
	S(wg_mac, 12)        \
	S(wg_peer_stat, 16)

#define FIELD_SIZE(s, f) sizeof(((struct s *)0)->f)
#define ASSERT_FIELD(s, f, off, size)                                        \
	_Static_assert(offsetof(struct s, f) == (off), #s "." #f " offset"); \
	_Static_assert(FIELD_SIZE(s, f) == (size), #s "." #f " size");
#define ASSERT_STRUCT(s, size) _Static_assert(sizeof(struct s) == (size), #s " sizeof");
WG_ABI_FIELDS(ASSERT_FIELD)
WG_ABI_STRUCTS(ASSERT_STRUCT)
_Static_assert(sizeof(wg_block_expiry_t) == 8, "wg_blocklist value");
_Static_assert(WG_STAT__MAX == 8, "stats line lists every counter");
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
	[WG_STAT_PASS_OTHER] = "pass_other",
};

/* Their order on the line after rx: the protocol's, which the Java side
 * parses and which predates the enum's numbering. */
static const enum wg_stat stats_order[WG_STAT__MAX] = {
	WG_STAT_FWD,	    WG_STAT_PASS_NO_PEER,   WG_STAT_PASS_NO_MAC, WG_STAT_DROP_SHAPE,
	WG_STAT_DROP_BLOCK, WG_STAT_PASS_HANDSHAKE, WG_STAT_PASS_OTHER,	 WG_STAT_TX_ERR,
};

/* ---- state ------------------------------------------------------------- */

enum xdp_mode { MODE_DRV, MODE_SKB, MODE_AUTO };
static const char *const mode_names[] = { "drv", "skb", "auto" };

struct attachment {
	char iface[IF_NAMESIZE];
	__u32 ifindex;
	int link_fd; /* -1: slot free */
	enum xdp_mode mode;
	char answer[512]; /* the ok line of the attach, repeated when asked again */
};

static struct {
	struct bpf_object *obj;
	int prog_fd;
	int config_fd, nics_fd, peers_fd, blocklist_fd, stats_fd, peer_stats_fd, tx_ports_fd;
	int ncpus;
	struct wg_peer_stat *zero_stat; /* ncpus zeros: one wg_peer_stats slot */
	struct attachment nics[WG_MAX_NICS];
	char kernel[65];
} st;

/* wg_peer_stats slots. Each wg_peers entry counts into its own slot of the
 * per-CPU array; the helper hands them out (the program only follows
 * stats_slot), so this allocator is the only record of which are free. A
 * stack: the slot freed last is the one reused first. */
static struct {
	__u32 free[WG_MAX_PEERS]; /* free slots, the next one on top */
	__u32 nfree;
	__u8 used[WG_MAX_PEERS]; /* guards against freeing a slot twice */
} slots;

/* ---- output ------------------------------------------------------------ */

static void shutdown_and_exit(int code);

/* One line to the Java side. A failed write means nobody reads any more:
 * the same as EOF. */
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fflush(stdout) != 0 || ferror(stdout))
		shutdown_and_exit(0);
}

/* ---- detach / shutdown ------------------------------------------------- */

static void detach_slot(struct attachment *a)
{
	/* explicit detach: synchronous, whatever else holds the link */
	bpf_link_detach(a->link_fd);
	close(a->link_fd);
	bpf_map_delete_elem(st.tx_ports_fd, &a->ifindex);
	a->link_fd = -1;
	a->iface[0] = 0;
}

static void shutdown_and_exit(int code)
{
	for (int i = 0; i < WG_MAX_NICS; i++)
		if (st.nics[i].link_fd >= 0)
			detach_slot(&st.nics[i]);
	bpf_object__close(st.obj);
	_exit(code);
}

/* ---- parsing ----------------------------------------------------------- */

static int parse_u32(const char *s, __u32 max, __u32 *out)
{
	unsigned long long v = 0;

	if (!*s || strlen(s) > 10)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = (__u32)v;
	return 0;
}

static int parse_port(const char *s, __u16 *net)
{
	__u32 v;

	if (parse_u32(s, 65535, &v) || v == 0)
		return -1;
	*net = htons((__u16)v);
	return 0;
}

static int parse_ip(const char *s, __u32 *net)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*net = a.s_addr;
	return 0;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -1;
		char hex[3] = { p[0], p[1], 0 };

		mac[i] = (__u8)strtoul(hex, NULL, 16);
	}
	return 0;
}

static const char *ip_str(__u32 net, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = { .s_addr = net };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

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

static const char *map_error(const char *map, int err)
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
	int more = !bpf_map_get_next_key(st.peers_fd, NULL, &next);

	memset(slots.used, 0, sizeof(slots.used));
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(st.peers_fd, &key, &next);
		if (!bpf_map_lookup_elem(st.peers_fd, &key, &val) && val.stats_slot < WG_MAX_PEERS)
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

	if (bpf_map_lookup_elem(st.config_fd, &zero, &cfg))
		return -errno;
	if (++cfg.nic_epoch == 0)
		cfg.nic_epoch = 1;
	if (bpf_map_update_elem(st.config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

/* ---- attach / detach ---------------------------------------------------- */

static void driver_of(const char *iface, char *out, size_t n)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", iface);
	len = readlink(path, target, sizeof(target) - 1);
	if (len <= 0) {
		snprintf(out, n, "?");
		return;
	}
	target[len] = 0;
	const char *base = strrchr(target, '/');

	base = base ? base + 1 : target;
	len = (ssize_t)strnlen(base, n - 1);
	memcpy(out, base, (size_t)len);
	out[len] = 0;
}

static int link_attach(__u32 ifindex, enum xdp_mode mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts,
		    .flags = mode == MODE_DRV ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
	int fd = bpf_link_create(st.prog_fd, (int)ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

static struct attachment *find_attached(const char *iface)
{
	for (int i = 0; i < WG_MAX_NICS; i++)
		if (st.nics[i].link_fd >= 0 && !strcmp(st.nics[i].iface, iface))
			return &st.nics[i];
	return NULL;
}

static void cmd_attach(int argc, char **argv)
{
	if (argc != 3) {
		say("err attach reason=usage: attach <iface> <drv|skb|auto>");
		return;
	}
	const char *iface = argv[1];
	enum xdp_mode want;

	if (!strcmp(argv[2], "drv"))
		want = MODE_DRV;
	else if (!strcmp(argv[2], "skb"))
		want = MODE_SKB;
	else if (!strcmp(argv[2], "auto"))
		want = MODE_AUTO;
	else {
		say("err attach iface=%s reason=mode must be drv, skb or auto", iface);
		return;
	}
	if (strlen(iface) >= IF_NAMESIZE) {
		say("err attach iface=%s ifindex=0 mode=%s driver=? kernel=%s reason=%s", iface,
		    mode_names[want], st.kernel, strerror(ENODEV));
		return;
	}

	char driver[128];
	__u32 ifindex = if_nametoindex(iface);
	int err = ifindex ? 0 : errno;

	driver_of(iface, driver, sizeof(driver));
	if (!ifindex) {
		say("err attach iface=%s ifindex=0 mode=%s driver=%s kernel=%s reason=%s", iface,
		    mode_names[want], driver, st.kernel, strerror(err ? err : ENODEV));
		return;
	}

	struct attachment *a = find_attached(iface);

	if (a && a->ifindex != ifindex) {
		/* the NIC was deleted and re-created: the old link is defunct */
		detach_slot(a);
		a = NULL;
	}
	if (a) {
		/* idempotent for the same request; a different mode needs a detach */
		if (want == MODE_AUTO || want == a->mode)
			say("%s", a->answer);
		else
			say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s "
			    "reason=already attached in %s mode",
			    iface, ifindex, mode_names[want], driver, st.kernel,
			    mode_names[a->mode]);
		return;
	}
	for (int i = 0; i < WG_MAX_NICS && !a; i++)
		if (st.nics[i].link_fd < 0)
			a = &st.nics[i];
	if (!a) {
		say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s "
		    "reason=too many attached NICs",
		    iface, ifindex, mode_names[want], driver, st.kernel);
		return;
	}

	enum xdp_mode tried = want == MODE_SKB ? MODE_SKB : MODE_DRV;
	char fallback[160] = "";
	int fd = link_attach(ifindex, tried);

	if (fd < 0 && want == MODE_AUTO) {
		snprintf(fallback, sizeof(fallback), " fallback=drv:%s", strerror(-fd));
		tried = MODE_SKB;
		fd = link_attach(ifindex, tried);
	}
	if (fd < 0) {
		say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s reason=%s", iface,
		    ifindex, mode_names[tried], driver, st.kernel, strerror(-fd));
		return;
	}
	/* the NIC becomes a redirect target for frames arriving on the others */
	if (bpf_map_update_elem(st.tx_ports_fd, &ifindex, &ifindex, BPF_ANY)) {
		err = errno;
		bpf_link_detach(fd);
		close(fd);
		say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s reason=%s", iface,
		    ifindex, mode_names[tried], driver, st.kernel, map_error(WG_MAP_TX_PORTS, err));
		return;
	}
	snprintf(a->iface, sizeof(a->iface), "%s", iface);
	a->ifindex = ifindex;
	a->link_fd = fd;
	a->mode = tried;
	snprintf(a->answer, sizeof(a->answer),
		 "ok attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s%s", iface, ifindex,
		 mode_names[tried], driver, st.kernel, fallback);
	say("%s", a->answer);
}

static void cmd_detach(int argc, char **argv)
{
	if (argc != 2) {
		say("err detach reason=usage: detach <iface>");
		return;
	}
	struct attachment *a = find_attached(argv[1]);

	if (!a) {
		say("err detach iface=%s reason=not attached", argv[1]);
		return;
	}
	detach_slot(a);
	say("ok detach iface=%s", argv[1]);
}

/* ---- map commands ------------------------------------------------------- */

static void cmd_config(int argc, char **argv)
{
	struct wg_config cfg;
	__u16 port;
	__u32 zero = 0;

	if (argc != 2 || parse_port(argv[1], &port)) {
		say("err config reason=usage: config <relay_port 1..65535>");
		return;
	}
	/* read-modify-write: the NIC epoch is not the port's to reset */
	if (bpf_map_lookup_elem(st.config_fd, &zero, &cfg)) {
		say("err config reason=%s", map_error(WG_MAP_CONFIG, errno));
		return;
	}
	cfg.relay_port = port;
	if (bpf_map_update_elem(st.config_fd, &zero, &cfg, BPF_ANY)) {
		say("err config reason=%s", map_error(WG_MAP_CONFIG, errno));
		return;
	}
	say("ok config");
}

static void cmd_nic(int argc, char **argv)
{
	struct wg_nic nic = {};
	__u32 ifindex;
	int err;

	if (argc != 4 || parse_u32(argv[1], UINT32_MAX, &ifindex) || ifindex == 0 ||
	    parse_ip(argv[2], &nic.ip) || parse_mac(argv[3], nic.mac)) {
		say("err nic reason=usage: nic <ifindex> <ipv4> <mac>");
		return;
	}
	if (bpf_map_update_elem(st.nics_fd, &ifindex, &nic, BPF_ANY)) {
		say("err nic reason=%s", map_error(WG_MAP_NICS, errno));
		return;
	}
	if ((err = bump_nic_epoch())) {
		say("err nic reason=%s", map_error(WG_MAP_CONFIG, -err));
		return;
	}
	say("ok nic");
}

static void cmd_unnic(int argc, char **argv)
{
	__u32 ifindex;
	int err;

	if (argc != 2 || parse_u32(argv[1], UINT32_MAX, &ifindex) || ifindex == 0) {
		say("err unnic reason=usage: unnic <ifindex>");
		return;
	}
	if ((err = map_delete(st.nics_fd, &ifindex))) {
		say("err unnic reason=%s", map_error(WG_MAP_NICS, -err));
		return;
	}
	if ((err = bump_nic_epoch())) {
		say("err unnic reason=%s", map_error(WG_MAP_CONFIG, -err));
		return;
	}
	say("ok unnic");
}

static void cmd_peer(int argc, char **argv)
{
	struct wg_peer_key key = {};
	struct wg_peer_value val = {}, old;
	__u32 flags;

	if (argc != 8 || parse_ip(argv[1], &key.ip) || parse_port(argv[2], &key.port) ||
	    parse_ip(argv[3], &val.partner_ip) || parse_port(argv[4], &val.partner_port) ||
	    parse_u32(argv[5], UINT32_MAX, &val.egress_ifindex) ||
	    parse_u32(argv[6], 65535, &flags) || parse_u32(argv[7], UINT32_MAX, &val.generation)) {
		say("err peer reason=usage: peer <ip> <port> <partner_ip> <partner_port> "
		    "<egress_ifindex> <flags> <generation>");
		return;
	}
	if (flags & ~WG_PEER_F_KNOWN) {
		say("err peer reason=unknown flag bits 0x%x", flags & ~WG_PEER_F_KNOWN);
		return;
	}
	val.flags = (__u16)flags;
	/* val.route stays zero: the program refills it on the next frame */

	/* An update keeps the entry's slot, so its counters go on. */
	int exists = !bpf_map_lookup_elem(st.peers_fd, &key, &old);

	if (!exists && errno != ENOENT) {
		say("err peer reason=%s", map_error(WG_MAP_PEERS, errno));
		return;
	}
	if (exists) {
		val.stats_slot = old.stats_slot;
		if (bpf_map_update_elem(st.peers_fd, &key, &val, BPF_ANY))
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
	if (bpf_map_update_elem(st.peer_stats_fd, &val.stats_slot, st.zero_stat, BPF_ANY)) {
		say("err peer reason=%s", map_error(WG_MAP_PEER_STATS, errno));
		slot_put(val.stats_slot);
		return;
	}
	if (bpf_map_update_elem(st.peers_fd, &key, &val, BPF_ANY)) {
		say("err peer reason=%s", map_error(WG_MAP_PEERS, errno));
		slot_put(val.stats_slot);
		return;
	}
	say("ok peer");
}

static void cmd_unpeer(int argc, char **argv)
{
	struct wg_peer_key key = {};
	struct wg_peer_value val;
	int err;

	if (argc != 3 || parse_ip(argv[1], &key.ip) || parse_port(argv[2], &key.port)) {
		say("err unpeer reason=usage: unpeer <ip> <port>");
		return;
	}
	if (bpf_map_lookup_elem(st.peers_fd, &key, &val)) {
		if (errno == ENOENT)
			say("ok unpeer");
		else
			say("err unpeer reason=%s", map_error(WG_MAP_PEERS, errno));
		return;
	}
	if ((err = map_delete(st.peers_fd, &key))) {
		say("err unpeer reason=%s", map_error(WG_MAP_PEERS, -err));
		return;
	}
	/* The endpoint's counters go with it: nothing reports the slot any
	 * more, and a frame in flight that still counts into it is wiped when
	 * the slot is handed out again (see PROTOCOL.md). */
	slot_put(val.stats_slot);
	say("ok unpeer");
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns */
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void cmd_block(int argc, char **argv)
{
	__u32 ip, seconds;

	if (argc != 3 || parse_ip(argv[1], &ip) || parse_u32(argv[2], UINT32_MAX, &seconds)) {
		say("err block reason=usage: block <ip> <seconds, 0 = forever>");
		return;
	}
	wg_block_expiry_t expires = seconds ? monotonic_ns() + seconds * 1000000000ull : 0;

	if (bpf_map_update_elem(st.blocklist_fd, &ip, &expires, BPF_ANY)) {
		say("err block reason=%s", map_error(WG_MAP_BLOCKLIST, errno));
		return;
	}
	say("ok block");
}

static void cmd_unblock(int argc, char **argv)
{
	__u32 ip;
	int err;

	if (argc != 2 || parse_ip(argv[1], &ip)) {
		say("err unblock reason=usage: unblock <ip>");
		return;
	}
	if ((err = map_delete(st.blocklist_fd, &ip))) {
		say("err unblock reason=%s", map_error(WG_MAP_BLOCKLIST, -err));
		return;
	}
	say("ok unblock");
}

static void cmd_stats(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err stats reason=usage: stats");
		return;
	}
	__u64 totals[WG_STAT__MAX] = {}, rx = 0;
	/* big enough for one per-CPU value of either map */
	__u64 *cpu = calloc((size_t)st.ncpus, sizeof(struct wg_peer_stat));

	if (!cpu) {
		say("err stats reason=%s", strerror(ENOMEM));
		return;
	}
	for (__u32 i = 0; i < WG_STAT__MAX; i++) {
		if (bpf_map_lookup_elem(st.stats_fd, &i, cpu))
			continue;
		for (int c = 0; c < st.ncpus; c++)
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
	int more = !bpf_map_get_next_key(st.peers_fd, NULL, &next);

	while (more) {
		key = next;
		more = !bpf_map_get_next_key(st.peers_fd, &key, &next);
		if (bpf_map_lookup_elem(st.peers_fd, &key, &val) ||
		    bpf_map_lookup_elem(st.peer_stats_fd, &val.stats_slot, pcpu))
			continue;
		struct wg_peer_stat sum = {};

		for (int c = 0; c < st.ncpus; c++) {
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

static void cmd_clear(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err clear reason=usage: clear");
		return;
	}
	int err, epoch_err;

	err = map_clear(st.peers_fd, sizeof(struct wg_peer_key), WG_MAX_PEERS);
	if (!err)
		err = map_clear(st.nics_fd, sizeof(__u32), WG_MAX_NICS);
	if (!err)
		err = map_clear(st.blocklist_fd, sizeof(__u32), WG_MAX_BLOCKED);
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

static void cmd_abi(int argc, char **argv)
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

static void cmd_ping(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err ping reason=usage: ping");
		return;
	}
	say("pong");
}

static const struct {
	const char *name;
	void (*run)(int argc, char **argv);
} commands[] = {
	{ "attach", cmd_attach }, { "detach", cmd_detach }, { "config", cmd_config },
	{ "nic", cmd_nic },	  { "unnic", cmd_unnic },   { "peer", cmd_peer },
	{ "unpeer", cmd_unpeer }, { "block", cmd_block },   { "unblock", cmd_unblock },
	{ "stats", cmd_stats },	  { "clear", cmd_clear },   { "abi", cmd_abi },
	{ "ping", cmd_ping },
};

#define MAX_LINE 1024
#define MAX_FIELDS 16

/* Echoes a client-supplied word into an answer without letting it break
 * the line protocol. */
static const char *printable(const char *s)
{
	static char buf[40];
	size_t i;

	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = isgraph((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = 0;
	return buf[0] ? buf : "-";
}

static void run_line(char *line, size_t len)
{
	char *argv[MAX_FIELDS + 1];
	int argc = 0;

	if (len && line[len - 1] == '\r')
		line[--len] = 0;
	if (memchr(line, 0, len)) {
		say("err - reason=NUL byte in line");
		return;
	}
	for (char *save = NULL, *tok = strtok_r(line, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_FIELDS) {
			say("err %s reason=too many fields", printable(argv[0]));
			return;
		}
		argv[argc++] = tok;
	}
	if (argc == 0) {
		say("err - reason=empty line");
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name)) {
			/* every field is then safe to echo into an answer */
			for (int j = 1; j < argc; j++) {
				if (strlen(argv[j]) > 64) {
					say("err %s reason=field too long", argv[0]);
					return;
				}
				for (const char *c = argv[j]; *c; c++)
					if (!isgraph((unsigned char)*c)) {
						say("err %s reason=non-printable character",
						    argv[0]);
						return;
					}
			}
			commands[i].run(argc, argv);
			return;
		}
	say("err %s reason=unknown command", printable(argv[0]));
}

/* ---- startup and the loop ---------------------------------------------- */

static int libbpf_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level <= LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static void fatal(const char *fmt, ...)
{
	va_list ap;

	printf("fatal ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

static int map_fd(const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(st.obj, name);

	if (!m)
		fatal("map %s not in object", name);
	return bpf_map__fd(m);
}

static void load(const char *path)
{
	struct bpf_program *prog;
	int err;

	st.obj = bpf_object__open_file(path, NULL);
	if (!st.obj)
		fatal("open %s: %s", path, strerror(errno));
	/* only the relay program is loaded; wg_relay_pass is for `ip link` */
	bpf_object__for_each_program(prog, st.obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), WG_PROG_RELAY));
	prog = bpf_object__find_program_by_name(st.obj, WG_PROG_RELAY);
	if (!prog)
		fatal("program %s not in %s", WG_PROG_RELAY, path);
	err = bpf_object__load(st.obj);
	if (err)
		fatal("load %s: %s", path, strerror(-err));
	st.prog_fd = bpf_program__fd(prog);
	st.config_fd = map_fd(WG_MAP_CONFIG);
	st.nics_fd = map_fd(WG_MAP_NICS);
	st.peers_fd = map_fd(WG_MAP_PEERS);
	(void)map_fd(WG_MAP_MACS);
	st.blocklist_fd = map_fd(WG_MAP_BLOCKLIST);
	st.stats_fd = map_fd(WG_MAP_STATS);
	st.peer_stats_fd = map_fd(WG_MAP_PEER_STATS);
	st.tx_ports_fd = map_fd(WG_MAP_TX_PORTS);
	st.ncpus = libbpf_num_possible_cpus();
	if (st.ncpus <= 0)
		fatal("possible cpus: %s", strerror(-st.ncpus));
	st.zero_stat = calloc((size_t)st.ncpus, sizeof(struct wg_peer_stat));
	if (!st.zero_stat)
		fatal("%s", strerror(ENOMEM));
	slots_rebuild(); /* a fresh wg_peers: every slot free */
}

int main(int argc, char **argv)
{
	struct utsname u;
	sigset_t sigs;

	for (int i = 0; i < WG_MAX_NICS; i++)
		st.nics[i].link_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2)
		fatal("usage: wg-relay-xdp-helper <wg_relay.bpf.o>");
	uname(&u);
	snprintf(st.kernel, sizeof(st.kernel), "%s", u.release);
	libbpf_set_print(libbpf_warnings);

	/* Signals arrive as readable events next to stdin: no races with a
	 * blocking read, no work in a signal handler. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	if (sfd < 0)
		fatal("signalfd: %s", strerror(errno));
	/* Leave the caller's process group when driven through a pipe: a
	 * terminal's Ctrl-C then reaches only the JVM, which detaches in its
	 * own order and closes our stdin. */
	if (!isatty(STDIN_FILENO))
		setpgid(0, 0);

	load(argv[1]);

	static char buf[MAX_LINE + 1];
	size_t used = 0;
	int discarding = 0; /* inside an over-long line */

	for (;;) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			shutdown_and_exit(1);
		}
		if (p[1].revents & POLLIN)
			shutdown_and_exit(0);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(STDIN_FILENO, buf + used, MAX_LINE - used);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			shutdown_and_exit(0); /* EOF: the JVM is gone or let go */
		used += (size_t)n;
		char *start = buf, *nl;

		while ((nl = memchr(start, '\n', used - (size_t)(start - buf)))) {
			*nl = 0;
			if (discarding)
				discarding = 0;
			else
				run_line(start, (size_t)(nl - start));
			start = nl + 1;
		}
		used -= (size_t)(start - buf);
		memmove(buf, start, used);
		if (used == MAX_LINE) {
			/* no newline in MAX_LINE bytes: answer once, skip to the next newline */
			if (!discarding) {
				buf[32] = 0;
				char *word = strtok(buf, " \t");

				say("err %s reason=line too long", printable(word ? word : "-"));
			}
			discarding = 1;
			used = 0;
		}
	}
}
