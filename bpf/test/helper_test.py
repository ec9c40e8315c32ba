#!/usr/bin/env python3
"""helper_test.py -- the helper's line protocol, against the real kernel.

Runs wg-relay-xdp-helper inside namespaces it creates (a relay namespace and
a peer namespace joined by a veth pair, plus a bridge for the drv->skb
fallback), checks every answer of PROTOCOL.md, attaches in skb, drv and auto
mode, forwards real datagrams through the XDP program (per-endpoint counters
across upsert, unpeer and slot reuse; cached routes dropped by `unnic`; a hub's
datagrams to the spoke owning their receiver index), reads
the helper's maps through bpftool where it is installed (stats slots, the NIC
epoch), and checks that EOF, SIGTERM and even SIGKILL leave no program
attached. Everything it creates is deleted at the end, whatever happens.

usage: helper_test.py <wg-relay-xdp-helper> <wg_relay.bpf.o>   (root)
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

HELPER, OBJ = (os.path.abspath(p) for p in sys.argv[1:3])
TAG = "wgxt%d" % os.getpid()
NS_R, NS_P = TAG + "r", TAG + "p"          # relay side, peers side
DEV_R, DEV_P, BRIDGE = "wgr0", "wgp0", "wgbr0"
RELAY_IP, A_IP, B_IP = "10.201.0.1", "10.201.0.2", "10.201.0.3"
RELAY_PORT, A_PORT, B_PORT, C_PORT = 51820, 40001, 40002, 40003
KERNEL = os.uname().release
# Every helper here pins into a BPF file system of this run's own, mounted
# outside /sys: `ip netns exec` remounts /sys, so pins under /sys/fs/bpf
# would die with each helper's mount namespace (docs/xdp.md).
PIN_BASE = "/run/%s-bpffs" % TAG
PIN_ROOT = PIN_BASE + "/wg-relay"
os.environ["WG_RELAY_XDP_PIN_ROOT"] = PIN_ROOT
MAP_PINS = sorted(["wg_config", "wg_nics", "wg_peers", "wg_sessions", "wg_macs", "wg_blocklist",
                   "wg_stats", "wg_peer_stats", "wg_tx_ports", "wg_meta"])
BPFTOOL = shutil.which("bpftool")
RX_PARTS = ("fwd", "pass_no_peer", "pass_no_mac", "drop_shape", "drop_block", "pass_handshake",
            "tx_err", "pass_no_session")

# The whole `abi` answer, in order (PROTOCOL.md's example must match it).
ABI = """abi
wg_config.relay_port 0 2
wg_config.nic_epoch 2 2
wg_nic.ip 0 4
wg_nic.mac 4 6
wg_nic.pad 10 2
wg_peer_key.ip 0 4
wg_peer_key.port 4 2
wg_peer_key.pad 6 2
wg_peer_value.partner_ip 0 4
wg_peer_value.partner_port 4 2
wg_peer_value.flags 6 2
wg_peer_value.egress_ifindex 8 4
wg_peer_value.generation 12 4
wg_peer_value.stats_slot 16 4
wg_peer_value.route 20 44
wg_peer_route.seen_mac 0 6
wg_peer_route.nic_epoch 6 2
wg_peer_route.seen_ifindex 8 4
wg_peer_route.owner 12 8
wg_peer_route.hop_mac 20 6
wg_peer_route.pad1 26 2
wg_peer_route.nic_mac 28 6
wg_peer_route.pad2 34 2
wg_peer_route.nic_ip 36 4
wg_peer_route.tx_ifindex 40 4
wg_mac.mac 0 6
wg_mac.pad 6 2
wg_mac.ifindex 8 4
wg_peer_stat.packets 0 8
wg_peer_stat.bytes 8 8
wg_session_key.hub_ip 0 4
wg_session_key.hub_port 4 2
wg_session_key.pad 6 2
wg_session_key.receiver_index 8 4
wg_session_value.owner_ip 0 4
wg_session_value.owner_port 4 2
wg_session_value.pad 6 2
wg_session_value.egress_ifindex 8 4
wg_meta.magic 0 8
wg_meta.prog_hash 8 8
wg_meta.abi_hash 16 8
wg_config sizeof 4
wg_nic sizeof 12
wg_peer_key sizeof 8
wg_peer_value sizeof 64
wg_peer_route sizeof 44
wg_mac sizeof 12
wg_peer_stat sizeof 16
wg_session_key sizeof 12
wg_session_value sizeof 12
wg_meta sizeof 24
end""".split("\n")

failures = 0
checks = 0


def check(cond, what, detail=""):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL %s %s" % (what, detail), file=sys.stderr)


def sh(*args, check_rc=True):
    r = subprocess.run(args, capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def link(ns, dev):
    """`ip -j link show` of dev: the xdp attachment, if any, under 'xdp'."""
    out = sh("ip", "-n", ns, "-j", "-d", "link", "show", "dev", dev)
    return json.loads(out)[0]


def xdp_mode(ns, dev):
    """None, 'drv' or 'skb' as `ip link` reports it."""
    x = link(ns, dev).get("xdp")
    if not x:
        return None
    return {1: "drv", 2: "skb", 3: "hw"}.get(x.get("mode"), str(x.get("mode")))


def fresh(got, head, tail=""):
    """got is head, a fresh attach's state fields, then tail."""
    return re.fullmatch(re.escape(head) + r" state=fresh prog_id=[1-9][0-9]*" + re.escape(tail),
                        got) is not None


