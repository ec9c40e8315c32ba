#!/usr/bin/env python3
"""helper_test.py -- the helper's line protocol, against the real kernel.

Runs wg-relay-xdp-helper inside namespaces it creates (a relay namespace and
a peer namespace joined by a veth pair, plus a bridge for the drv->skb
fallback), checks every answer of PROTOCOL.md, attaches in skb, drv and auto
mode, forwards one real datagram through the XDP program, and checks that
EOF, SIGTERM and even SIGKILL leave no program attached. Everything it
creates is deleted at the end, whatever happens.

usage: helper_test.py <wg-relay-xdp-helper> <wg_relay.bpf.o>   (root)
"""
import json
import os
import select
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
RELAY_PORT, A_PORT, B_PORT = 51820, 40001, 40002
KERNEL = os.uname().release

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


def setup():
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
    for want in ("wg_config.relay_port 0 2", "wg_nic.mac 4 6", "wg_peer_key.port 4 2",
                 "wg_peer_value.partner_port 4 2", "wg_peer_value.flags 6 2",
                 "wg_peer_value.egress_ifindex 8 4", "wg_peer_value.generation 12 4",
                 "wg_mac.ifindex 8 4", "wg_peer_stat.fwd_bytes 24 8", "wg_peer_value sizeof 16",
                 "wg_nic sizeof 12", "wg_mac sizeof 12", "wg_peer_stat sizeof 32"):
        check(want in abi, "abi has " + want)
    check(len(abi) == 2 + 20 + 6, "abi line count", str(len(abi)))

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
        "peer 10.0.0.1 1000 10.0.0.2 2000 0 2 2": "err peer reason=unknown flag bits 0x2",
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
                       "pass_handshake", "pass_other", "tx_err"], "stats keys", str(list(st)))


def test_attach_modes(h):
    ifindex = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % DEV_R))
    prefix = "iface=%s ifindex=%d" % (DEV_R, ifindex)

    got = h.ask("attach %s skb" % DEV_R)
    check(got == "ok attach %s mode=skb driver=? kernel=%s" % (prefix, KERNEL), "attach skb", got)
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
    check(got == "ok attach %s mode=drv driver=? kernel=%s" % (prefix, KERNEL), "attach drv", got)
    check(xdp_mode(NS_R, DEV_R) == "drv", "ip link shows native xdp", str(xdp_mode(NS_R, DEV_R)))
    check(h.ask("detach " + DEV_R) == "ok detach iface=" + DEV_R, "detach drv")
    check(xdp_mode(NS_R, DEV_R) is None, "no xdp after drv detach")

    got = h.ask("attach %s auto" % DEV_R)
    check(got == "ok attach %s mode=drv driver=? kernel=%s" % (prefix, KERNEL),
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
    check(got == "ok attach iface=%s ifindex=%d mode=skb driver=? kernel=%s fallback=drv:%s"
          % (BRIDGE, br, KERNEL, drv_reason), "auto on a bridge falls back to skb", got)
    check(xdp_mode(NS_R, BRIDGE) == "skb", "bridge runs xdpgeneric")
    print("  drv on a bridge: %s" % drv_reason)

    # the NIC deleted and re-created under the same name: a fresh attach
    sh("ip", "-n", NS_R, "link", "del", BRIDGE)
    sh("ip", "-n", NS_R, "link", "add", BRIDGE, "type", "bridge")
    br2 = int(sh("ip", "netns", "exec", NS_R, "cat", "/sys/class/net/%s/ifindex" % BRIDGE))
    got = h.ask("attach %s skb" % BRIDGE)
    check(got == "ok attach iface=%s ifindex=%d mode=skb driver=? kernel=%s" % (BRIDGE, br2, KERNEL),
          "re-created NIC attached again", got)
    check(xdp_mode(NS_R, BRIDGE) == "skb", "re-created bridge runs xdpgeneric")


def peers_ns_python(code, timeout=10):
    return subprocess.run(["ip", "netns", "exec", NS_P, sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=timeout)


def test_forwarding_on_veth(h):
    """One real type-4 datagram A -> relay -> B, forwarded by XDP_TX."""
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
    check([A_IP, str(A_PORT), "1", "100", "1", "100"] in peers, "peerstat of A", str(peers))
    check(h.ask("unpeer %s %d" % (A_IP, A_PORT)) == "ok unpeer", "unpeer A")
    _, peers = stats(h)
    check(not any(p[:2] == [A_IP, str(A_PORT)] for p in peers), "A's peerstat gone", str(peers))
    check(h.ask("clear") == "ok clear", "clear")
    _, peers = stats(h)
    check(peers == [], "no peerstat after clear", str(peers))


def test_eof_detaches():
    h = Helper()
    check(h.ask("attach %s drv" % DEV_R).startswith("ok attach"), "attach before EOF")
    check(h.ask("attach %s skb" % BRIDGE).startswith("ok attach"), "attach bridge before EOF")
    t0 = time.monotonic()
    rc = h.close()
    check(rc == 0, "exit 0 on EOF", str(rc))
    check(xdp_mode(NS_R, DEV_R) is None and xdp_mode(NS_R, BRIDGE) is None,
          "detached when the helper has exited after EOF")
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
        test_attach_modes(h)
        rc = h.close()
        check(rc == 0, "exit 0 on EOF with two NICs attached", str(rc))
        check(xdp_mode(NS_R, BRIDGE) is None, "bridge detached on EOF")
        h = Helper()
        helpers.append(h)
        test_forwarding_on_veth(h)
        h.close()
        test_eof_detaches()
        test_signals_detach()
    finally:
        for h in helpers:
            h.kill()
        teardown()
    print("helper_test: %d checks, %d failed" % (checks, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
