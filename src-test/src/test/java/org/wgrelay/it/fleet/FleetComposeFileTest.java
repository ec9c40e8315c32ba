package org.wgrelay.it.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.server.daemon.ServeCommand;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docker-compose.fleet.yml and its files under dist/fleet/ describe the deployment the fleet
 * tests run: the relays name only variables that {@code wg-relay serve} reads, point at the
 * three etcd services and bind the VIP that keepalived holds; keepalived's configurations carry
 * exactly the VRRP settings whose failover {@link VipFailoverEndToEndTest} measured, and
 * keepalived itself accepts them ({@code keepalived --config-test}).
 */
class FleetComposeFileTest {

    /** surefire runs this module with {@code src-test/} as working directory. */
    private static final Path REPO =
            Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();

    private static final Path FLEET = REPO.resolve("dist/fleet");
    private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:(WG_RELAY_[A-Z_]+)");
    private static final Pattern VIP_LINE = Pattern.compile("(?m)^\\s*(\\d+\\.\\d+\\.\\d+\\.\\d+)/\\d+\\s*$");

    @Test
    void theRelaysReadOnlyServeVariablesPointAtTheThreeEtcdServicesAndBindTheVip() throws IOException {
        Map<String, Object> services = services();
        Set<String> read = variablesServeReads();
        List<String> etcdUrls = new ArrayList<>();
        for (String name : List.of("etcd1", "etcd2", "etcd3")) {
            List<String> command = list(map(services.get(name)).get("command"));
            etcdUrls.add(command.get(command.indexOf("--advertise-client-urls") + 1));
        }
        Set<String> ids = new TreeSet<>();
        for (String name : List.of("relay-a", "relay-b")) {
            Map<String, Object> relay = map(services.get(name));
            Map<String, Object> env = map(relay.get("environment"));
            for (String variable : env.keySet()) {
                assertTrue(
                        read.contains(variable), name + " sets " + variable + ", which serve does not read: " + read);
            }
            assertEquals(String.join(",", etcdUrls), env.get("WG_RELAY_ETCD_ENDPOINTS"), name);
            assertEquals(vip("keepalived-a.conf"), env.get("WG_RELAY_BIND"), name + " binds the VIP");
            assertEquals("1", String.valueOf(map(relay.get("sysctls")).get("net.ipv4.ip_nonlocal_bind")), name);
            ids.add(String.valueOf(env.get("WG_RELAY_RELAY_ID")));
            String metricsPort = String.valueOf(env.get("WG_RELAY_METRICS")).replaceAll(".*:", "");
            assertTrue(
                    Files.readString(FLEET.resolve("check-relay.sh"))
                            .contains("http://127.0.0.1:" + metricsPort + "/healthz"),
                    "keepalived's check reads " + name + "'s /healthz");

            String keepalived = "keepalived-" + name.substring(name.length() - 1);
            Map<String, Object> vrrp = map(services.get(keepalived));
            assertEquals("service:" + name, vrrp.get("network_mode"), keepalived + " shares " + name + "'s namespace");
            assertTrue(
                    list(vrrp.get("volumes"))
                            .contains("./dist/fleet/" + keepalived + ".conf:/etc/keepalived/keepalived.conf:ro"),
                    keepalived + " mounts its configuration");
        }
        assertEquals(Set.of("relay-a", "relay-b"), ids, "each relay has an id of its own");
        assertEquals(vip("keepalived-a.conf"), vip("keepalived-b.conf"));
    }

    @Test
    void keepalivedsConfigurationsAreTheTestedOnesAndPassItsConfigTest() throws IOException {
        // What the tests run, with the per-host values taken out.
        String tested = vrrpSettings(Keepalived.config("x", "eth0", 51, 100, "10.240.0.100/24", Path.of("/check")));
        for (String file : List.of("keepalived-a.conf", "keepalived-b.conf")) {
            assertEquals(tested, vrrpSettings(Files.readString(FLEET.resolve(file))), file);
        }

        Prerequisites.check().root().namespaces().tools("ip", "keepalived").enforce();
        try (Topology topology = Topology.create()) {
            Netns host = topology.namespace("host");
            // keepalived checks that the VRRP interface exists: eth0, as in the container.
            host.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth0p");
            host.ip("link", "set", "eth0", "up");
            for (String file : List.of("keepalived-a.conf", "keepalived-b.conf")) {
                Path conf = topology.workDir().resolve(file);
                Files.writeString(
                        conf,
                        Files.readString(FLEET.resolve(file))
                                .replace(
                                        "/etc/keepalived/check-relay.sh",
                                        FLEET.resolve("check-relay.sh").toString()));
                Command.Result test = host.tryExec(
                        Duration.ofSeconds(20),
                        Prerequisites.which("keepalived"),
                        "--config-test",
                        "-f",
                        conf.toString());
                assertEquals(0, test.exitCode(), file + ": " + test.describe());
            }
        }
    }

    /** The configuration's lines without comments and without what differs per host. */
    private static String vrrpSettings(String conf) {
        return conf.lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .filter(line -> !line.startsWith("router_id") && !line.startsWith("priority"))
                .map(line -> line.startsWith("script ") ? "script <check>" : line)
                .collect(Collectors.joining("\n"));
    }

    private static String vip(String file) throws IOException {
        Matcher m = VIP_LINE.matcher(Files.readString(FLEET.resolve(file)));
        assertTrue(m.find(), file + " has a virtual_ipaddress");
        return m.group(1);
    }

    private static Set<String> variablesServeReads() {
        Set<String> read = new TreeSet<>();
        CommandLine serve = new CommandLine(new ServeCommand()).setInterpolateVariables(false);
        for (OptionSpec option : serve.getCommandSpec().options()) {
            if (option.defaultValue() != null) {
                Matcher m = ENV_DEFAULT.matcher(option.defaultValue());
                while (m.find()) {
                    read.add(m.group(1));
                }
            }
        }
        return read;
    }

    private static Map<String, Object> services() throws IOException {
        Map<String, Object> compose = new Yaml().load(Files.readString(REPO.resolve("docker-compose.fleet.yml")));
        return map(compose.get("services"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        assertTrue(node instanceof Map, "expected a mapping: " + node);
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Object node) {
        assertTrue(node instanceof List, "expected a sequence: " + node);
        return ((List<Object>) node).stream().map(String::valueOf).toList();
    }
}
