package org.wgrelay.it.fleet;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardPeer;

/**
 * The fleet's network: relay hosts, an etcd cluster, alice and bob, all on one LAN ({@link Lan}).
 *
 * <pre>
 *                          [lan ns: bridge]
 *     |-- [relay1 ns] 10.240.0.1     |-- [alice ns] 10.240.0.11 (wg 10.241.0.1)
 *     |-- [relay2 ns] 10.240.0.2     |-- [bob ns]   10.240.0.12 (wg 10.241.0.2)
 *     |-- [relay3 ns] 10.240.0.3     |-- [etcd ns]  10.240.0.21, .22, .23 (one member each)
 *     virtual IP 10.240.0.100 (keepalived), on whichever relay host is master
 * </pre>
 *
 * <p>Each relay host has {@code net.ipv4.ip_nonlocal_bind=1}, so a relay (or {@link UdpEcho}) can
 * bind the virtual IP before its host holds it. {@link #cutOffEtcd} drops every packet between a
 * relay host and the etcd members with iptables in that host's namespace (a partition, not a
 * refusal: the relay learns of it only from its own timeouts); {@link #restoreEtcd} removes the
 * rules. Everything goes with the {@link Topology}, which the caller closes.
 */
public final class FleetNet implements AutoCloseable {

    public static final String VIP = "10.240.0.100";
    public static final String ALICE_UNDERLAY = "10.240.0.11";
    public static final String BOB_UNDERLAY = "10.240.0.12";
    public static final String ALICE_TUNNEL = "10.241.0.1";
    public static final String BOB_TUNNEL = "10.241.0.2";
    public static final int RELAY_PORT = 51820;
    public static final int PEER_PORT = 51000;
    private static final List<String> ETCD_IPS = List.of("10.240.0.21", "10.240.0.22", "10.240.0.23");
    private static final Duration CHILD_JVM = Duration.ofSeconds(60);

    final Topology topology;
    final Lan lan;
    final List<Netns> hosts = new ArrayList<>();
    /** The LAN interface of each relay host, in its namespace (keepalived's interface). */
    final List<String> hostIfs = new ArrayList<>();

    final Netns aliceNs;
    final Netns bobNs;
    final String aliceIf;
    Netns etcdNs;
    EtcdCluster etcd;

    private FleetNet(Topology topology, int relayHosts) {
        this.topology = topology;
        this.lan = Lan.create(topology);
        for (int i = 1; i <= relayHosts; i++) {
            Netns host = topology.namespace("relay" + i);
            hostIfs.add(lan.attach(host, "r" + i, hostIp(i - 1) + "/24"));
            host.exec(Duration.ofSeconds(10), Prerequisites.which("sysctl"), "-qw", "net.ipv4.ip_nonlocal_bind=1");
            hosts.add(host);
        }
        aliceNs = topology.namespace("alice");
        aliceIf = lan.attach(aliceNs, "a", ALICE_UNDERLAY + "/24");
        bobNs = topology.namespace("bob");
        lan.attach(bobNs, "b", BOB_UNDERLAY + "/24");
    }

    /**
     * Skips (or under CI=true fails) without root, namespaces and the tools; creates the LAN with
     * {@code relayHosts} relay hosts, alice and bob, and with {@code withEtcd} a 3-member etcd
     * cluster. On failure everything made so far is torn down.
     */
    public static FleetNet create(int relayHosts, boolean withEtcd) {
        Prerequisites.check()
                .root()
                .tun()
                .namespaces()
                .tools("ip", "sysctl", "bash", "wg", "wireguard-go", "ping")
                .tools(withEtcd ? new String[] {"etcd", "etcdctl", "iptables"} : new String[0])
                .enforce();
        Topology topology = Topology.create();
        try {
            FleetNet net = new FleetNet(topology, relayHosts);
            if (withEtcd) {
                net.etcdNs = topology.namespace("etcd");
                String iface = net.lan.attach(net.etcdNs, "e", ETCD_IPS.get(0) + "/24");
                for (String ip : ETCD_IPS.subList(1, ETCD_IPS.size())) {
                    net.etcdNs.ip("addr", "add", ip + "/24", "dev", iface);
                }
                net.etcd = topology.adopt(EtcdCluster.start(net.etcdNs, ETCD_IPS));
            }
            return net;
        } catch (RuntimeException | Error e) {
            try {
                topology.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The LAN address of relay host {@code i} (0-based): 10.240.0.1, .2, .3. */
    public static String hostIp(int i) {
        return "10.240.0." + (i + 1);
    }

    public Netns host(int i) {
        return hosts.get(i);
    }

    public Path workDir() {
        return topology.workDir();
    }

    /** Starts a {@link UdpEcho} on {@code bind}:{@code port} in {@code ns}, answering with {@code label}. */
    public ChildProcess startEcho(Netns ns, String bind, int port, String label) {
        ChildProcess echo = topology.adopt(ns.spawn(
                "udp-echo " + label,
                JavaCommand.of(List.of("-Xmx32m"), UdpEcho.class.getName(), bind, Integer.toString(port), label),
                Map.of()));
        echo.awaitLine(line -> line.startsWith("listening"), CHILD_JVM);
        return echo;
    }

    /** Starts a {@link UdpProbe} in {@code ns} towards {@code address}:{@code port}. */
    public ChildProcess startProbe(Netns ns, String address, int port, int intervalMs, int durationMs) {
        return topology.adopt(ns.spawn(
                "udp-probe",
                JavaCommand.of(
                        List.of("-Xmx32m"),
                        UdpProbe.class.getName(),
                        address,
                        Integer.toString(port),
                        Integer.toString(intervalMs),
                        Integer.toString(durationMs)),
                Map.of()));
    }

    /** keepalived on relay host {@code i} for {@link #VIP}, tracking {@code checkCommand}. */
    public Keepalived startKeepalived(int i, int priority, String checkCommand) {
        return topology.adopt(Keepalived.start(
                hosts.get(i),
                "relay" + (i + 1),
                hostIfs.get(i),
                51,
                priority,
                VIP + "/24",
                checkCommand,
                topology.workDir()));
    }

    /** Starts wireguard-go for alice or bob (tag {@code wa}/{@code wb}) in its namespace. */
    public WireGuardPeer startPeer(Netns ns, String tag, String tunnelIp, String privateKey) {
        return topology.adopt(WireGuardPeer.start(
                ns, topology.interfaceName(tag), PEER_PORT, tunnelIp + "/24", topology.workDir(), privateKey));
    }

    /** Drops all traffic between relay host {@code i} and every etcd member (both directions). */
    public void cutOffEtcd(int i) {
        iptables(i, "-I");
    }

    /** Removes what {@link #cutOffEtcd} added. */
    public void restoreEtcd(int i) {
        iptables(i, "-D");
    }

    private void iptables(int i, String action) {
        String members =
                String.join(",", ETCD_IPS.stream().map(ip -> ip + "/32").toList());
        String iptables = Prerequisites.which("iptables");
        Duration timeout = Duration.ofSeconds(20);
        hosts.get(i).exec(timeout, iptables, "-w", action, "OUTPUT", "-d", members, "-j", "DROP");
        hosts.get(i).exec(timeout, iptables, "-w", action, "INPUT", "-s", members, "-j", "DROP");
    }

    @Override
    public void close() {
        topology.close();
    }
}