def wait_until(cond, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


class Helper:
    """The helper driven like the Java side drives it: lines in, lines out."""

    def __init__(self, obj=OBJ, ns=NS_R):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, HELPER] + ([obj] if obj else []),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, bufsize=0)
        self.buf = b""

    def write(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def line(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise TimeoutError("no answer; have %r" % self.buf)
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError("helper closed stdout; have %r" % self.buf)
            self.buf += chunk
        first, self.buf = self.buf.split(b"\n", 1)
        return first.decode()

    def ask(self, cmd):
        self.write(cmd.encode() + b"\n")
        return self.line()

    def ask_block(self, cmd):
        """A multi-line answer up to and including `end`."""
        first = self.ask(cmd)
        lines = [first]
        while lines[-1] != "end":
            lines.append(self.line())
        return lines

    def close(self, timeout=5.0):
        self.p.stdin.close()
        return self.p.wait(timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def stats(h):
    lines = h.ask_block("stats")
    fields = dict(kv.split("=") for kv in lines[0].split()[1:])
    peers = [l.split()[1:] for l in lines[1:-1]]
    return {k: int(v) for k, v in fields.items()}, peers


class Maps:
    """The maps of one running helper, read through bpftool. Found through the
    helper's own map fds (/proc/<pid>/fdinfo), not by name: other helpers on
    the host have maps of the same names. Fields are decoded with the offsets
    of the helper's `abi` answer; numbers in host order, as the helper writes
    them (addresses and ports stay raw bytes)."""

    def __init__(self, h):
        self.layout = {}
        for l in h.ask_block("abi")[1:-1]:
            name, a, b = l.split()
            if a != "sizeof":
                self.layout[name] = (int(a), int(b))
        self.ids = {}
        pids = [h.p.pid]
        try:    # `ip netns exec` execs the helper; should it ever fork, look at its child
            with open("/proc/%d/task/%d/children" % (h.p.pid, h.p.pid)) as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        for pid in pids:
            fdinfo = "/proc/%d/fdinfo" % pid
            for fd in os.listdir(fdinfo):
                try:
                    with open(os.path.join(fdinfo, fd)) as f:
                        m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
                except OSError:
                    continue
                if m:
                    info = json.loads(sh(BPFTOOL, "-j", "map", "show", "id", m.group(1)))
                    self.ids[info["name"]] = m.group(1)

    def lookup(self, map_name, key):
        """The raw value (bytes) at key, a list of per-CPU values for per-CPU
        maps, or None when the key is absent."""
        r = subprocess.run([BPFTOOL, "-j", "map", "lookup", "id", self.ids[map_name], "key",
                            "hex"] + ["%02x" % b for b in key], capture_output=True, text=True)
        if r.returncode != 0:
            return None
        out = json.loads(r.stdout)
        if "values" in out:
            return [bytes(int(x, 16) for x in v["value"]) for v in out["values"]]
        return bytes(int(x, 16) for x in out["value"])

    def field(self, raw, name, base=0):
        off, size = self.layout[name]
        return int.from_bytes(raw[base + off:base + off + size], sys.byteorder)

    def config(self):
        """(relay_port, nic_epoch) of wg_config."""
        raw = self.lookup("wg_config", bytes(4))
        off, size = self.layout["wg_config.relay_port"]
        return int.from_bytes(raw[off:off + size], "big"), self.field(raw, "wg_config.nic_epoch")

    def peer(self, ip, port):
        """The wg_peers value of (ip, port) as raw bytes, or None."""
        return self.lookup("wg_peers", socket.inet_aton(ip) + port.to_bytes(2, "big") + bytes(2))

    def slot(self, ip, port):
        raw = self.peer(ip, port)
        return None if raw is None else self.field(raw, "wg_peer_value.stats_slot")

    def slot_counts(self, slot):
        """(packets, bytes) of a wg_peer_stats slot, summed over the CPUs."""
        cpus = self.lookup("wg_peer_stats", slot.to_bytes(4, sys.byteorder))
        return (sum(self.field(v, "wg_peer_stat.packets") for v in cpus),
                sum(self.field(v, "wg_peer_stat.bytes") for v in cpus))


def maps_of(h, what):
    """Maps(h), or None (with a message) when bpftool is not installed."""
    if BPFTOOL:
        return Maps(h)
    if os.environ.get("CI") == "true":
        raise SystemExit("CI=true but bpftool is not installed: cannot check %s "
                         "(scripts/install-deps.sh --tests installs it)" % what)
    print("  SKIP %s: bpftool not installed" % what)
    return None


def setup():
    os.makedirs(PIN_BASE, exist_ok=True)
    sh("mount", "-t", "bpf", "bpf", PIN_BASE)
    sh("ip", "netns", "add", NS_R)
    sh("ip", "netns", "add", NS_P)
    sh("ip", "link", "add", DEV_R, "netns", NS_R, "type", "veth", "peer", "name", DEV_P,
       "netns", NS_P)
    sh("ip", "-n", NS_R, "link", "add", BRIDGE, "type", "bridge")
    for ns in (NS_R, NS_P):
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", NS_R, "addr", "add", RELAY_IP + "/24", "dev", DEV_R)
    sh("ip", "-n", NS_P, "addr", "add", A_IP + "/24", "dev", DEV_P)
    sh("ip", "-n", NS_P, "addr", "add", B_IP + "/24", "dev", DEV_P)
    sh("ip", "-n", NS_R, "link", "set", DEV_R, "up")
    sh("ip", "-n", NS_R, "link", "set", BRIDGE, "up")
    sh("ip", "-n", NS_P, "link", "set", DEV_P, "up")


def teardown():
    for ns in (NS_R, NS_P):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    # the namespaces' NICs are gone, so are the links; the pins go with the mount
    subprocess.run(["umount", PIN_BASE], capture_output=True)
    try:
        os.rmdir(PIN_BASE)
    except OSError:
        pass


def test_startup_failures():
    h = Helper(obj="/nonexistent/wg_relay.bpf.o")
    first = h.line()
    check(first.startswith("fatal open /nonexistent/wg_relay.bpf.o: "), "fatal on missing object",
          first)
    check(h.p.wait(5) == 1, "exit 1 after fatal")
    h = Helper(obj=None)
    first = h.line()
    check(first.startswith("fatal usage"), "fatal usage without argv[1]", first)
    check(h.p.wait(5) == 1, "exit 1 without argv[1]")
    h = Helper(obj="/etc/hostname")
    first = h.line()
    check(first.startswith("fatal "), "fatal on a file that is no BPF object", first)
    check(h.p.wait(5) == 1, "exit 1 on bad object")


def test_protocol(h):
    check(h.ask("ping") == "pong", "ping")
    abi = h.ask_block("abi")
    check(abi[0] == "abi" and abi[-1] == "end", "abi framing", abi[:1] + abi[-1:])
    check(abi == ABI, "abi dump, line for line and in order",
          str([(i, a, b) for i, (a, b) in enumerate(zip(abi, ABI)) if a != b][:3]))

    answers = {
        "config 51820": "ok config",
        "config 0": "err config reason=usage: config <relay_port 1..65535>",
        "config 65536": "err config reason=usage: config <relay_port 1..65535>",
        "config x": "err config reason=usage: config <relay_port 1..65535>",
        "nic 7 10.201.0.1 02:00:00:00:00:01": "ok nic",
        "nic 7 10.201.0.1 02:00:00:00:00:0g": "err nic reason=usage: nic <ifindex> <ipv4> <mac>",
        "nic 0 10.201.0.1 02:00:00:00:00:01": "err nic reason=usage: nic <ifindex> <ipv4> <mac>",
        "nic 7 10.201.0 02:00:00:00:00:01": "err nic reason=usage: nic <ifindex> <ipv4> <mac>",
        "unnic 7": "ok unnic",
        "unnic 7 ": "ok unnic",
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 0 1": "ok peer",
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 1 2": "ok peer",
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 2 2": "ok peer",     # WG_PEER_F_BLOCK_CHECK
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 3 3": "ok peer",     # both known bits
        "peer 10.0.0.1 1000 0.0.0.0 0 0 4 3": "ok peer",         # WG_PEER_F_HUB, no partner
        "peer 10.0.0.1 1000 0.0.0.0 0 0 15 3": "ok peer",        # every known bit
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 4 2": "err peer reason=a hub has no partner: 0.0.0.0 0",
        "peer 10.0.0.1 1000 0.0.0.0 2000 0 4 2": "err peer reason=a hub has no partner: 0.0.0.0 0",
        "peer 10.0.0.1 1000 10.0.0.2 0 0 5 2": "err peer reason=a hub has no partner: 0.0.0.0 0",
        "peer 10.0.0.1 1000 0.0.0.0 0 0 0 2": "err peer reason=usage: peer <ip> <port> "
            "<partner_ip> <partner_port> <egress_ifindex> <flags> <generation>",  # no hub
        "peer 10.0.0.1 1000 10.0.0.2 0 0 8 2": "err peer reason=usage: peer <ip> <port> "
            "<partner_ip> <partner_port> <egress_ifindex> <flags> <generation>",
        "peer 10.0.0.1 1000 0.0.0.0 65536 0 4 2": "err peer reason=usage: peer <ip> <port> "
            "<partner_ip> <partner_port> <egress_ifindex> <flags> <generation>",
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 8 2": "ok peer",     # WG_PEER_F_PARTNER_HUB
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 16 2": "err peer reason=unknown flag bits 0x10",
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 31 2": "err peer reason=unknown flag bits 0x10",
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 65535 2":
            "err peer reason=unknown flag bits 0xfff0",
        "peer 10.0.0.1 0 10.0.0.2 2000 0 0 1":
            "err peer reason=usage: peer <ip> <port> <partner_ip> <partner_port> "
            "<egress_ifindex> <flags> <generation>",
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 0":
            "err peer reason=usage: peer <ip> <port> <partner_ip> <partner_port> "
            "<egress_ifindex> <flags> <generation>",
        "peer ::1 1000 10.0.0.2 2000 0 0 1":
            "err peer reason=usage: peer <ip> <port> <partner_ip> <partner_port> "
            "<egress_ifindex> <flags> <generation>",
        "peer 10.0.0.1 1000 10.0.0.2 2000 -1 0 1":
            "err peer reason=usage: peer <ip> <port> <partner_ip> <partner_port> "
            "<egress_ifindex> <flags> <generation>",
        "unpeer 10.0.0.1 1000": "ok unpeer",
        "unpeer 10.0.0.1 1000 ": "ok unpeer",       # absent: still ok
        "unpeer 10.0.0.1": "err unpeer reason=usage: unpeer <ip> <port>",
        "session 10.0.0.1 1000 0 10.0.0.2 2000 0": "ok session",
        "session 10.0.0.1 1000 4294967295 10.0.0.2 2000 0": "ok session",
        "session 10.0.0.1 1000 4294967295 10.0.0.3 3000 7": "ok session",    # upsert
        "session 10.0.0.1 1000 4294967296 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 -1 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 0x10 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 12345678901 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 1e3 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 0 5 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 65536 5 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 5 10.0.0.2 0 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 5 10.0.0.2 2000 -1": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 5 10.0.0.2 2000 4294967296": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session ::1 1000 5 10.0.0.2 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 5 10.0.0 2000 0": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 5 10.0.0.2 2000": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session 10.0.0.1 1000 5 10.0.0.2 2000 0 9": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "session": "err session reason=usage: session <hub_ip> <hub_port> <receiver_index> "
            "<owner_ip> <owner_port> <egress_ifindex>",
        "unsession 10.0.0.1 1000 4294967295": "ok unsession",
        "unsession 10.0.0.1 1000 4294967295 ": "ok unsession",    # absent: still ok
        "unsession 10.0.0.1 1000": "err unsession reason=usage: unsession <hub_ip> <hub_port> <receiver_index>",
        "unsession 10.0.0.1 1000 4294967296": "err unsession reason=usage: unsession <hub_ip> <hub_port> <receiver_index>",
        "unsession 10.0.0.1 1000 x": "err unsession reason=usage: unsession <hub_ip> <hub_port> <receiver_index>",
        "unsession 10.0.0.1 1000 5 5": "err unsession reason=usage: unsession <hub_ip> <hub_port> <receiver_index>",
        "block 10.0.0.9 60": "ok block",
        "block 10.0.0.9 0": "ok block",
        "block 10.0.0.9 -5": "err block reason=usage: block <ip> <seconds, 0 = forever>",
        "unblock 10.0.0.9": "ok unblock",
        "unblock 10.0.0.9\t": "ok unblock",
        "clear": "ok clear",
        "clear now": "err clear reason=usage: clear",
        "ping 1": "err ping reason=usage: ping",
        "bogus": "err bogus reason=unknown command",
        "PING": "err PING reason=unknown command",
        "": "err - reason=empty line",
        "   ": "err - reason=empty line",
        "detach": "err detach reason=usage: detach <iface>",
        "detach nosuch9": "err detach iface=nosuch9 reason=not attached",
        "attach wgr0": "err attach reason=usage: attach <iface> <drv|skb|auto>",
        "attach wgr0 native": "err attach iface=wgr0 reason=mode must be drv, skb or auto",
        "attach nosuch0 drv": "err attach iface=nosuch0 ifindex=0 mode=drv driver=? kernel=%s "
                              "reason=No such device" % KERNEL,
        "attach nosuch0 auto": "err attach iface=nosuch0 ifindex=0 mode=auto driver=? "
                               "kernel=%s reason=No such device" % KERNEL,
        "ping " + "x" * 65: "err ping reason=field too long",
        "peer \x01 1 2 3 4 5 6": "err peer reason=non-printable character",
        "a b c d e f g h i j k l m n o p q": "err a reason=too many fields",
    }
    for cmd, want in answers.items():
        got = h.ask(cmd)
        check(got == want, "answer to %r" % cmd, "got %r want %r" % (got, want))

    # CRLF, NUL bytes, over-long lines; the stream stays in step afterwards
    h.write(b"ping\r\n")
    check(h.line() == "pong", "CRLF line")
    h.write(b"pi\x00ng\n")
    got = h.line()
    check(got == "err - reason=NUL byte in line", "NUL byte", got)
    h.write(b"peer " + b"y" * 5000 + b"\n")
    got = h.line()
    check(got == "err peer reason=line too long", "over-long line answered once", got)
    check(h.ask("ping") == "pong", "in step after an over-long line")

    # pipelined: many commands in one write, answers strictly in order
    batch = ["ping", "config 51820", "bogus", "stats", "unblock 1.2.3.4", "ping"]
    h.write(("\n".join(batch) + "\n").encode())
    got = [h.line() for _ in range(5)]
    got += [h.line(), h.line()]
    check(got[0] == "pong" and got[1] == "ok config" and got[2].startswith("err bogus")
          and got[3].startswith("stats rx=") and got[4] == "end" and got[5] == "ok unblock"
          and got[6] == "pong", "pipelined answers in order", str(got))

    st, peers = stats(h)
    check(list(st) == ["rx", "fwd", "pass_no_peer", "pass_no_mac", "drop_shape", "drop_block",
                       "pass_handshake", "pass_other", "tx_err", "pass_no_session"], "stats keys",
          str(list(st)))


def test_maps(h):
    """What the answers do not show: flags and stats slots in wg_peers, the
    NIC epoch in wg_config."""
    m = maps_of(h, "map checks (flags, stats slots, nic_epoch)")
    if m is None:
        return
    check(set(m.ids) >= {"wg_config", "wg_peers", "wg_peer_stats", "wg_nics"},
          "the helper's maps found through its fds", str(m.ids))

    # flags as given; an upsert keeps the entry's slot, a new entry takes another
    check(h.ask("peer 10.0.0.1 1000 10.0.0.2 2000 0 3 5") == "ok peer", "peer with flags 3")
    raw = m.peer("10.0.0.1", 1000)
    check(raw is not None and m.field(raw, "wg_peer_value.flags") == 3
          and m.field(raw, "wg_peer_value.generation") == 5, "flags 3 stored", repr(raw))
    check(raw is not None and raw[20:64] == bytes(44), "route written as zeros", repr(raw))
    slot1 = m.slot("10.0.0.1", 1000)
    check(h.ask("peer 10.0.0.1 1000 10.0.0.3 3000 0 2 6") == "ok peer", "upsert with flags 2")
    raw = m.peer("10.0.0.1", 1000)
    check(m.field(raw, "wg_peer_value.flags") == 2 and m.slot("10.0.0.1", 1000) == slot1,
          "upsert: flags 2 stored, same slot", "slot %s -> %s" % (slot1, m.slot("10.0.0.1", 1000)))
    check(h.ask("peer 10.0.0.4 1000 10.0.0.3 3000 0 16 6").startswith("err peer"),
          "flags 16 refused")
    check(m.peer("10.0.0.4", 1000) is None, "refused peer not written")
    check(h.ask("peer 10.0.0.4 1000 10.0.0.3 3000 0 0 1") == "ok peer", "second endpoint")
    slot2 = m.slot("10.0.0.4", 1000)
    check(slot2 is not None and slot2 != slot1, "second endpoint: its own slot",
          "%s %s" % (slot1, slot2))
    check(h.ask("unpeer 10.0.0.1 1000") == "ok unpeer", "unpeer first")
    check(m.peer("10.0.0.1", 1000) is None, "unpeer deletes the entry")
    check(h.ask("peer 10.0.0.5 1000 10.0.0.3 3000 0 0 1") == "ok peer", "third endpoint")
    check(m.slot("10.0.0.5", 1000) == slot1, "freed slot handed out again",
          "%s %s" % (slot1, m.slot("10.0.0.5", 1000)))
    check(h.ask("clear") == "ok clear", "clear with entries")
    check(h.ask("peer 10.0.0.6 1000 10.0.0.3 3000 0 0 1") == "ok peer", "peer after clear")
    check(m.slot("10.0.0.6", 1000) == 0, "clear frees every slot: slot 0 first",
          str(m.slot("10.0.0.6", 1000)))

    # wg_sessions: the receiver index is stored as the packet carries it
    # (little-endian), addresses and ports in network order
    check(h.ask("session 10.0.0.1 1000 16909060 10.0.0.2 2000 7") == "ok session",
          "session 0x01020304")
    skey = socket.inet_aton("10.0.0.1") + (1000).to_bytes(2, "big") + bytes(2)
    raw = m.lookup("wg_sessions", skey + bytes([4, 3, 2, 1]))
    check(raw == socket.inet_aton("10.0.0.2") + (2000).to_bytes(2, "big") + bytes(2)
          + (7).to_bytes(4, sys.byteorder), "session key and value as the program reads them",
          repr(raw))
    check(m.lookup("wg_sessions", skey + bytes([1, 2, 3, 4])) is None,
          "no session under the byte-swapped index")
    check(h.ask("session 10.0.0.1 1000 4294967295 10.0.0.2 2001 0") == "ok session",
          "session 0xffffffff")
    check(m.lookup("wg_sessions", skey + bytes([255] * 4)) is not None, "session 0xffffffff stored")
    check(h.ask("unsession 10.0.0.1 1000 16909060") == "ok unsession", "unsession")
    check(m.lookup("wg_sessions", skey + bytes([4, 3, 2, 1])) is None, "unsession deletes it")
    check(h.ask("clear") == "ok clear", "clear with a session")
    check(m.lookup("wg_sessions", skey + bytes([255] * 4)) is None, "clear empties wg_sessions")
    check(h.ask("peer 10.0.0.8 1000 0.0.0.0 0 0 4 1") == "ok peer", "a hub's entry")
    raw = m.peer("10.0.0.8", 1000)
    check(raw is not None and raw[:6] == bytes(6) and m.field(raw, "wg_peer_value.flags") == 4,
          "a hub's entry: no partner, WG_PEER_F_HUB", repr(raw))

    # every change of wg_nics gives wg_config a new nic_epoch; nothing else does
    check(h.ask("config 51820") == "ok config", "config before the epoch checks")
    port, e0 = m.config()
    check(port == 51820, "config writes the relay port", str(port))
    check(h.ask("nic 7 10.201.0.1 02:00:00:00:00:01") == "ok nic", "nic for the epoch")
    _, e1 = m.config()
    check(e1 != e0 and e1 != 0, "nic changes nic_epoch", "%d -> %d" % (e0, e1))
    check(h.ask("nic 7 10.201.0.1 02:00:00:00:00:0x").startswith("err nic"), "bad nic")
    check(h.ask("peer 10.0.0.7 1000 10.0.0.3 3000 0 0 1") == "ok peer", "peer for the epoch")
    check(h.ask("block 10.0.0.9 0") == "ok block", "block for the epoch")
    check(m.config()[1] == e1, "failed nic, peer, block keep nic_epoch", str(m.config()))
    check(h.ask("config 51821") == "ok config", "config keeps the epoch")
    check(m.config() == (51821, e1), "config: new port, nic_epoch kept", str(m.config()))
    check(h.ask("nic 7 10.201.0.1 02:00:00:00:00:02") == "ok nic", "nic again")
    _, e2 = m.config()
    check(e2 not in (e1, 0), "nic update changes nic_epoch", "%d -> %d" % (e1, e2))
    check(h.ask("unnic 7") == "ok unnic", "unnic for the epoch")
    _, e3 = m.config()
    check(e3 not in (e2, 0), "unnic changes nic_epoch", "%d -> %d" % (e2, e3))
    check(h.ask("clear") == "ok clear", "clear for the epoch")
    port, e4 = m.config()
    check(e4 not in (e3, 0), "clear changes nic_epoch", "%d -> %d" % (e3, e4))
    check(port == 51821, "clear keeps the relay port", str(port))
    check(h.ask("config 51820") == "ok config" and m.config() == (51820, e4),
          "config after clear keeps the epoch", str(m.config()))


def test_attach_modes(h):
    ifindex = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % DEV_R))
    prefix = "iface=%s ifindex=%d" % (DEV_R, ifindex)

    got = h.ask("attach %s skb" % DEV_R)
    check(fresh(got, "ok attach %s mode=skb driver=? kernel=%s" % (prefix, KERNEL)), "attach skb", got)
    check(xdp_mode(NS_R, DEV_R) == "skb", "ip link shows xdpgeneric", str(xdp_mode(NS_R, DEV_R)))
    got = h.ask("attach %s skb" % DEV_R)
    check(got.startswith("ok attach %s mode=skb" % prefix), "attach again: same answer", got)
    got = h.ask("attach %s drv" % DEV_R)
    check(got == "err attach %s mode=drv driver=? kernel=%s reason=already attached in skb mode"
          % (prefix, KERNEL), "attach in another mode refused", got)
    check(h.ask("detach " + DEV_R) == "ok detach iface=" + DEV_R, "detach skb")
    check(xdp_mode(NS_R, DEV_R) is None, "no xdp after detach")
    check(h.ask("detach " + DEV_R) == "err detach iface=%s reason=not attached" % DEV_R,
          "second detach")

    # someone else's XDP program is never replaced
    sh("ip", "-n", NS_R, "link", "set", "dev", DEV_R, "xdpdrv", "object", OBJ, "section", "xdp",
       "program", "wg_relay_pass")
    got = h.ask("attach %s drv" % DEV_R)
    check(got == "err attach %s mode=drv driver=? kernel=%s reason=Device or resource busy"
          % (prefix, KERNEL), "attach over a foreign XDP program refused", got)
    sh("ip", "-n", NS_R, "link", "set", "dev", DEV_R, "xdpdrv", "off")

    got = h.ask("attach %s drv" % DEV_R)
    check(fresh(got, "ok attach %s mode=drv driver=? kernel=%s" % (prefix, KERNEL)), "attach drv", got)
    check(xdp_mode(NS_R, DEV_R) == "drv", "ip link shows native xdp", str(xdp_mode(NS_R, DEV_R)))
    check(h.ask("detach " + DEV_R) == "ok detach iface=" + DEV_R, "detach drv")
    check(xdp_mode(NS_R, DEV_R) is None, "no xdp after drv detach")

    got = h.ask("attach %s auto" % DEV_R)
    check(fresh(got, "ok attach %s mode=drv driver=? kernel=%s" % (prefix, KERNEL)),
          "auto on veth: drv, no fallback", got)
    check(h.ask("detach " + DEV_R) == "ok detach iface=" + DEV_R, "detach auto")

    # a bridge has no native XDP: drv fails with the kernel's reason, auto falls back
    br = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % BRIDGE))
    got = h.ask("attach %s drv" % BRIDGE)
    check(got.startswith("err attach iface=%s ifindex=%d mode=drv driver=? kernel=%s reason="
                         % (BRIDGE, br, KERNEL)) and len(got.split("reason=", 1)[1]) > 0,
          "drv on a bridge fails with a reason", got)
    drv_reason = got.split("reason=", 1)[1]
    got = h.ask("attach %s auto" % BRIDGE)
    check(fresh(got, "ok attach iface=%s ifindex=%d mode=skb driver=? kernel=%s" % (BRIDGE, br, KERNEL),
                " fallback=drv:" + drv_reason), "auto on a bridge falls back to skb", got)
    check(xdp_mode(NS_R, BRIDGE) == "skb", "bridge runs xdpgeneric")
    print("  drv on a bridge: %s" % drv_reason)

    # the NIC deleted and re-created under the same name: a fresh attach
    sh("ip", "-n", NS_R, "link", "del", BRIDGE)
    sh("ip", "-n", NS_R, "link", "add", BRIDGE, "type", "bridge")
    br2 = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % BRIDGE))
    got = h.ask("attach %s skb" % BRIDGE)
    check(fresh(got, "ok attach iface=%s ifindex=%d mode=skb driver=? kernel=%s" % (BRIDGE, br2, KERNEL)),
          "re-created NIC attached again", got)
    check(xdp_mode(NS_R, BRIDGE) == "skb", "re-created bridge runs xdpgeneric")


