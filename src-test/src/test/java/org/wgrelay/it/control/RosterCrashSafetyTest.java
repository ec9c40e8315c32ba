package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.server.daemon.Main;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Link;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;

/**
 * The roster survives SIGKILL at any moment: a stream of 1,000 mutating verbs against a real
 * relay process that is killed at random moments and started again on the same roster file.
 * After every kill the file loads (nothing torn) and holds exactly the changes the relay had
 * acknowledged — or those and the one change in flight when it died, which may have reached
 * the disk before its answer reached us (nothing acknowledged is lost).
 */
class RosterCrashSafetyTest {
    private static final int CHANGES = 1_000;
    /** Each round's kill falls within this long after its first answered change. */
    private static final int KILL_WITHIN_MILLIS = 400;

    private static final Pattern CONTROL = Pattern.compile(" control=127\\.0\\.0\\.1:(\\d+) ");
    private static final long SEED = new Random().nextLong();

    @TempDir
    Path dir;

    /** One mutating verb and the same change on the model. */
    private record Change(String verb, List<String> args, Function<Roster, RosterChange> onModel) {
        @Override
        public String toString() {
            return verb + " " + String.join(" ", args);
        }
    }

    private final Random random = new Random(SEED);
    private int nextPeer;

    @Test
    void aRelayKilledAtRandomMomentsKeepsExactlyTheAcknowledgedChanges() throws Exception {
        System.out.println("RosterCrashSafetyTest seed " + SEED);
        Path rosterPath = dir.resolve("wg-roster");
        Roster model = Roster.EMPTY;
        int done = 0;
        int kills = 0;
        int inFlightOnDisk = 0;
        Change pending = null;
        while (done < CHANGES) {
            ChildProcess relay = start(rosterPath);
            int port = controlPort(relay);
            AtomicBoolean killed = new AtomicBoolean();
            Thread killer = null;
            Change inFlight = null;
            try (RelayClient client = new RelayClient(port)) {
                while (done < CHANGES) {
                    Change change = pending != null ? pending : next(model);
                    pending = null;
                    inFlight = change;
                    JsonNode answer = client.call(change.verb(), change.args().toArray(String[]::new));
                    inFlight = null;
                    assertTrue(answer.path("ok").asBoolean(), change + " refused: " + answer);
                    model = apply(model, change);
                    done++;
                    if (killer == null) {
                        // Timed from the round's first answer: a fresh JVM's first verb is slow, and
                        // a kill before it would only test the start-up.
                        killer = killer(relay, random.nextInt(KILL_WITHIN_MILLIS), killed);
                    }
                }
            } catch (IOException | AssertionError e) {
                if (!killed.get()) {
                    throw e; // a real failure, not the kill
                }
            }
            if (killer != null) {
                killer.interrupt();
                killer.join();
            }
            ProcessHandle.of(relay.pid()).ifPresent(ProcessHandle::destroyForcibly);
            relay.close();
            kills++;

            Roster onDisk = new RosterFile(rosterPath).load(); // throws on a torn or half-written file
            if (onDisk.equals(model)) {
                pending = inFlight; // not applied: send it again
            } else if (inFlight != null && onDisk.equals(apply(model, inFlight))) {
                model = onDisk; // applied and saved, but its answer died with the relay
                done++;
                inFlightOnDisk++;
            } else {
                throw new AssertionError("after kill " + kills + " (seed " + SEED + ") the roster holds neither the "
                        + done + " acknowledged changes nor those and the one in flight (" + inFlight + "):\n"
                        + RosterFile.format(onDisk) + "\nexpected:\n" + RosterFile.format(model));
            }
        }
        System.out.println("RosterCrashSafetyTest: " + CHANGES + " changes, " + kills + " kills, " + inFlightOnDisk
                + " in-flight changes found on disk");
        assertTrue(kills >= 2, "the relay was killed during the stream, " + kills + " times");
        assertEquals(model, new RosterFile(rosterPath).load());
    }

