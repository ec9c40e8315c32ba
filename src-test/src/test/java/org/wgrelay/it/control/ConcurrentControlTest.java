package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.control.LocalRelay.endpointOf;
import static org.wgrelay.it.control.LocalRelay.receive;
import static org.wgrelay.it.control.LocalRelay.udpSocket;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.DatagramSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.roster.Link;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterFile;

/**
 * Many control clients changing the roster at once: every answer is a success or one
 * of the verb's own refusals, the roster's invariants hold in every snapshot a reader
 * sees, the roster file ends up equal to what the relay reports, and the relay still
 * forwards.
 */
class ConcurrentControlTest {
    private static final int THREADS = 16;
    private static final int OPS = 200;
    private static final int NAMES = 12;
    private static final int ENDPOINTS = 14;

    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "wg peer add", Set.of("wg_peer_duplicate", "wg_endpoint_in_use"),
            "wg peer remove", Set.of("wg_peer_unknown"),
            "wg peer update", Set.of("wg_peer_unknown", "wg_endpoint_in_use"),
            "wg link add", Set.of("wg_link_self", "wg_peer_unknown", "wg_link_duplicate", "link_limit_exceeded"),
            "wg link remove", Set.of("wg_link_unknown"));

    @Test
    void concurrentClientsKeepTheRosterConsistentWithItsFileAndTheRelayForwarding() throws Exception {
        try (LocalRelay relay = LocalRelay.open()) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
            Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
            AtomicBoolean writersDone = new AtomicBoolean();
            AtomicInteger snapshotsChecked = new AtomicInteger();
            try {
                Future<?> reader = pool.submit(() -> {
                    try (RelayClient r = relay.client()) {
                        while (!writersDone.get()) {
                            checkInvariants(r.ok("wg peer list").get("peers"));
                            snapshotsChecked.incrementAndGet();
                        }
                    }
                    return null;
                });
                List<Future<?>> writers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int seed = t;
                    writers.add(pool.submit(() -> {
                        Random random = new Random(1000 + seed);
                        try (RelayClient c = relay.client()) {
                            for (int i = 0; i < OPS; i++) {
                                String[] op = randomOp(random);
                                JsonNode r = c.call(op[0], java.util.Arrays.copyOfRange(op, 1, op.length));
                                String outcome = r.get("ok").asBoolean()
                                        ? "ok"
                                        : r.get("error").get("code").asText();
                                if (!outcome.equals("ok") && !ALLOWED.get(op[0]).contains(outcome)) {
                                    throw new AssertionError(String.join(" ", op) + " -> " + r);
                                }
                                outcomes.computeIfAbsent(op[0] + " -> " + outcome, k -> new AtomicInteger())
                                        .incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> w : writers) {
                    w.get(60, TimeUnit.SECONDS);
                }
                writersDone.set(true);
                reader.get(10, TimeUnit.SECONDS);
            } finally {
                writersDone.set(true);
                pool.shutdownNow();
            }
            assertTrue(snapshotsChecked.get() > 0);
            for (String verb : ALLOWED.keySet()) {
                assertTrue(outcomes.containsKey(verb + " -> ok"), "some " + verb + " succeeded: " + outcomes);
            }

            try (RelayClient c = relay.client()) {
                JsonNode peers = c.ok("wg peer list").get("peers");
                JsonNode links = c.ok("wg link list").get("links");
                checkInvariants(peers);
                Map<String, String> partners = new HashMap<>();
                for (JsonNode l : links) {
                    partners.put(l.get("a").asText(), l.get("b").asText());
                    partners.put(l.get("b").asText(), l.get("a").asText());
                }
                for (JsonNode p : peers) {
                    String linked = p.get("linked_to").isNull()
                            ? null
                            : p.get("linked_to").asText();
                    assertEquals(partners.get(p.get("name").asText()), linked, "link list agrees with peer list");
                }

                Roster onDisk = new RosterFile(relay.rosterPath).load();
                assertEquals(describePeers(peers), describePeers(onDisk), "wg peer list equals the roster file");
                assertEquals(describeLinks(links), describeLinks(onDisk), "wg link list equals the roster file");
                JsonNode show = c.ok("wg show");
                assertEquals(onDisk.peerCount(), show.get("peer_count").asInt());
                assertEquals(onDisk.linkCount(), show.get("link_count").asInt());

                // And the data plane follows the final roster.
                try (DatagramSocket a = udpSocket("127.0.0.1");
                        DatagramSocket b = udpSocket("127.0.0.1")) {
                    c.ok("wg peer add", "fwd-a", endpointOf(a));
                    c.ok("wg peer add", "fwd-b", endpointOf(b));
                    c.ok("wg link add", "fwd-b", "fwd-a");
                    byte[] payload = LocalRelay.transport(200, new Random(3));
                    relay.send(a, payload);
                    assertArrayEquals(payload, receive(b));
                    relay.send(b, payload);
                    assertArrayEquals(payload, receive(a));
                }
            }
        }
    }

    private static String[] randomOp(Random random) {
        String a = "p" + random.nextInt(NAMES);
        String b = "p" + random.nextInt(NAMES);
        String ep = "192.0.2." + (1 + random.nextInt(ENDPOINTS)) + ":51820";
        int pick = random.nextInt(100);
        if (pick < 30) {
            return random.nextBoolean()
                    ? new String[] {"wg peer add", a, ep}
                    : new String[] {"wg peer add", a, ep, "label", "of", a};
        } else if (pick < 45) {
            return new String[] {"wg peer remove", a};
        } else if (pick < 55) {
            return new String[] {"wg peer update", a, ep};
        } else if (pick < 80) {
            return new String[] {"wg link add", a, b};
        } else {
            return new String[] {"wg link remove", a, b};
        }
    }

    /** Each peer in at most one link, links symmetric, endpoints unique. */
    private static void checkInvariants(JsonNode peers) {
        Map<String, String> linkedTo = new HashMap<>();
        Set<String> endpoints = new HashSet<>();
        for (JsonNode p : peers) {
            String name = p.get("name").asText();
            assertTrue(endpoints.add(p.get("endpoint").asText()), "endpoint used twice: " + peers);
            if (!p.get("linked_to").isNull()) {
                linkedTo.put(name, p.get("linked_to").asText());
            }
        }
        for (Map.Entry<String, String> e : linkedTo.entrySet()) {
            assertEquals(
                    e.getKey(),
                    linkedTo.get(e.getValue()),
                    "link of " + e.getKey() + " is not symmetric (or its partner is gone): " + peers);
            assertTrue(!e.getKey().equals(e.getValue()), "self link: " + e.getKey());
        }
    }

    private static Map<String, String> describePeers(JsonNode peers) {
        Map<String, String> m = new TreeMap<>();
        for (JsonNode p : peers) {
            m.put(
                    p.get("name").asText(),
                    p.get("endpoint").asText() + " key=" + text(p.get("pubkey")) + " label=" + text(p.get("label"))
                            + " nic=" + text(p.get("nic")));
        }
        return m;
    }

    private static Map<String, String> describePeers(Roster roster) {
        Map<String, String> m = new TreeMap<>();
        for (PeerEntry p : roster.peers()) {
            m.put(p.name(), p.endpoint() + " key=" + p.pubkey() + " label=" + p.label() + " nic=" + p.nic());
        }
        return m;
    }

    private static Set<String> describeLinks(JsonNode links) {
        Set<String> s = new TreeSet<>();
        links.forEach(l -> s.add(l.get("a").asText() + "-" + l.get("b").asText()));
        return s;
    }

    private static Set<String> describeLinks(Roster roster) {
        Set<String> s = new TreeSet<>();
        for (Link l : roster.links()) {
            s.add(l.a() + "-" + l.b());
        }
        return s;
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? "null" : n.asText();
    }
}
