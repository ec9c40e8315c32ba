package org.wgrelay.server.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.protocol.ControlRequest;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbRegistry;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterFileException;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.status.RelayStatus;
import org.wgrelay.server.status.RelayTotals;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * Coverage-guided fuzzing of the control protocol's request parsing and the relay's verbs
 * (issue #15): request lines — arbitrary text, or well-formed requests naming real verbs with
 * arguments drawn from names, endpoints, keys and durations the roster knows, or from the
 * input — go through {@link ControlJson#parseRequest} and the relay's {@link VerbRegistry}
 * exactly as a control connection dispatches them.
 *
 * <p>Invariants for every line: exactly one answer, a JSON object echoing the request's id
 * (JSON null when the line could not be parsed), with {@code ok} and either a {@code result}
 * or an {@code error} whose code is a lower-case word and whose message is a sentence — never
 * an exception out of a verb (the connection would answer {@code internal}); a refused request
 * changes neither the roster, nor the roster file, nor the blocklist; a read verb changes
 * nothing; and the roster file after an accepted change loads back equal to the roster (a
 * relay restarted now would serve the same roster).
 */
class ControlVerbsFuzzTest {
    private static final int MAX_LINES = 24;
    private static final String[] NAMES = {"alice", "bob", "carol", "dave", "hub", "s1", "s2", "eve"};
    private static final String[] ENDPOINTS = {
        "192.0.2.1:51820", "192.0.2.2:51820", "[2001:db8::1]:443", "-", "192.0.2.1:0", "[::ffff:192.0.2.1]:51820"
    };
    private static final String[] KEYS = {key(1), key(2), key(3), key(4), "AAAA", key(1).replace('=', ' ')};
    private static final String[] IPS = {"198.18.0.1", "2001:db8::66", "::ffff:198.18.0.1", "10.0.0.300"};
    private static final String[] DURATIONS = {"90s", "1h", "0", "365d", "366d", "999999999d", "-1s"};

    @FuzzTest
    void everyLineGetsOneAnswerAndRefusalsChangeNothing(FuzzedDataProvider data) throws Exception {
        Path dir = Files.createTempDirectory(
                Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : null, "fuzz-verbs");
        try {
            run(data, dir);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void run(FuzzedDataProvider data, Path dir) throws Exception {
        int maxLinks = data.consumeBoolean() ? 1 : 4;
        AtomicLong clock = new AtomicLong(1_700_000_000_000L);
        ForwardingTableHolder tables = new ForwardingTableHolder(ForwardingTable.EMPTY);
        RosterFile file = new RosterFile(dir.resolve("wg-roster"));
        RosterService roster = new RosterService(initial(maxLinks), file, tables, 1);
        Blocklist blocklist = new Blocklist();
        RelayStatus status =
                new RelayStatus(roster, new RelayTotals(new RelayCounters(1), () -> null), 51820, p -> null);
        ControlContext ctx = new ControlContext(
                new InetSocketAddress("0.0.0.0", 51820),
                roster,
                status,
                List::of,
                blocklist,
                (event, eventData) -> {},
                clock::get);
        VerbRegistry registry = RelayVerbs.registry(ctx);
        List<VerbSpec> verbs = RelayVerbs.catalogue();

        for (int i = 0; i < MAX_LINES && data.remainingBytes() > 0; i++) {
            String line = data.consumeBoolean() ? data.consumeString(300) : request(data, verbs);
            Roster rosterBefore = roster.roster();
            String fileBefore = Files.exists(file.path()) ? Files.readString(file.path()) : null;
            var blocklistBefore = blocklist.entries(clock.get());

            JsonNode answer = ControlJson.MAPPER.readTree(answer(registry, line));

            assertTrue(answer.isObject() && answer.size() == 3, () -> "one answer object: " + answer);
            assertEquals(expectedId(line), answer.get("id"), "the answer echoes the request's id");
            JsonNode ok = answer.get("ok");
            assertTrue(ok != null && ok.isBoolean(), () -> "ok is a boolean: " + answer);
            if (ok.asBoolean()) {
                assertTrue(answer.has("result"), () -> "an answer has a result: " + answer);
            } else {
                JsonNode error = answer.get("error");
                assertTrue(
                        error != null
                                && error.get("code").asText().matches("[a-z][a-z0-9_]*")
                                && !error.get("message").asText().isBlank(),
                        () -> "an error has a code and a message: " + answer);
                assertEquals(rosterBefore, roster.roster(), () -> "a refused request changes nothing: " + answer);
                assertEquals(
                        fileBefore,
                        Files.exists(file.path()) ? Files.readString(file.path()) : null,
                        "nor the roster file");
                assertEquals(blocklistBefore, blocklist.entries(clock.get()), "nor the blocklist");
            }
            if (!mutates(registry, line)) {
                assertEquals(rosterBefore, roster.roster(), () -> "a read verb changes nothing: " + line);
            }
            if (Files.exists(file.path())) {
                Roster reloaded;
                try {
                    reloaded = file.load(maxLinks);
                } catch (RosterFileException e) {
                    throw new AssertionError("the relay cannot load the roster it wrote: " + e.getMessage());
                }
                assertEquals(roster.roster(), reloaded, "the roster file loads back as the roster");
            }
            clock.addAndGet(data.consumeInt(0, 120_000));
        }
    }

    /** What a control connection answers to {@code line} (ControlConnection's dispatch, without the socket). */
    private static String answer(VerbRegistry registry, String line) {
        ControlRequest request;
        try {
            request = ControlJson.parseRequest(line);
        } catch (ControlException e) {
            return ControlJson.errorLine(ControlJson.idOf(line), e.code(), e.getMessage());
        }
        VerbRegistry.Binding binding = registry.find(request.verb());
        try {
            if (binding == null) {
                throw new ControlException(ErrorCodes.UNKNOWN_VERB, "no verb '" + request.verb() + "'");
            }
            List<String> args = VerbRegistry.checkArgs(binding.spec(), request.args());
            return ControlJson.okLine(request.id(), binding.handler().handle(args));
        } catch (ControlException e) {
            return ControlJson.errorLine(request.id(), e.code(), e.getMessage());
        }
        // A RuntimeException is a finding: the connection would answer "internal".
    }

    private static boolean mutates(VerbRegistry registry, String line) {
        try {
            VerbRegistry.Binding b =
                    registry.find(ControlJson.parseRequest(line).verb());
            return b != null && b.spec().role() == Role.OPERATOR;
        } catch (ControlException e) {
            return false;
        }
    }

    private static JsonNode expectedId(String line) {
        try {
            return ControlJson.parseRequest(line).id();
        } catch (ControlException e) {
            return ControlJson.idOf(line);
        }
    }

    /** A well-formed request line: a catalogue verb (or the input's), arguments from the pools or the input. */
    private static String request(FuzzedDataProvider data, List<VerbSpec> verbs) throws JsonProcessingException {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        switch (data.consumeInt(0, 3)) {
            case 0 -> o.put("id", data.consumeInt());
            case 1 -> o.put("id", data.consumeString(8));
            case 2 -> o.set("id", NullNode.getInstance());
            default -> {}
        }
        VerbSpec spec = data.pickValue(verbs);
        if (spec == BuiltinVerbs.SUBSCRIBE) {
            spec = BuiltinVerbs.HELP; // the connection, not a verb, answers subscribe
        }
        o.put("verb", data.consumeInt(0, 9) == 0 ? data.consumeString(30) : spec.verb());
        List<String> args = new ArrayList<>();
        int n = data.consumeInt(0, spec.args().size() + 1);
        for (int i = 0; i < n; i++) {
            args.add(
                    switch (data.consumeInt(0, 5)) {
                        case 0 -> data.pickValue(NAMES);
                        case 1 -> data.pickValue(ENDPOINTS);
                        case 2 -> data.pickValue(KEYS);
                        case 3 -> data.pickValue(IPS);
                        case 4 -> data.pickValue(DURATIONS);
                        default -> data.consumeString(40);
                    });
        }
        var array = o.putArray("args");
        args.forEach(array::add);
        return ControlJson.MAPPER.writeValueAsString(o);
    }

    private static Roster initial(int maxLinks) {
        Roster r = Roster.empty(maxLinks);
        r = ok(r, x -> x.addPeer("alice", Endpoint.parse("192.0.2.1:51820"), key(1), "laptop"));
        r = ok(r, x -> x.addPeer("bob", Endpoint.parse("[2001:db8::1]:443"), key(2), null));
        r = ok(r, x -> x.addPeer("carol", null, key(3), null));
        r = ok(r, x -> x.addPeer("dave", Endpoint.parse("198.51.100.4:4000"), null, null));
        r = ok(r, x -> x.addLink("alice", "bob"));
        return r;
    }

    private static Roster ok(Roster r, Function<Roster, RosterChange> f) {
        RosterChange c = f.apply(r);
        assertTrue(c.ok(), c.message());
        return c.roster();
    }

    private static String key(int seed) {
        byte[] k = new byte[32];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) (seed * 17 + i);
        }
        return java.util.Base64.getEncoder().encodeToString(k);
    }
}
