// SPDX-License-Identifier: GPL-2.0
/* attach.c -- the attachment stage: `attach` and `detach` put the relay
 * program on a NIC or take it off, and make that NIC a redirect target in
 * wg_tx_ports; `onexit` says whether the program stays attached after the
 * helper. XDP is attached through bpf_link rather than the netlink flags so
 * that the kernel itself detaches the program when the helper dies, however
 * it dies -- unless the link is pinned, which is exactly what `onexit keep`
 * does; the explicit detach here (on `detach`, and for every NIC on the way
 * out without keep) only makes that synchronous.
 *
 * An attach first looks for a program a helper kept on the NIC (pins.c): the
 * same build is adopted as it runs (its maps become ours, kernel forwarding
 * never stops); another build is replaced in one step by bpf_link_update --
 * the link's counterpart of XDP_FLAGS_REPLACE, a compare-and-swap on the
 * program the link runs -- on the kept maps when their layout is ours. The
 * answers carry the driver and kernel release because they are the fields of
 * the Java side's xdp_attached / xdp_attach_failed log lines.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../wg_relay_abi.h"
#include "attach.h"
#include "maps.h"
#include "pins.h"
#include "progs.h"
#include "protocol.h"

enum xdp_mode { MODE_DRV, MODE_SKB, MODE_AUTO };
static const char *const mode_names[] = { "drv", "skb", "auto" };

struct attachment {
	char iface[IF_NAMESIZE];
	__u32 ifindex;
	int link_fd; /* -1: slot free */
	enum xdp_mode mode;
	char answer[640]; /* the ok line of the attach, repeated when asked again */
};

static struct attachment nics[WG_MAX_NICS];
static char kernel[65];
static int keep_on_exit; /* `onexit keep`: links pinned, nothing detached at the end */

void attach_init(void)
{
	struct utsname u;

	for (int i = 0; i < WG_MAX_NICS; i++)
		nics[i].link_fd = -1;
	uname(&u);
	snprintf(kernel, sizeof(kernel), "%s", u.release);
}

static void detach_slot(struct attachment *a)
{
	/* explicit detach: synchronous, whatever else holds the link (its pin) */
	bpf_link_detach(a->link_fd);
	close(a->link_fd);
	bpf_map_delete_elem(maps.tx_ports_fd, &a->ifindex);
	pins_remove(a->iface);
	a->link_fd = -1;
	a->iface[0] = 0;
}