def peers_ns_python(code, timeout=10):
    return subprocess.run(["ip", "netns", "exec", NS_P, sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=timeout)


def send_to_b(src_port, length, src_ip=A_IP, timeout=3):
    """One type-4 datagram of `length` payload bytes from src_ip:src_port to
    the relay; what B saw: ["got"|"different", ip, port] or ["timeout"]."""
    code = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("%(S)s", %(SP)d))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("%(B)s", %(BP)d))
b.settimeout(%(T)s)
msg = bytes([4, 0, 0, 0]) + bytes(i %% 256 for i in range(%(N)d - 4))
s.sendto(msg, ("%(R)s", %(RP)d))
try:
    data, src = b.recvfrom(2048)
    print("got" if data == msg else "different", src[0], src[1])
except socket.timeout:
    print("timeout")
""" % {"S": src_ip, "SP": src_port, "B": B_IP, "BP": B_PORT, "T": timeout, "N": length,
       "R": RELAY_IP, "RP": RELAY_PORT}
    r = peers_ns_python(code, timeout=timeout + 10)
    return r.stdout.split() or [r.stderr.strip()]


def peerstat_of(peers, ip, port):
    """The counters of one peerstat line, or None when it has none."""
    for p in peers:
        if p[:2] == [ip, str(port)]:
            return [int(x) for x in p[2:]]
    return None


def test_forwarding_on_veth(h):
    """Real type-4 datagrams A -> relay -> B, forwarded by XDP_TX."""
    ifindex = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % DEV_R))
    mac = link(NS_R, DEV_R)["address"]
    # the veth peer must run XDP itself to receive XDP_TX frames
    sh("ip", "-n", NS_P, "link", "set", "dev", DEV_P, "xdpdrv", "object", OBJ, "section", "xdp",
       "program", "wg_relay_pass")
    check(h.ask("attach %s drv" % DEV_R).startswith("ok attach"), "attach for forwarding")
    for cmd in ("config %d" % RELAY_PORT, "nic %d %s %s" % (ifindex, RELAY_IP, mac),
                "peer %s %d %s %d 0 0 1" % (A_IP, A_PORT, B_IP, B_PORT),
                "peer %s %d %s %d 0 0 1" % (B_IP, B_PORT, A_IP, A_PORT)):
        check(h.ask(cmd).startswith("ok "), cmd)
    before, _ = stats(h)

    # ICMP is not ours (passed): resolves the relay's MAC in the peers' namespace
    sh("ip", "netns", "exec", NS_P, "ping", "-c", "1", "-W", "2", RELAY_IP)
    code = r"""
