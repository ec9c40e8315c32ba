// SPDX-License-Identifier: GPL-2.0
/* attach.c -- the attachment stage: `attach` and `detach` put the relay
 * program on a NIC or take it off, and make that NIC a redirect target in
 * wg_tx_ports. XDP is attached through bpf_link rather than the netlink
 * flags so that the kernel itself detaches the program when the helper dies,
 * however it dies; the explicit detach here (on `detach`, and for every NIC
 * on the way out) only makes that synchronous. The answers carry the driver
 * and kernel release because they are the fields of the Java side's
 * xdp_attached / xdp_attach_failed log lines.
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
#include "protocol.h"

enum xdp_mode { MODE_DRV, MODE_SKB, MODE_AUTO };
static const char *const mode_names[] = { "drv", "skb", "auto" };

struct attachment {
	char iface[IF_NAMESIZE];
	__u32 ifindex;
	int link_fd; /* -1: slot free */
	enum xdp_mode mode;
	char answer[512]; /* the ok line of the attach, repeated when asked again */
};

static struct attachment nics[WG_MAX_NICS];
static int prog_fd;
static char kernel[65];

void attach_init(int fd)
{
	struct utsname u;

	for (int i = 0; i < WG_MAX_NICS; i++)
		nics[i].link_fd = -1;
	prog_fd = fd;
	uname(&u);
	snprintf(kernel, sizeof(kernel), "%s", u.release);
}

static void detach_slot(struct attachment *a)
{
	/* explicit detach: synchronous, whatever else holds the link */
	bpf_link_detach(a->link_fd);
	close(a->link_fd);
	bpf_map_delete_elem(maps.tx_ports_fd, &a->ifindex);
	a->link_fd = -1;
	a->iface[0] = 0;
}

void detach_all(void)
{
	for (int i = 0; i < WG_MAX_NICS; i++)
		if (nics[i].link_fd >= 0)
			detach_slot(&nics[i]);
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
	int fd = bpf_link_create(prog_fd, (int)ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

static struct attachment *find_attached(const char *iface)
{
	for (int i = 0; i < WG_MAX_NICS; i++)
		if (nics[i].link_fd >= 0 && !strcmp(nics[i].iface, iface))
			return &nics[i];
	return NULL;
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
		    ifindex, mode_names[tried], driver, kernel, strerror(-fd));
		return;
	}
	/* the NIC becomes a redirect target for frames arriving on the others */
	if (bpf_map_update_elem(maps.tx_ports_fd, &ifindex, &ifindex, BPF_ANY)) {
		err = errno;
		bpf_link_detach(fd);
		close(fd);
		say("err attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s reason=%s", iface,
		    ifindex, mode_names[tried], driver, kernel, map_error(WG_MAP_TX_PORTS, err));
		return;
	}
	snprintf(a->iface, sizeof(a->iface), "%s", iface);
	a->ifindex = ifindex;
	a->link_fd = fd;
	a->mode = tried;
	snprintf(a->answer, sizeof(a->answer),
		 "ok attach iface=%s ifindex=%u mode=%s driver=%s kernel=%s%s", iface, ifindex,
		 mode_names[tried], driver, kernel, fallback);
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
