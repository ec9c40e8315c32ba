package org.wgrelay.it.fleet;

import java.time.Duration;
import java.util.List;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.Topology;

/**
 * One layer-2 segment for the fleet tests: a Linux bridge in a namespace of its own, and a veth
 * from each attached namespace into it. Everything attached shares one broadcast domain, as the
 * hosts of one rack do: ARP and VRRP multicast (keepalived) work between them, and a virtual IP
 * can move from one host to another with a gratuitous ARP.
 *
 * <p>The bridge namespace has no address and routes nothing; it goes with the topology.
 */
public final class Lan {

    private static final Duration COMMAND = Duration.ofSeconds(20);

    private final Topology topology;
    private final Netns ns;
    private final String bridge;

    private Lan(Topology topology, Netns ns, String bridge) {
        this.topology = topology;
        this.ns = ns;
        this.bridge = bridge;
    }

    /** Creates namespace {@code wgr-<suffix>-lan} with a bridge that is up. */
    public static Lan create(Topology topology) {
        Netns ns = topology.namespace("lan");
        String bridge = topology.interfaceName("br");
        ns.ip("link", "add", bridge, "type", "bridge");
        ns.ip("link", "set", bridge, "up");
        return new Lan(topology, ns, bridge);
    }

    /**
     * Plugs {@code host} into the segment: a veth whose end in {@code host} (named after {@code
     * tag}, at most 5 characters) gets {@code cidr} and whose other end is a bridge port. Returns
     * the interface name in {@code host}.
     */
    public String attach(Netns host, String tag, String cidr) {
        String inside = topology.interfaceName(tag);
        String port = topology.interfaceName(tag + "p");
        Command.check(
                COMMAND,
                List.of(
                        Prerequisites.which("ip"),
                        "link",
                        "add",
                        inside,
                        "netns",
                        host.name(),
                        "type",
                        "veth",
                        "peer",
                        "name",
                        port,
                        "netns",
                        ns.name()));
        ns.ip("link", "set", port, "master", bridge);
        ns.ip("link", "set", port, "up");
        host.ip("addr", "add", cidr, "dev", inside);
        host.ip("link", "set", inside, "up");
        return inside;
    }

    public Netns namespace() {
        return ns;
    }
}