import socket, sys, time
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("%(A)s", %(AP)d))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("%(B)s", %(BP)d))
b.settimeout(3)
relay = ("%(R)s", %(RP)d)
b.sendto(bytes([4, 0, 0, 0]) + bytes(28), relay)  # B first: A's MAC unknown, B's learned
time.sleep(0.3)
msg = bytes([4, 0, 0, 0]) + bytes(range(96))
a.sendto(msg, relay)
data, src = b.recvfrom(2048)
print("got" if data == msg else "different", src[0], src[1])
""" % {"A": A_IP, "AP": A_PORT, "B": B_IP, "BP": B_PORT, "R": RELAY_IP, "RP": RELAY_PORT}
    r = peers_ns_python(code)
    check(r.stdout.split() == ["got", RELAY_IP, str(RELAY_PORT)],
          "B received A's datagram from the relay's ip:port", r.stdout + r.stderr)

    after, peers = stats(h)
    delta = {k: after[k] - before[k] for k in after}
    check(delta["rx"] == 2 and delta["fwd"] == 1 and delta["pass_no_mac"] == 1
          and delta["drop_shape"] == 0 and delta["tx_err"] == 0, "counters of the exchange",
          str(delta))
    check(after["rx"] == sum(after[k] for k in RX_PARTS), "rx is the sum of its parts",
          str(after))
    check([A_IP, str(A_PORT), "1", "100", "1", "100"] in peers, "peerstat of A", str(peers))
    check(peerstat_of(peers, B_IP, B_PORT) is None, "no peerstat before a forwarded packet",
          str(peers))
    m = maps_of(h, "stats slot checks on veth")
    slot_a = m.slot(A_IP, A_PORT) if m else None

    # an upsert of an existing endpoint keeps counting in the same slot
    peer_a = "peer %s %d %s %d 0 0 2" % (A_IP, A_PORT, B_IP, B_PORT)
    check(h.ask(peer_a) == "ok peer", "upsert A")
    if m:
        check(m.slot(A_IP, A_PORT) == slot_a, "upsert A: same slot", str(m.slot(A_IP, A_PORT)))
    got = send_to_b(A_PORT, 100)
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "forwarded after the upsert", str(got))
    _, peers = stats(h)
    check(peerstat_of(peers, A_IP, A_PORT) == [2, 200, 2, 200], "upsert: A's counts go on",
          str(peers))

    # wg_nics changes drop cached routes: without A's NIC the frame is passed
    # (a stale cached route would still forward it), with it back it goes again
    check(h.ask("unnic %d" % ifindex) == "ok unnic", "unnic the relay's NIC")
    before, _ = stats(h)
    got = send_to_b(A_PORT, 100, timeout=1)
    after, _ = stats(h)
    check(got == ["timeout"] and after["pass_no_mac"] - before["pass_no_mac"] == 1
          and after["fwd"] == before["fwd"], "unnic: the cached route is not used",
          "%s %s" % (got, {k: after[k] - before[k] for k in after}))
    check(h.ask("nic %d %s %s" % (ifindex, RELAY_IP, mac)) == "ok nic", "nic again")
    got = send_to_b(A_PORT, 100)
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "forwarded again after nic", str(got))
    _, peers = stats(h)
    check(peerstat_of(peers, A_IP, A_PORT) == [3, 300, 3, 300], "A counted 3", str(peers))

    check(h.ask("unpeer %s %d" % (A_IP, A_PORT)) == "ok unpeer", "unpeer A")
    _, peers = stats(h)
    check(not any(p[:2] == [A_IP, str(A_PORT)] for p in peers), "A's peerstat gone", str(peers))

    # a different endpoint takes A's slot (3 packets in it): it starts at 0
    check(h.ask("peer %s %d %s %d 0 0 1" % (A_IP, C_PORT, B_IP, B_PORT)) == "ok peer", "peer C")
    if m:
        check(m.slot(A_IP, C_PORT) == slot_a, "C reuses A's slot", str(m.slot(A_IP, C_PORT)))
        check(m.slot_counts(slot_a) == (0, 0), "reused slot zeroed", str(m.slot_counts(slot_a)))
    _, peers = stats(h)
    check(peerstat_of(peers, A_IP, C_PORT) is None, "C has no peerstat yet", str(peers))
    got = send_to_b(C_PORT, 50)
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "C's datagram forwarded", str(got))
    _, peers = stats(h)
    check(peerstat_of(peers, A_IP, C_PORT) == [1, 50, 1, 50], "C counts from 0", str(peers))

    # A re-added, into the slot C just left (with C's packet in it): from 0 again
    check(h.ask("unpeer %s %d" % (A_IP, C_PORT)) == "ok unpeer", "unpeer C")
    check(h.ask(peer_a) == "ok peer", "re-add A")
    if m:
        check(m.slot(A_IP, A_PORT) == slot_a, "A back in its old slot", str(m.slot(A_IP, A_PORT)))
    _, peers = stats(h)
    check(peerstat_of(peers, A_IP, A_PORT) is None and peerstat_of(peers, A_IP, C_PORT) is None,
          "re-added A has no peerstat yet, C's is gone", str(peers))
    got = send_to_b(A_PORT, 100)
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "re-added A forwarded", str(got))
    _, peers = stats(h)
    check(peerstat_of(peers, A_IP, A_PORT) == [1, 100, 1, 100], "re-added A counts from 0",
          str(peers))
    check(h.ask("clear") == "ok clear", "clear")
    _, peers = stats(h)
    check(peers == [], "no peerstat after clear", str(peers))


def send_recv(src, src_port, dst, dst_port, payload, timeout=3):
    """One datagram from src:src_port to the relay; what dst:dst_port saw:
    ["got"|"different", ip, port] or ["timeout"]."""
    code = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("%(S)s", %(SP)d))
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); d.bind(("%(D)s", %(DP)d))
d.settimeout(%(T)s)
msg = bytes.fromhex("%(M)s")
s.sendto(msg, ("%(R)s", %(RP)d))
try:
    data, src = d.recvfrom(2048)
    print("got" if data == msg else "different", src[0], src[1])
except socket.timeout:
    print("timeout")
""" % {"S": src, "SP": src_port, "D": dst, "DP": dst_port, "T": timeout, "M": payload.hex(),
       "R": RELAY_IP, "RP": RELAY_PORT}
    r = peers_ns_python(code, timeout=timeout + 10)
    return r.stdout.split() or [r.stderr.strip()]


