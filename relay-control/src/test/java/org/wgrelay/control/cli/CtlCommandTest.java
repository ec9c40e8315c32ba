package org.wgrelay.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.control.verb.ArgSpec.optional;
import static org.wgrelay.control.verb.ArgSpec.optionalRest;
import static org.wgrelay.control.verb.ArgSpec.required;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.server.ControlServer;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbRegistry;
import org.wgrelay.control.verb.VerbSpec;
import picocli.CommandLine;

/**
 * {@code wg-relay ctl} against a real control listener serving canned answers: what it
 * prints, and its exit status — 0 ok, 1 the relay said no, 2 usage, 3 unreachable.
 */
class CtlCommandTest {
    /**
     * The verbs the fake relay serves, shaped like the relay's own (whose specs live with their
     * code in relay-server); the client knows only what it is given.
     */
    static final VerbSpec PEER_ADD = new VerbSpec(
            "wg peer add",
            Role.OPERATOR,
            "Register a peer.",
            List.of(
                    required("name", "peer name"),
                    required("endpoint", "ip:port"),
                    optionalRest("label", "free text")));

    static final VerbSpec PEER_LIST = new VerbSpec("wg peer list", Role.READ, "List the peers.", List.of());
    static final VerbSpec LINK_ADD = new VerbSpec(
            "wg link add",
            Role.OPERATOR,
            "Link two peers so the relay forwards between them.",
            List.of(required("a", "first peer name"), required("b", "second peer name")));
    static final VerbSpec LINK_LIST = new VerbSpec("wg link list", Role.READ, "List the links.", List.of());
    static final VerbSpec SHOW = new VerbSpec("wg show", Role.READ, "Show the counters.", List.of());
    static final VerbSpec SHOW_CONFIG = new VerbSpec(
            "wg show config",
            Role.READ,
            "Render a [Peer] block.",
            List.of(required("name", "peer name"), optional("relay", "ip:port")));
    static final List<VerbSpec> CATALOGUE = List.of(
            BuiltinVerbs.HELP, BuiltinVerbs.SUBSCRIBE, PEER_ADD, PEER_LIST, LINK_ADD, LINK_LIST, SHOW, SHOW_CONFIG);

    private static final String TOKEN = "operator-token-123";

    /** What the fake relay received, one entry per request: verb and args. */
    private final List<List<String>> received = new CopyOnWriteArrayList<>();

