package org.wgrelay.it.enroll;

import java.time.Duration;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.Topology;

/**
 * A home network behind a NAT, built from two namespaces: the home one reaches the world only
 * through the NAT one, which forwards and rewrites every UDP datagram leaving on its public
 * interface to one fixed public {@code ip:port}. Like a real NAT it lets in only replies to what
 * went out (connection tracking), unless {@link #forwardPort} opens the public port.
 */
final class Nat {

    private static final Duration COMMAND = Duration.ofSeconds(20);

    private Nat() {}

    /**
     * Connects {@code home} (tag {@code homeTag}, address {@code homeIp}/24) to {@code nat} (tag
     * {@code natTag}, {@code gateway}/24), routes home's traffic through it, and has the NAT map
     * UDP leaving on its interface {@code publicTag} (connected by the caller) to {@code
     * publicIp:publicPort}.
     */
    static void behind(
            Topology topology,
            Netns home,
            String homeTag,
            String homeIp,
            Netns nat,
            String natTag,
            String gateway,
            String publicTag,
            String publicIp,
            int publicPort) {
        topology.connect(home, homeTag, homeIp + "/24", nat, natTag, gateway + "/24");
        home.ip("route", "add", "default", "via", gateway);
        nat.exec(COMMAND, Prerequisites.which("sysctl"), "-q", "-w", "net.ipv4.ip_forward=1");
        nat.exec(
                COMMAND,
                Prerequisites.which("iptables"),
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-o",
                topology.interfaceName(publicTag),
                "-p",
                "udp",
                "-j",
                "SNAT",
                "--to-source",
                publicIp + ":" + publicPort);
    }

    /** The NAT forwards UDP arriving on {@code publicTag} for {@code publicPort} to {@code homeIp:homePort}. */
    static void forwardPort(
            Topology topology, Netns nat, String publicTag, int publicPort, String homeIp, int homePort) {
        nat.exec(
                COMMAND,
                Prerequisites.which("iptables"),
                "-t",
                "nat",
                "-A",
                "PREROUTING",
                "-i",
                topology.interfaceName(publicTag),
                "-p",
                "udp",
                "--dport",
                Integer.toString(publicPort),
                "-j",
                "DNAT",
                "--to-destination",
                homeIp + ":" + homePort);
    }
}