def transport(index, length=48):
    """A type-4 payload with `index` as its receiver index (bytes 4..8, LE)."""
    return bytes([4, 0, 0, 0]) + index.to_bytes(4, "little") + bytes(range(length - 8))


def test_hub_on_veth(h):
    """A hub (A) and two spokes on B's IP: the hub's transport data goes to
    the spoke that owns its receiver index, a spoke's to the hub, and an
    unknown index goes up to userspace."""
    ifindex = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % DEV_R))
    mac = link(NS_R, DEV_R)["address"]
    b1, b2 = B_PORT, C_PORT
    for cmd in ("clear", "config %d" % RELAY_PORT, "nic %d %s %s" % (ifindex, RELAY_IP, mac),
                "peer %s %d 0.0.0.0 0 0 4 1" % (A_IP, A_PORT),
                "peer %s %d %s %d 0 8 1" % (B_IP, b1, A_IP, A_PORT),
                "peer %s %d %s %d 0 8 1" % (B_IP, b2, A_IP, A_PORT),
                "session %s %d 1000 %s %d 0" % (A_IP, A_PORT, B_IP, b1),
                "session %s %d 4000000000 %s %d 0" % (A_IP, A_PORT, B_IP, b2)):
        check(h.ask(cmd).startswith("ok "), cmd)
    before, _ = stats(h)
    # `clear` keeps wg_macs: both IPs' next hops are known from the test before
    got = send_recv(B_IP, b1, A_IP, A_PORT, transport(1))
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "spoke 1 to the hub", str(got))
    got = send_recv(A_IP, A_PORT, B_IP, b1, transport(1000, 100))
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "hub, index 1000: to spoke 1", str(got))
    got = send_recv(A_IP, A_PORT, B_IP, b2, transport(4000000000, 60))
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "hub, index 4000000000: to spoke 2",
          str(got))
    got = send_recv(A_IP, A_PORT, B_IP, b1, transport(4000000000, 60), timeout=1)
    check(got == ["timeout"], "spoke 2's index does not reach spoke 1", str(got))
    got = send_recv(A_IP, A_PORT, B_IP, b1, transport(1001), timeout=1)
    check(got == ["timeout"], "hub, unknown index: not forwarded", str(got))
    got = send_recv(B_IP, b2, A_IP, A_PORT, transport(7, 80))
    check(got == ["got", RELAY_IP, str(RELAY_PORT)], "spoke 2 to the hub", str(got))
    after, peers = stats(h)
    delta = {k: after[k] - before[k] for k in after}
    check(delta["fwd"] == 5 and delta["pass_no_session"] == 1 and delta["rx"] == 6,
          "counters of the hub exchange", str(delta))
    check(peerstat_of(peers, A_IP, A_PORT) == [3, 220, 3, 220], "the hub's peerstat: 3 forwarded",
          str(peers))
    check(peerstat_of(peers, B_IP, b1) == [1, 48, 1, 48], "spoke 1's peerstat", str(peers))
    check(peerstat_of(peers, B_IP, b2) == [1, 80, 1, 80], "spoke 2's peerstat", str(peers))
    check(h.ask("unsession %s %d 1000" % (A_IP, A_PORT)) == "ok unsession", "unsession 1000")
    got = send_recv(A_IP, A_PORT, B_IP, b1, transport(1000), timeout=1)
    after2, _ = stats(h)
    check(got == ["timeout"] and after2["pass_no_session"] - after["pass_no_session"] == 1,
          "index 1000 after unsession: passed up", str(got))
    check(h.ask("clear") == "ok clear", "clear after the hub")