    private ControlServer server;
    private ServerSocket silent;
    private Socket unlistened;

    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err) {}

    private VerbRegistry registry() {
        VerbRegistry r = new VerbRegistry();
        r.bind(PEER_LIST, args -> {
            record("wg peer list", args);
            Map<String, Object> alice = new LinkedHashMap<>();
            alice.put("name", "alice");
            alice.put("endpoint", "198.51.100.1:51820");
            alice.put("label", null);
            alice.put("rx_packets", 12);
            Map<String, Object> bob = new LinkedHashMap<>();
            bob.put("name", "bob-with-a-long-name");
            bob.put("endpoint", "[2001:db8::1]:4500");
            bob.put("label", "home router");
            bob.put("rx_packets", 0);
            return Map.of("peers", List.of(alice, bob));
        });
        r.bind(LINK_LIST, args -> Map.of("links", List.of()));
        r.bind(SHOW, args -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rx_packets", 5);
            m.put("fwd_packets", 4);
            m.put("xdp_attached", false);
            m.put("xdp_mode", "off");
            return m;
        });
        r.bind(SHOW_CONFIG, args -> {
            record("wg show config", args);
            return Map.of(
                    "config", "[Peer]\nPublicKey = KEY\nEndpoint = " + (args.size() > 1 ? args.get(1) : "?") + "\n");
        });
        r.bind(PEER_ADD, args -> {
            record("wg peer add", args);
            return Map.of("peer", Map.of("name", args.get(0)));
        });
        r.bind(LINK_ADD, args -> {
            record("wg link add", args);
            throw new ControlException(
                    "link_limit_exceeded", "each peer can be in at most one link; 'alice' is already linked to 'bob'");
        });
        return r;
    }

    private void record(String verb, List<String> args) {
        List<String> call = new ArrayList<>();
        call.add(verb);
        call.addAll(args);
        received.add(call);
    }

    private String startServer(String token) throws Exception {
        server = new ControlServer(new InetSocketAddress("127.0.0.1", 0), registry(), token);
        server.start();
        return "127.0.0.1:" + server.boundPort();
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (silent != null) {
            silent.close();
        }
        if (unlistened != null) {
            unlistened.close();
        }
    }

    private static Run ctl(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StringWriter picocliOut = new StringWriter();
        StringWriter picocliErr = new StringWriter();
        CommandLine cli = new CommandLine(new CtlCommand(
                CATALOGUE,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)));
        cli.setOut(new PrintWriter(picocliOut, true));
        cli.setErr(new PrintWriter(picocliErr, true));
        int exit = cli.execute(args);
        return new Run(
                exit,
                out.toString(StandardCharsets.UTF_8) + picocliOut,
                err.toString(StandardCharsets.UTF_8) + picocliErr);
    }

    /** An address where nothing listens: a bound, never-listening socket holds the port. */
    private String unreachable() throws IOException {
        unlistened = new Socket();
        unlistened.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return "127.0.0.1:" + unlistened.getLocalPort();
    }

    // ---- exit 0 ----------------------------------------------------------------------------

    @Test
    void printsAListResultAsATableWithAHeaderAndAlignedColumns() throws Exception {
        Run r = ctl("--control", startServer(null), "wg", "peer", "list");
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.out());
        assertTrue(lines.get(0).matches("NAME\\s+ENDPOINT\\s+LABEL\\s+RX_PACKETS"), lines.get(0));
        assertTrue(lines.get(1).matches("alice\\s+198\\.51\\.100\\.1:51820\\s+-\\s+12"), lines.get(1));
        assertTrue(
                lines.get(2).matches("bob-with-a-long-name\\s+\\[2001:db8::1]:4500\\s+home router\\s+0"), lines.get(2));
        int endpointColumn = lines.get(0).indexOf("ENDPOINT");
        assertEquals(endpointColumn, lines.get(1).indexOf("198."), "columns line up");
        assertEquals(endpointColumn, lines.get(2).indexOf("[2001"), "columns line up");
    }

    @Test
    void printsAnEmptyListAsNone() throws Exception {
        Run r = ctl("--control", startServer(null), "wg", "link", "list");
        assertEquals(0, r.exit());
        assertEquals("(none)", r.out().strip());
    }

    @Test
    void printsAnObjectResultAsKeyValueLines() throws Exception {
        Run r = ctl("--control", startServer(null), "wg", "show");
        assertEquals(0, r.exit(), r.err());
        assertEquals(
                List.of("rx_packets    5", "fwd_packets   4", "xdp_attached  false", "xdp_mode      off"),
                r.out().lines().toList());
    }

    @Test
    void printsARenderedConfigVerbatimAndPassesWordsAfterTheVerbAsArguments() throws Exception {
        Run r = ctl("--control", startServer(null), "wg", "show", "config", "alice", "203.0.113.7:51820");
        assertEquals(0, r.exit(), r.err());
        assertEquals("[Peer]\nPublicKey = KEY\nEndpoint = 203.0.113.7:51820\n", r.out());
        assertEquals(List.of(List.of("wg show config", "alice", "203.0.113.7:51820")), received);
    }

    @Test
    void sendsALabelOfSeveralWordsAsArgumentsTheRelayJoins() throws Exception {
        Run r = ctl(
                "--control", startServer(null), "wg", "peer", "add", "alice", "198.51.100.1:51820", "home", "router");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(List.of("wg peer add", "alice", "198.51.100.1:51820", "home router")), received);
    }

    @Test
    void printsTheRawResponseWithJson() throws Exception {
        Run r = ctl("--control", startServer(null), "--json", "wg", "show");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(1, lines.size());
        JsonNode response = ControlJson.MAPPER.readTree(lines.get(0));
        assertTrue(response.get("ok").asBoolean());
        assertEquals(5, response.get("result").get("rx_packets").asInt());
        assertTrue(response.has("id"));
    }

    @Test
    void printsHelpFromTheRelayReadably() throws Exception {
        Run r = ctl("--control", startServer(null), "help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(
                r.out().lines().anyMatch(l -> l.startsWith("wg link add <a> <b>") && l.contains("operator")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("wg peer list") && l.contains("read")), r.out());
    }

    @Test
    void sendsTheTokenFromTheTokenFileWithSurroundingWhitespaceRemoved() throws Exception {
        String control = startServer(TOKEN);
        Path tokenFile = Files.writeString(tmp.resolve("token"), "\n  " + TOKEN + "  \n");
        Run ok = ctl(
                "--control", control, "--token-file", tokenFile.toString(), "wg", "peer", "add", "a", "192.0.2.1:1");
        assertEquals(0, ok.exit(), ok.err());
        Run without = ctl("--control", control, "wg", "peer", "add", "b", "192.0.2.1:2");
        assertEquals(1, without.exit());
        assertTrue(without.err().startsWith("error: forbidden: "), without.err());
        assertEquals(1, received.size(), "the refused request never reached the verb");
    }

    @Test
    void subscribePrintsTheAcknowledgementThenEveryEventUntilTheRelayCloses() throws Exception {
        String control = startServer(null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cli = new CommandLine(new CtlCommand(
                CATALOGUE,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)));
        java.util.concurrent.CompletableFuture<Integer> exit = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cli.execute("--control", control, "subscribe"));
        org.wgrelay.control.testing.Await.until(
                "ctl subscribed", () -> out.toString(StandardCharsets.UTF_8).contains("subscribed"));
        server.publish("state.wg.peer_added", Map.of("name", "alice"));
        server.publish("state.wg.peer_removed", Map.of("name", "alice"));
        org.wgrelay.control.testing.Await.until(
                "two events printed",
                () -> out.toString(StandardCharsets.UTF_8).lines().count() == 3);
        server.close();
        assertEquals(0, exit.get(10, java.util.concurrent.TimeUnit.SECONDS));
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertTrue(lines.get(0).matches("subscribed\\s+true"), lines.get(0));
        JsonNode first = ControlJson.MAPPER.readTree(lines.get(1));
        assertEquals("state.wg.peer_added", first.get("event").asText());
        assertEquals("alice", first.get("data").get("name").asText());
        assertEquals(
                "state.wg.peer_removed",
                ControlJson.MAPPER.readTree(lines.get(2)).get("event").asText());
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    // ---- exit 1 ----------------------------------------------------------------------------

    @Test
    void exitsOneWithCodeAndMessageOnStderrWhenTheRelaySaysNo() throws Exception {
        Run r = ctl("--control", startServer(null), "wg", "link", "add", "alice", "carol");
        assertEquals(1, r.exit());
        assertEquals("", r.out());
        assertEquals(
                "error: link_limit_exceeded: each peer can be in at most one link; 'alice' is already linked to 'bob'",
                r.err().strip());
        assertEquals(1, r.err().lines().count());
    }

    @Test
    void exitsOneWithTheRawErrorOnStderrWithJson() throws Exception {
        Run r = ctl("--control", startServer(null), "--json", "wg", "link", "add", "alice", "carol");
        assertEquals(1, r.exit());
        assertEquals("", r.out());
        JsonNode response = ControlJson.MAPPER.readTree(r.err().strip());
        assertEquals("link_limit_exceeded", response.get("error").get("code").asText());
    }

    @Test
    void exitsOneForAVerbTheRelayDoesNotKnowOrArgumentsItRefuses() throws Exception {
        String control = startServer(null);
        Run unknown = ctl("--control", control, "wg", "frobnicate", "now");
        assertEquals(1, unknown.exit());
        assertTrue(unknown.err().startsWith("error: unknown_verb: "), unknown.err());
        Run missing = ctl("--control", control, "wg", "link", "add", "alice");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("error: missing_arg: "), missing.err());
        Run tooMany = ctl("--control", control, "wg", "show", "config", "a", "192.0.2.1:1", "extra");
        assertEquals(1, tooMany.exit());
        assertTrue(tooMany.err().startsWith("error: invalid_arg: "), tooMany.err());
    }

    // ---- exit 2 ----------------------------------------------------------------------------

    @Test
    void exitsTwoForUsageErrorsWithoutContactingTheRelay() throws Exception {
        String control = startServer(null);
        Run noVerb = ctl("--control", control);
        assertEquals(2, noVerb.exit());
        assertTrue(noVerb.err().contains("no verb"), noVerb.err());

        assertEquals(
                2, ctl("--control", control, "--bogus-option", "wg", "show").exit());
        assertEquals(2, ctl("--control", "nonsense", "wg", "show").exit());
        assertEquals(2, ctl("--control", "127.0.0.1:99999", "wg", "show").exit());
        assertEquals(2, ctl("--control", "127.0.0.1:", "wg", "show").exit());
        assertEquals(2, ctl("--control", "127.0.0.1:0", "wg", "show").exit());
        assertEquals(
                2, ctl("--control", control, "--timeout", "soon", "wg", "show").exit());
        Run noToken =
                ctl("--control", control, "--token-file", tmp.resolve("missing").toString(), "wg", "show");
        assertEquals(2, noToken.exit());
        assertTrue(noToken.err().contains("--token-file"), noToken.err());
        assertEquals(List.of(), received);
    }

    @Test
    void exitsTwoForATimeoutThatIsNotAUsableNumberOfSeconds() throws Exception {
        String control = startServer(null);
        for (String timeout : List.of("-1", "3000000")) {
            Run r = ctl("--control", control, "--timeout", timeout, "wg", "show");
            assertEquals(2, r.exit(), "--timeout " + timeout + ": " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
    }

    // ---- exit 3 ----------------------------------------------------------------------------

    @Test
    void exitsThreeWithAClearMessageWhenNothingListens() throws Exception {
        String address = unreachable();
        Run r = ctl("--control", address, "wg", "show");
        assertEquals(3, r.exit());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("cannot reach") && r.err().contains(address), r.err());
    }

    @Test
    void exitsThreeWhenTheRelayClosesWithoutAnswering() throws Exception {
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread closer = new Thread(() -> {
            try (Socket s = silent.accept()) {
                s.getInputStream().read();
            } catch (IOException ignored) {
                // test over
            }
        });
        closer.start();
        Run r = ctl("--control", "127.0.0.1:" + silent.getLocalPort(), "wg", "show");
        assertEquals(3, r.exit());
        assertTrue(r.err().contains("closed the connection without answering"), r.err());
        closer.join(5000);
    }

    @Test
    void exitsThreeWhenTheRelayDoesNotAnswerInTime() throws Exception {
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()); // accepts (backlog), never answers
        Run r = ctl("--control", "127.0.0.1:" + silent.getLocalPort(), "--timeout", "1", "wg", "show");
        assertEquals(3, r.exit());
        assertTrue(r.err().contains("cannot reach"), r.err());
    }

    // ---- offline help ------------------------------------------------------------------------

    @Test
    void printsAVerbsHelpFromTheCatalogueWithoutARelay() throws Exception {
        Run r = ctl("--control", unreachable(), "wg", "link", "add", "--help");
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("Usage: wg-relay ctl wg link add <a> <b>\n"), r.out());
        assertTrue(r.out().contains(LINK_ADD.description()), r.out());
        assertTrue(r.out().contains("Role: operator"));
        assertTrue(r.out().contains("a  first peer name"), r.out());
    }

    @Test
    void printsTheVerbListWithHelpAndNoVerb() throws Exception {
        Run r = ctl("--control", unreachable(), "--help");
        assertEquals(0, r.exit());
        for (var v : CATALOGUE) {
            assertTrue(r.out().contains("  " + v.usage() + "\n"), "lists " + v.verb());
        }
        Run shortFlag = ctl("--control", unreachable(), "wg", "peer", "add", "-h");
        assertEquals(0, shortFlag.exit());
        assertTrue(shortFlag.out().startsWith("Usage: wg-relay ctl wg peer add <name> <endpoint> [label...]"));
        assertFalse(shortFlag.out().contains("Verbs:"));
    }
}