    private static ChildProcess start(Path roster) {
        List<String> argv = JavaCommand.of(
                List.of("-Xmx128m", "-XX:TieredStopAtLevel=1", "-Xshare:auto"),
                Main.class.getName(),
                "serve",
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--workers",
                "1",
                "--roster",
                roster.toString(),
                "--control",
                "127.0.0.1:0",
                "--metrics",
                "127.0.0.1:0");
        return ChildProcess.start("relay", argv, Map.of());
    }

    private static int controlPort(ChildProcess relay) {
        String line = relay.awaitLine(l -> l.contains("wg-relay listening on "), Duration.ofSeconds(60));
        Matcher m = CONTROL.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    /** SIGKILLs {@code relay} after a delay, unless interrupted first; {@code killed} says it did. */
    private static Thread killer(ChildProcess relay, long afterMillis, AtomicBoolean killed) {
        Thread t = new Thread(
                () -> {
                    try {
                        Thread.sleep(afterMillis);
                        killed.set(true);
                        ProcessHandle.of(relay.pid()).ifPresent(ProcessHandle::destroyForcibly);
                    } catch (InterruptedException e) {
                        // the stream finished first
                    }
                },
                "killer");
        t.start();
        return t;
    }

    private static Roster apply(Roster model, Change change) {
        RosterChange c = change.onModel().apply(model);
        assertTrue(c.ok(), change + " on the model: " + c.message());
        return c.roster();
    }

    /** A change that is valid against {@code model}: every kind of mutation, at random. */
    private Change next(Roster model) {
        List<PeerEntry> peers = new ArrayList<>(model.peers());
        List<String> unlinked = new ArrayList<>();
        for (PeerEntry p : peers) {
            if (model.partnerOf(p.name()) == null) {
                unlinked.add(p.name());
            }
        }
        int kind = peers.size() < 6 ? 0 : random.nextInt(6);
        switch (kind) {
            case 1 -> {
                String name = pick(peers).name();
                Endpoint ep = freshEndpoint(model);
                return new Change("wg peer update", List.of(name, ep.toString()), r -> r.updateEndpoint(name, ep));
            }
            case 2 -> {
                String name = pick(peers).name();
                String key = key();
                return new Change("wg peer pubkey", List.of(name, key), r -> r.setPubkey(name, key));
            }
            case 3 -> {
                String name = pick(peers).name();
                return new Change("wg peer remove", List.of(name), r -> r.removePeer(name));
            }
            case 4 -> {
                if (unlinked.size() >= 2) {
                    String a = unlinked.remove(random.nextInt(unlinked.size()));
                    String b = unlinked.get(random.nextInt(unlinked.size()));
                    return new Change("wg link add", List.of(a, b), r -> r.addLink(a, b));
                }
            }
            case 5 -> {
                if (!model.links().isEmpty()) {
                    Link l = model.links().get(random.nextInt(model.links().size()));
                    return new Change("wg link remove", List.of(l.b(), l.a()), r -> r.removeLink(l.b(), l.a()));
                }
            }
            default -> {}
        }
        String name = "p" + nextPeer++;
        Endpoint ep = freshEndpoint(model);
        return new Change("wg peer add", List.of(name, ep.toString()), r -> r.addPeer(name, ep, null, null));
    }

    private PeerEntry pick(List<PeerEntry> peers) {
        return peers.get(random.nextInt(peers.size()));
    }

    /** An endpoint no peer of {@code model} has (documentation ranges; nothing is sent to it). */
    private Endpoint freshEndpoint(Roster model) {
        while (true) {
            Endpoint ep =
                    Endpoint.parse("198.51.100." + (1 + random.nextInt(254)) + ":" + (1024 + random.nextInt(60000)));
            if (model.peers().stream().noneMatch(p -> p.endpoint().equals(ep))) {
                return ep;
            }
        }
    }

    private String key() {
        byte[] k = new byte[32];
        random.nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }
}