def test_eof_detaches():
    h = Helper()
    check(h.ask("attach %s drv" % DEV_R).startswith("ok attach"), "attach before EOF")
    check(h.ask("attach %s skb" % BRIDGE).startswith("ok attach"), "attach bridge before EOF")
    t0 = time.monotonic()
    rc = h.close()
    check(rc == 0, "exit 0 on EOF", str(rc))
    check(xdp_mode(NS_R, DEV_R) is None and xdp_mode(NS_R, BRIDGE) is None,
          "detached when the helper has exited after EOF")
    check(not os.path.exists(PIN_ROOT), "no pins left after EOF")
    print("  EOF -> exit in %.0f ms" % ((time.monotonic() - t0) * 1000))


def test_signals_detach():
    for sig in (signal.SIGTERM, signal.SIGINT):
        h = Helper()
        check(h.ask("attach %s skb" % DEV_R).startswith("ok attach"), "attach before %s" % sig.name)
        h.p.send_signal(sig)
        rc = h.p.wait(5)
        check(rc == 0, "exit 0 on %s" % sig.name, str(rc))
        check(xdp_mode(NS_R, DEV_R) is None, "detached after %s" % sig.name)
    h = Helper()
    check(h.ask("attach %s drv" % DEV_R).startswith("ok attach"), "attach before SIGKILL")
    h.p.kill()
    h.p.wait(5)
    check(wait_until(lambda: xdp_mode(NS_R, DEV_R) is None),
          "kernel detaches the bpf_link after SIGKILL")