void attach_exit(void)
{
	for (int i = 0; i < WG_MAX_NICS; i++) {
		if (nics[i].link_fd < 0)
			continue;
		if (keep_on_exit)
			close(nics[i].link_fd); /* the pin holds the link */
		else
			detach_slot(&nics[i]);
	}
}

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
	int fd = bpf_link_create(progs_current()->prog_fd, (int)ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

static struct attachment *find_attached(const char *iface)
{
	for (int i = 0; i < WG_MAX_NICS; i++)
		if (nics[i].link_fd >= 0 && !strcmp(nics[i].iface, iface))
			return &nics[i];
	return NULL;
}

/* Takes over the program k found attached: adopts it when it is this build
 * (and, with another NIC already attached, the program that one runs), else
 * swaps in ours -- loaded on k's maps when their layout is ours -- with one
 * bpf_link_update that fails if the link no longer runs k's program. Returns
 * k's link fd (now ours; k keeps no claim on it) and writes the answer's
 * state fields to how, or -errno. */
static int take_kept(struct kept *k, char *how, size_t n)
{
	const struct prog_set *cur = progs_current();
	int same = k->meta_ok && k->meta.prog_hash == progs_prog_hash() &&
		   k->meta.abi_hash == progs_abi_hash();
	int fd = k->link_fd;

	if (same && (!progs_committed() || k->prog_id == cur->prog_id)) {
		if (k->prog_id != cur->prog_id)
			progs_adopt(k);
		k->link_fd = -1;
		snprintf(how, n, "state=adopted prog_id=%u", k->prog_id);
		return fd;
	}
	int kept_maps = 0;

	if (!progs_committed() && k->meta_ok && k->meta.abi_hash == progs_abi_hash()) {
		int err = progs_reload_on(k);

		kept_maps = !err;
		if (err)
			fprintf(stderr, "wg-relay-xdp-helper: loading on the kept maps: %s\n",
				strerror(-err));
	}
	cur = progs_current();
	LIBBPF_OPTS(bpf_link_update_opts, opts);
	if (k->prog_fd >= 0) {
		opts.flags = BPF_F_REPLACE;
		opts.old_prog_fd = k->prog_fd;
	}
	if (bpf_link_update(fd, cur->prog_fd, &opts))
		return -errno;
	k->link_fd = -1;
	snprintf(how, n, "state=replaced prog_id=%u old_prog_id=%u maps=%s", cur->prog_id,
		 k->prog_id, kept_maps ? "kept" : "new");
	return fd;
}

void cmd_attach(int argc, char **argv)
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
		    mode_names[want], kernel, strerror(ENODEV));
		return;
	}

	char driver[128];
	__u32 ifindex = if_nametoindex(iface);
	int err = ifindex ? 0 : errno;

	driver_of(iface, driver, sizeof(driver));
	if (!ifindex) {
		say("err attach iface=%s ifindex=0 mode=%s driver=%s kernel=%s reason=%s", iface,
		    mode_names[want], driver, kernel, strerror(err ? err : ENODEV));
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
			    iface, ifindex, mode_names[want], driver, kernel, mode_names[a->mode]);
		return;
	}
	for (int i = 0; i < WG_MAX_NICS && !a; i++)
		if (nics[i].link_fd < 0)
			a = &nics[i];
	if (!a) {
		say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s "
		    "reason=too many attached NICs",
		    iface, ifindex, mode_names[want], driver, kernel);
		return;
	}

	struct kept k;
	enum xdp_mode tried = want == MODE_SKB ? MODE_SKB : MODE_DRV;
	char fallback[160] = "", how[160];
	int fd, found = pins_find(iface, ifindex, &k);

	if (found < 0) {
		say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s reason=pins in %s: "
		    "%s",
		    iface, ifindex, mode_names[want], driver, kernel, pins_root(),
		    strerror(-found));
		return;
	}
	if (found && want != MODE_AUTO && (want == MODE_SKB) != k.skb) {
		/* A mode cannot be changed in place: the kept program goes, and
		 * userspace forwards until the fresh one below is synced. */
		bpf_link_detach(k.link_fd);
		kept_close(&k);
		pins_remove(iface);
		found = 0;
	}
	if (found) {
		fd = take_kept(&k, how, sizeof(how));
		if (fd < 0) {
			say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s reason=%s",
			    iface, ifindex, k.skb ? "skb" : "drv", driver, kernel, strerror(-fd));
			kept_close(&k);
			return;
		}
		tried = k.skb ? MODE_SKB : MODE_DRV;
		kept_close(&k);
	} else {
		fd = link_attach(ifindex, tried);
		if (fd < 0 && want == MODE_AUTO) {
			snprintf(fallback, sizeof(fallback), " fallback=drv:%s", strerror(-fd));
			tried = MODE_SKB;
			fd = link_attach(ifindex, tried);
		}
		if (fd < 0) {
			say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s reason=%s",
			    iface, ifindex, mode_names[tried], driver, kernel, strerror(-fd));
			return;
		}
		snprintf(how, sizeof(how), "state=fresh prog_id=%u", progs_current()->prog_id);
	}
	progs_commit();
	/* the NIC becomes a redirect target for frames arriving on the others */
	if (bpf_map_update_elem(maps.tx_ports_fd, &ifindex, &ifindex, BPF_ANY)) {
		err = errno;
		bpf_link_detach(fd);
		close(fd);
		pins_remove(iface);
		say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s reason=%s", iface,
		    ifindex, mode_names[tried], driver, kernel, map_error(WG_MAP_TX_PORTS, err));
		return;
	}
	snprintf(a->iface, sizeof(a->iface), "%s", iface);
	a->ifindex = ifindex;
	a->link_fd = fd;
	a->mode = tried;
	/* The program and maps are pinned for the next helper; the link only
	 * when it is to outlive this one. Without keep a failed pin costs only
	 * the adoption by a takeover; with keep it is the promise, so it fails. */
	if ((err = pins_save(iface, progs_current())) ||
	    (err = pins_link(iface, keep_on_exit ? fd : -1))) {
		if (keep_on_exit) {
			detach_slot(a);
			say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s "
			    "reason=pin in %s: %s",
			    iface, ifindex, mode_names[tried], driver, kernel, pins_root(),
			    strerror(-err));
			return;
		}
		fprintf(stderr, "wg-relay-xdp-helper: pinning %s in %s: %s\n", iface, pins_root(),
			strerror(-err));
	}
	snprintf(a->answer, sizeof(a->answer),
		 "ok attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s %s%s", iface, ifindex,
		 mode_names[tried], driver, kernel, how, fallback);
	say("%s", a->answer);
}

void cmd_detach(int argc, char **argv)
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

void cmd_onexit(int argc, char **argv)
{
	int keep;

	if (argc == 2 && !strcmp(argv[1], "keep"))
		keep = 1;
	else if (argc == 2 && !strcmp(argv[1], "detach"))
		keep = 0;
	else {
		say("err onexit reason=usage: onexit <keep|detach>");
		return;
	}
	/* keep: every attached NIC's link pinned now, or nothing changes */
	for (int i = 0; i < WG_MAX_NICS; i++) {
		if (nics[i].link_fd < 0)
			continue;
		int err = pins_link(nics[i].iface, keep ? nics[i].link_fd : -1);

		if (err && keep) {
			for (int j = 0; j < i; j++)
				if (nics[j].link_fd >= 0)
					pins_link(nics[j].iface, -1);
			say("err onexit reason=pin in %s: %s", pins_root(), strerror(-err));
			return;
		}
	}
	if (keep) {
		int err = pins_ready_root();

		if (err) {
			say("err onexit reason=pin in %s: %s", pins_root(), strerror(-err));
			return;
		}
	}
	keep_on_exit = keep;
	say("ok onexit %s", argv[1]);
}