def xdp_prog_id(ns, dev):
    x = link(ns, dev).get("xdp")
    return x["prog"]["id"] if x and "prog" in x else None


def pins(dev):
    """The pins of dev's directory, sorted, or None when it does not exist."""
    try:
        return sorted(os.listdir(os.path.join(PIN_ROOT, dev)))
    except FileNotFoundError:
        return None


def attach_state(got):
    """The fields of an ok attach answer after kernel=, as a dict."""
    m = re.match(r"ok attach .* kernel=\S+ (state=.*)$", got)
    return dict(kv.split("=", 1) for kv in m.group(1).split()) if m else {}


def entries(h):
    """A dump's lines between `dump` and `end`, config first, the rest sorted."""
    lines = h.ask_block("dump")
    return lines[1:2] + sorted(lines[2:-1])


def write_meta(dev, abi_hash):
    """Overwrites the abi_hash of the wg_meta pinned for dev (magic and prog_hash kept)."""
    path = os.path.join(PIN_ROOT, dev, "wg_meta")
    out = json.loads(sh(BPFTOOL, "-j", "map", "lookup", "pinned", path, "key", "0", "0", "0", "0"))
    value = bytes(int(x, 16) for x in out["value"])
    value = value[:16] + abi_hash.to_bytes(8, sys.byteorder)
    sh(BPFTOOL, "map", "update", "pinned", path, "key", "0", "0", "0", "0",
       "value", "hex", *["%02x" % b for b in value])


def test_pin_lifecycle():
    """attach -> exit with keep -> pins and program stay -> a new helper adopts
    (same prog_id, same entries) -> another build replaces it (maps kept, then
    maps of another layout not) -> exit without keep -> nothing left."""
    ifindex = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % DEV_R))
    h = Helper()
    check(h.ask("onexit keep") == "ok onexit keep", "onexit keep")
    check(h.ask("onexit") == "err onexit reason=usage: onexit <keep|detach>", "onexit usage")
    check(h.ask("onexit later") == "err onexit reason=usage: onexit <keep|detach>",
          "onexit with a wrong word")
    check(h.ask("dump x") == "err dump reason=usage: dump", "dump usage")
    got = h.ask("attach %s drv" % DEV_R)
    st = attach_state(got)
    first = int(st.get("prog_id", 0))
    check(st.get("state") == "fresh" and first == xdp_prog_id(NS_R, DEV_R),
          "first attach is fresh, prog_id is the attached program's", got)
    check(pins(DEV_R) == sorted(["link", "prog"] + MAP_PINS), "program, maps and link pinned",
          str(pins(DEV_R)))
    for cmd in ("config %d" % RELAY_PORT, "nic %d %s 02:00:00:00:00:01" % (ifindex, RELAY_IP),
                "peer %s %d %s %d 0 0 7" % (A_IP, A_PORT, B_IP, B_PORT),
                "peer %s %d %s %d 0 2 7" % (B_IP, B_PORT, A_IP, A_PORT),
                "session %s %d 4294967295 %s %d 0" % (A_IP, C_PORT, B_IP, B_PORT),
                "block 10.9.9.9 0"):
        check(h.ask(cmd).startswith("ok "), "before keep: " + cmd)
    kept = entries(h)
    check(kept == ["config %d 1" % RELAY_PORT,
                   "block 10.9.9.9 0",
                   "nic %d %s %s 02:00:00:00:00:01" % (ifindex, DEV_R, RELAY_IP),
                   "peer %s %d %s %d 0 0 7" % (A_IP, A_PORT, B_IP, B_PORT),
                   "peer %s %d %s %d 0 2 7" % (B_IP, B_PORT, A_IP, A_PORT),
                   "session %s %d 4294967295 %s %d 0" % (A_IP, C_PORT, B_IP, B_PORT)],
          "dump: every entry in the words of its command", str(kept))
    check(h.close() == 0, "exit 0 with keep")
    check(xdp_prog_id(NS_R, DEV_R) == first, "kept: the program stays attached after the helper")
    check(pins(DEV_R) == sorted(["link", "prog"] + MAP_PINS), "kept: pins stay", str(pins(DEV_R)))

    # the same build: adopted as it runs, its entries ours
    h = Helper()
    got = h.ask("attach %s auto" % DEV_R)
    check(attach_state(got) == {"state": "adopted", "prog_id": str(first)}, "same build adopted", got)
    check("mode=drv " in got, "adopted in the mode it runs in", got)
    check(xdp_prog_id(NS_R, DEV_R) == first, "adopting does not touch the attachment")
    check(entries(h) == kept, "adopted maps keep their entries")
    check("link" not in pins(DEV_R), "without keep the link is not pinned", str(pins(DEV_R)))
    check(h.ask("attach %s auto" % DEV_R) == got, "attach again: the same answer")
    check(h.ask("onexit keep") == "ok onexit keep", "onexit keep after the attach")
    check("link" in pins(DEV_R), "onexit keep pins the attached NIC's link", str(pins(DEV_R)))
    h.kill()
    check(xdp_prog_id(NS_R, DEV_R) == first, "kept: SIGKILLed helper leaves the program attached")

    # another build with our layout: replaced in place, maps kept
    other = os.path.join(PIN_BASE, "..", TAG + "-other.bpf.o")
    shutil.copyfile(OBJ, other)
    with open(other, "ab") as f:
        f.write(b"another build")   # trailing bytes: the same program, another file hash
    h = Helper(obj=other)
    check(h.ask("onexit keep") == "ok onexit keep", "onexit keep, other build")
    got = h.ask("attach %s drv" % DEV_R)
    st = attach_state(got)
    second = int(st.get("prog_id", 0))
    check(st.get("state") == "replaced" and st.get("old_prog_id") == str(first) and
          st.get("maps") == "kept" and second not in (0, first), "other build replaces, maps kept", got)
    check(xdp_prog_id(NS_R, DEV_R) == second, "the link runs the new program")
    check(entries(h) == kept, "replaced with maps kept: entries kept")
    check(h.close() == 0, "exit 0, other build kept")
    os.unlink(other)

    # maps of another layout are not handed over
    if BPFTOOL or os.environ.get("CI") == "true":
        if not BPFTOOL:
            raise SystemExit("CI=true but bpftool is not installed: cannot rewrite wg_meta")
        write_meta(DEV_R, 1)
        h = Helper()
        got = h.ask("attach %s drv" % DEV_R)
        st = attach_state(got)
        check(st.get("state") == "replaced" and st.get("old_prog_id") == str(second) and
              st.get("maps") == "new", "another layout: replaced with new maps", got)
        check(entries(h) == ["config 0 0"], "new maps are empty", str(entries(h)))
    else:
        print("  SKIP a kept program of another layout: bpftool not installed")
        h = Helper()
        got = h.ask("attach %s drv" % DEV_R)
        check(attach_state(got).get("state") == "replaced", "back to our build: replaced", got)
    check(h.close() == 0, "exit 0 without keep")
    check(xdp_prog_id(NS_R, DEV_R) is None, "without keep: detached on exit")
    check(pins(DEV_R) is None and not os.path.exists(PIN_ROOT),
          "without keep: nothing left under the pin root", str(pins(DEV_R)))

    # a mode that differs from the kept one: the kept program goes, a fresh one comes
    h = Helper()
    check(h.ask("onexit keep") == "ok onexit keep", "onexit keep, skb")
    check(attach_state(h.ask("attach %s skb" % DEV_R)).get("state") == "fresh", "kept in skb")
    h.close()
    h = Helper()
    got = h.ask("attach %s drv" % DEV_R)
    check(attach_state(got).get("state") == "fresh" and "mode=drv " in got and
          xdp_mode(NS_R, DEV_R) == "drv", "drv asked, skb kept: fresh in drv", got)
    # `detach` also removes the pins, whatever onexit says
    check(h.ask("onexit keep") == "ok onexit keep", "onexit keep before detach")
    check(h.ask("detach " + DEV_R) == "ok detach iface=" + DEV_R, "detach a kept NIC")
    check(pins(DEV_R) is None and xdp_mode(NS_R, DEV_R) is None, "detach: no pins, no program")
    check(h.ask("onexit detach") == "ok onexit detach", "onexit detach")
    h.close()

    # a running helper without keep: a second one is refused and leaves its pins alone
    h = Helper()
    check(attach_state(h.ask("attach %s drv" % DEV_R)).get("state") == "fresh", "first owner")
    owned = pins(DEV_R)
    other = Helper()
    got = other.ask("attach %s drv" % DEV_R)
    check(got.startswith("err attach ") and got.endswith("reason=Device or resource busy"),
          "a NIC run by a helper without keep is busy", got)
    check(pins(DEV_R) == owned, "the owner's pins are not taken for stale", str(pins(DEV_R)))
    other.close()
    h.close()
    check(pins(DEV_R) is None, "the owner removes its pins")

    # SIGKILL without keep: the kernel detaches; the stale pins go with the next attach
    h = Helper()
    check(attach_state(h.ask("attach %s drv" % DEV_R)).get("state") == "fresh", "attach, no keep")
    h.kill()
    check(wait_until(lambda: xdp_mode(NS_R, DEV_R) is None), "SIGKILL without keep: detached")
    check(pins(DEV_R) == sorted(["prog"] + MAP_PINS), "stale pins after SIGKILL", str(pins(DEV_R)))
    h = Helper()
    check(attach_state(h.ask("attach %s drv" % DEV_R)).get("state") == "fresh",
          "stale pins: a fresh attach")
    check(entries(h) == ["config 0 0"], "stale pins' maps not used")
    h.close()
    check(not os.path.exists(PIN_ROOT), "nothing left after the stale pins")


def main():
    if os.geteuid() != 0:
        sys.exit("helper_test: needs root")
    helpers = []
    try:
        setup()
        test_startup_failures()
        h = Helper()
        helpers.append(h)
        test_protocol(h)
        test_maps(h)
        test_attach_modes(h)
        rc = h.close()
        check(rc == 0, "exit 0 on EOF with two NICs attached", str(rc))
        check(xdp_mode(NS_R, BRIDGE) is None, "bridge detached on EOF")
        h = Helper()
        helpers.append(h)
        test_forwarding_on_veth(h)
        test_hub_on_veth(h)
        h.close()
        test_eof_detaches()
        test_signals_detach()
        test_pin_lifecycle()
    finally:
        for h in helpers:
            h.kill()
        teardown()
    print("helper_test: %d checks, %d failed" % (checks, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
