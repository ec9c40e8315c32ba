package org.wgrelay.control.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.testing.Await;
import org.wgrelay.control.testing.LineClient;
import org.wgrelay.control.verb.ArgSpec;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbRegistry;
import org.wgrelay.control.verb.VerbSpec;

/**
 * The control listener over a real TCP socket, with a few fake verbs (the subject is
 * the protocol, not the relay): ordering, ids, framing limits, hostile bytes, roles,
 * subscriptions and connection limits.
 */
class ControlServerTest {
    private static final String TOKEN = "s3cret-operator-token";
    static final VerbSpec ECHO = new VerbSpec(
            "test echo", Role.READ, "Echoes its words.", List.of(ArgSpec.optionalRest("words", "anything")));
    static final VerbSpec MUTATE = new VerbSpec("test mutate", Role.OPERATOR, "Counts a change.", List.of());
    static final VerbSpec EMIT = new VerbSpec(
            "test emit",
            Role.READ,
            "Publishes <count> events of <bytes> each.",
            List.of(ArgSpec.required("count", "events"), ArgSpec.required("bytes", "payload size")));
    static final VerbSpec FAIL = new VerbSpec("test fail", Role.READ, "Throws.", List.of());
    static final VerbSpec REFUSE = new VerbSpec("test refuse", Role.READ, "Says no.", List.of());

    private final AtomicLong mutations = new AtomicLong();
    private final AtomicReference<ControlServer> serverRef = new AtomicReference<>();
    private ControlServer server;

    private VerbRegistry registry() {
        return new VerbRegistry()
                .bind(ECHO, args -> Map.of("echo", args.isEmpty() ? "" : args.get(0)))
                .bind(MUTATE, args -> Map.of("mutations", mutations.incrementAndGet()))
                .bind(EMIT, args -> {
                    int count = Integer.parseInt(args.get(0));
                    String pad = "x".repeat(Integer.parseInt(args.get(1)));
                    for (int i = 0; i < count; i++) {
                        serverRef.get().publish("test.event", Map.of("n", i, "pad", pad));
                    }
                    return Map.of("emitted", count);
                })
                .bind(FAIL, args -> {
                    throw new IllegalStateException("the verb broke");
                })
                .bind(REFUSE, args -> {
                    throw new ControlException("test_refused", "no, because this is a test");
                });
    }

    private int start(String token) throws Exception {
        return start(token, ControlLimits.DEFAULTS);
    }

    private int start(String token, ControlLimits limits) throws Exception {
        server = new ControlServer(new InetSocketAddress("127.0.0.1", 0), registry(), token, limits);
        serverRef.set(server);
        server.start();
        return server.boundPort();
    }

    static ControlLimits limits(int maxConnections, Duration line, Duration idle, Duration writeStall) {
        return new ControlLimits(maxConnections, line, idle, 256 * 1024, writeStall, 4);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String request(Object id, String verb, String... args) {
        return LineClient.request(id, verb, args).toString();
    }

    private static void assertError(JsonNode response, String code) {
        assertFalse(response.get("ok").asBoolean(), () -> "expected " + code + ": " + response);
        assertEquals(code, response.get("error").get("code").asText(), response::toString);
        assertFalse(response.get("error").get("message").asText().isBlank());
    }

    // ---- order and ids --------------------------------------------------------------

    @Test
    void answersManyPipelinedRequestsInRequestOrderEchoingEveryId() throws Exception {
        int port = start(null);
        int n = 3000;
        List<JsonNode> expectedIds = new ArrayList<>();
        List<String> expectedEcho = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String line;
            switch (i % 9) {
                case 0 -> {
                    line = request(i, "test echo", "n" + i);
                    expectedIds.add(JsonNodeFactory.instance.numberNode(i));
                    expectedEcho.add("n" + i);
                }
                case 1 -> {
                    line = request("s-" + i, "test echo", "s" + i);
                    expectedIds.add(JsonNodeFactory.instance.textNode("s-" + i));
                    expectedEcho.add("s" + i);
                }
                case 2 -> {
                    line = request(null, "test echo", "null" + i);
                    expectedIds.add(JsonNodeFactory.instance.nullNode());
                    expectedEcho.add("null" + i);
                }
                case 3 -> {
                    line = "{\"verb\":\"test echo\",\"args\":[\"absent" + i + "\"]}";
                    expectedIds.add(JsonNodeFactory.instance.nullNode());
                    expectedEcho.add("absent" + i);
                }
                case 4 -> {
                    line = "not json " + i;
                    expectedIds.add(JsonNodeFactory.instance.nullNode());
                    expectedEcho.add("!bad_request");
                }
                case 5 -> {
                    line = request(i + 0.5, "test nope");
                    expectedIds.add(JsonNodeFactory.instance.numberNode(i + 0.5));
                    expectedEcho.add("!unknown_verb");
                }
                case 6 -> {
                    line = "{\"id\":" + i + ",\"verb\":\"test echo\",\"args\":[1]}";
                    expectedIds.add(JsonNodeFactory.instance.numberNode(i));
                    expectedEcho.add("!bad_request");
                }
                case 7 -> {
                    line = request(i % 2 == 0, "test echo", "bool" + i);
                    expectedIds.add(JsonNodeFactory.instance.booleanNode(i % 2 == 0));
                    expectedEcho.add("bool" + i);
                }
                default -> {
                    line = "{\"id\":{\"obj\":" + i + "},\"verb\":\"test echo\",\"args\":[\"obj" + i + "\"]}";
                    expectedIds.add(JsonNodeFactory.instance.nullNode());
                    expectedEcho.add("obj" + i);
                }
            }
            all.append(line).append('\n');
        }
        try (LineClient c = new LineClient(port)) {
            // One writer pushes everything at once; the server must not lose or reorder under its own backpressure.
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    c.writeRaw(all.toString().getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            for (int i = 0; i < n; i++) {
                JsonNode r = c.readJson();
                assertEquals(expectedIds.get(i).toString(), r.get("id").toString(), "id of response " + i);
                String want = expectedEcho.get(i);
                if (want.startsWith("!")) {
                    assertError(r, want.substring(1));
                } else {
                    assertTrue(r.get("ok").asBoolean(), r::toString);
                    assertEquals(want, r.get("result").get("echo").asText(), "response " + i + " out of order");
                }
            }
            writer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void answersLargePipelinedResponsesInOrderThroughATinyReceiveBuffer() throws Exception {
        int port = start(null);
        int n = 400;
        String pad = "p".repeat(4000); // responses of ~4 KB, so the server's output backs up
        try (LineClient c = new LineClient(port, 4096)) {
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < n; i++) {
                all.append(request(i, "test echo", pad + i)).append('\n');
            }
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    c.writeRaw(all.toString().getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            for (int i = 0; i < n; i++) {
                JsonNode r = c.readJson();
                assertEquals(i, r.get("id").asInt());
                assertEquals(pad + i, r.get("result").get("echo").asText());
            }
            writer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFailingVerbIsAnInternalErrorAndTheConnectionStaysUsable() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            assertError(c.call("test fail"), "internal");
            JsonNode refused = c.call("test refuse");
            assertError(refused, "test_refused");
            assertEquals(
                    "no, because this is a test",
                    refused.get("error").get("message").asText());
            assertEquals(
                    "ok", c.call("test echo", "ok").get("result").get("echo").asText());
        }
    }

    @Test
    void unknownVerbsAndWrongArgumentCountsAreRefusedWithSpecCodes() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            assertError(c.call("wg peer frobnicate"), "unknown_verb");
            assertError(c.call("test emit", "1"), "missing_arg");
            assertError(c.call("test mutate", "extra"), "invalid_arg");
            JsonNode hostile = c.call("\u0007" + "x".repeat(10_000));
            assertError(hostile, "unknown_verb");
            assertTrue(
                    hostile.get("error").get("message").asText().length() < 300,
                    "the message quotes a hostile verb only briefly");
            assertFalse(hostile.get("error").get("message").asText().contains("\u0007"));
            assertEquals(0, mutations.get());
        }
    }

    @Test
    void ignoresBlankLinesAndAcceptsCrlfLineEnds() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            c.writeRaw(("\n\n   \n\t\r\n" + request(1, "test echo", "crlf") + "\r\n" + request(2, "test echo", "lf")
                            + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            JsonNode first = c.readJson();
            assertEquals(1, first.get("id").asInt());
            assertEquals("crlf", first.get("result").get("echo").asText());
            assertEquals(2, c.readJson().get("id").asInt());
        }
    }

    // ---- framing limits ---------------------------------------------------------------

    /** A well-formed request line of exactly {@code bytes} UTF-8 bytes. */
    private static String lineOfBytes(int bytes) {
        String head = "{\"id\":1,\"verb\":\"test echo\",\"args\":[\"";
        String tail = "\"]}";
        String line = head
                + "é".repeat((bytes - head.length() - tail.length()) / 2)
                + "a".repeat((bytes - head.length() - tail.length()) % 2)
                + tail;
        assertEquals(bytes, line.getBytes(StandardCharsets.UTF_8).length);
        return line;
    }

    @Test
    void acceptsALineOfExactly64KiBWithoutItsNewline() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            String line = lineOfBytes(ControlServer.MAX_LINE_BYTES);
            c.writeLine(line);
            JsonNode r = c.readJson();
            assertTrue(r.get("ok").asBoolean(), () -> r.toString().substring(0, 200));
            assertEquals(1, r.get("id").asInt());
            assertEquals(
                    ControlJson.parseRequest(line).args().get(0),
                    r.get("result").get("echo").asText());
            assertEquals(
                    "still open",
                    c.call("test echo", "still open").get("result").get("echo").asText());
        }
    }

    @Test
    void answersFrameTooLargeWithNullIdAndClosesForALineOf64KiBPlusOne() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            c.writeLine(lineOfBytes(ControlServer.MAX_LINE_BYTES + 1));
            JsonNode r = c.readJson();
            assertError(r, "frame_too_large");
            assertTrue(r.get("id").isNull(), "the oversized line is not parsed, so its id is unknown");
            assertTrue(c.closedByServer());
        }
        try (LineClient c = new LineClient(port)) {
            assertEquals(
                    "next",
                    c.call("test echo", "next").get("result").get("echo").asText(),
                    "other connections are unaffected");
        }
    }

    @Test
    void runsNothingThatFollowsAnOversizedLineOnTheSameConnection() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            StringBuilder burst = new StringBuilder(lineOfBytes(ControlServer.MAX_LINE_BYTES + 1)).append('\n');
            for (int i = 0; i < 5; i++) {
                burst.append(request(i, "test mutate")).append('\n');
            }
            c.writeRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
            JsonNode r = c.readJson();
            assertError(r, "frame_too_large");
            assertTrue(c.closedByServer());
        }
        try (LineClient c = new LineClient(port)) {
            c.call("test echo", "after"); // queued behind anything the closed connection submitted
        }
        assertEquals(
                0,
                mutations.get(),
                "requests after the oversized line were carried out on a connection"
                        + " the relay had already answered with frame_too_large");
    }

    @Test
    void answersFrameTooLargeForA10MiBLineAndClosesWithoutReadingItAll() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'a');
            AtomicLong written = new AtomicLong();
            CompletableFuture<Throwable> writer = CompletableFuture.supplyAsync(() -> {
                try {
                    for (int i = 0; i < 160; i++) { // 10 MiB
                        c.socket().getOutputStream().write(chunk);
                        written.addAndGet(chunk.length);
                    }
                    c.socket().getOutputStream().write('\n');
                    return null;
                } catch (IOException e) {
                    return e;
                }
            });
            JsonNode r = c.readJson();
            assertError(r, "frame_too_large");
            assertTrue(r.get("id").isNull());
            assertTrue(c.closedByServer());
            writer.get(10, TimeUnit.SECONDS);
        }
        try (LineClient c = new LineClient(port)) {
            assertEquals(
                    "ok", c.call("test echo", "ok").get("result").get("echo").asText());
        }
    }

    @Test
    void stopsReadingAnEndlessLineInsteadOfBufferingIt() throws Exception {
        int port = start(null);
        long limit = 512L * 1024 * 1024;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[256 * 1024];
            Arrays.fill(chunk, (byte) '{');
            long written = 0;
            IOException stopped = null;
            try {
                while (written < limit) {
                    out.write(chunk);
                    written += chunk.length;
                }
            } catch (IOException e) {
                stopped = e;
            }
            assertNotNull(stopped, "the server read all " + limit + " bytes of one line instead of closing");
            // Loopback socket buffers can absorb tens of MiB (tcp_rmem max is often 32 MiB); more
            // than that means the server kept reading the line.
            assertTrue(
                    written < 128L * 1024 * 1024,
                    "about socket buffers' worth went out before the server closed, not " + written + " bytes");
        }
    }

    // ---- hostile bytes ----------------------------------------------------------------

    @Test
    void answersEveryLineOfRandomBytesWithBadRequestAndKeepsServing() throws Exception {
        int port = start(null);
        Random random = new Random(20240601);
        byte[] junk = new byte[256 * 1024];
        random.nextBytes(junk);
        int expected = 0;
        int start = 0;
        for (int i = 0; i <= junk.length; i++) {
            if (i == junk.length || junk[i] == '\n') {
                int end = i;
                if (end > start && junk[end - 1] == '\r') {
                    end--;
                }
                String decoded = strictUtf8(Arrays.copyOfRange(junk, start, end));
                if (decoded == null || !decoded.isBlank()) {
                    expected++;
                }
                start = i + 1;
            }
        }
        try (LineClient c = new LineClient(port)) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.write(junk);
            all.write(("\n" + request("after", "test echo", "alive") + "\n").getBytes(StandardCharsets.UTF_8));
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    c.writeRaw(all.toByteArray());
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            int answered = 0;
            while (true) {
                JsonNode r = c.readJson();
                if (r.get("id").asText().equals("after")) {
                    assertEquals("alive", r.get("result").get("echo").asText());
                    break;
                }
                assertError(r, "bad_request");
                assertTrue(r.get("id").isNull());
                answered++;
            }
            assertEquals(expected, answered, "one bad_request per non-blank line of junk");
            writer.get(10, TimeUnit.SECONDS);
            assertEquals(0, mutations.get());
        }
    }

    private static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    @Test
    void answersBadRequestForInvalidUtf8AndTheConnectionStaysUsable() throws Exception {
        int port = start(null);
        byte[][] invalid = {
            {(byte) 0xC3, (byte) 0x28}, // truncated two-byte sequence
            {(byte) 0xC0, (byte) 0xAF}, // overlong '/'
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // UTF-16 surrogate encoded in UTF-8
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // beyond U+10FFFF
            {(byte) 0xFF},
            {(byte) 0xE2, (byte) 0x82}, // cut off mid-character
        };
        try (LineClient c = new LineClient(port)) {
            for (byte[] bad : invalid) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                line.write("{\"id\":1,\"verb\":\"test mutate\",\"args\":[\"".getBytes(StandardCharsets.UTF_8));
                line.write(bad);
                line.write("\"]}\n".getBytes(StandardCharsets.UTF_8));
                c.writeRaw(line.toByteArray());
                JsonNode r = c.readJson();
                assertError(r, "bad_request");
                assertTrue(r.get("id").isNull());
                assertEquals(
                        "ok",
                        c.call("test echo", "ok").get("result").get("echo").asText());
            }
            assertEquals(0, mutations.get());
        }
    }

    @Test
    void anUnterminatedLineBeforeTheClientClosesIsNotARequest() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            c.writeRaw(request(1, "test mutate").getBytes(StandardCharsets.UTF_8));
            c.socket().shutdownOutput();
            assertNull(c.readLine(), "nothing is answered and the server closes its side");
        }
        try (LineClient c = new LineClient(port)) {
            c.writeRaw("{\"id\":1,\"verb\":\"test mu".getBytes(StandardCharsets.UTF_8));
            c.socket().setSoLinger(true, 0); // close with a reset
        }
        try (LineClient c = new LineClient(port)) {
            assertEquals(
                    "ok", c.call("test echo", "ok").get("result").get("echo").asText());
        }
        assertEquals(0, mutations.get());
    }

    // ---- roles --------------------------------------------------------------------------

    @Test
    void operatorVerbsNeedTheTokenWhileReadVerbsAreOpen() throws Exception {
        int port = start(TOKEN);
        try (LineClient c = new LineClient(port)) {
            assertError(c.call("test mutate"), "forbidden");
            assertError(c.callWithToken("wrong", "test mutate"), "forbidden");
            assertError(c.callWithToken(TOKEN.substring(0, TOKEN.length() - 1), "test mutate"), "forbidden");
            assertError(c.callWithToken(TOKEN + "x", "test mutate"), "forbidden");
            assertError(c.callWithToken(" " + TOKEN, "test mutate"), "forbidden");
            assertError(c.callWithToken("", "test mutate"), "forbidden");
            assertError(c.callWithToken(TOKEN.toUpperCase(), "test mutate"), "forbidden");
            c.writeLine("{\"id\":9,\"verb\":\"test mutate\",\"token\":null}");
            assertError(c.readJson(), "forbidden");
            assertEquals(0, mutations.get(), "nothing ran without the token");

            JsonNode ok = c.callWithToken(TOKEN, "test mutate");
            assertTrue(ok.get("ok").asBoolean(), ok::toString);
            assertEquals(1, mutations.get());

            assertTrue(c.call("test echo", "open").get("ok").asBoolean(), "read verbs need no token");
            assertTrue(c.call("help").get("ok").asBoolean());
            assertTrue(
                    c.callWithToken("wrong", "test echo", "x").get("ok").asBoolean(),
                    "a wrong token on a read verb does not matter");
        }
    }

    @Test
    void forbiddenIsAnsweredBeforeArgumentsAreChecked() throws Exception {
        int port = start(TOKEN);
        try (LineClient c = new LineClient(port)) {
            assertError(c.call("test mutate", "extra", "args"), "forbidden");
        }
    }

    @Test
    void withoutATokenConfiguredOperatorVerbsAreOpen() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            assertTrue(c.call("test mutate").get("ok").asBoolean());
            assertTrue(c.callWithToken("anything", "test mutate").get("ok").asBoolean());
        }
    }

    // ---- subscriptions --------------------------------------------------------------------

    @Test
    void subscriberReceivesEventsAsEventDataLines() throws Exception {
        int port = start(TOKEN);
        try (LineClient sub = new LineClient(port);
                LineClient other = new LineClient(port)) {
            JsonNode ack = sub.call("subscribe");
            assertTrue(ack.get("ok").asBoolean(), "subscribe is a read verb: " + ack);
            assertTrue(ack.get("result").get("subscribed").asBoolean());

            assertEquals(
                    3,
                    other.call("test emit", "3", "5")
                            .get("result")
                            .get("emitted")
                            .asInt());
            for (int i = 0; i < 3; i++) {
                JsonNode ev = sub.readJson();
                List<String> fields = new ArrayList<>();
                ev.fieldNames().forEachRemaining(fields::add);
                assertEquals(List.of("event", "data"), fields);
                assertEquals("test.event", ev.get("event").asText());
                assertEquals(i, ev.get("data").get("n").asInt());
                assertEquals("xxxxx", ev.get("data").get("pad").asText());
            }
        }
    }

    @Test
    void everySubscriberGetsEveryEventInPublishOrder() throws Exception {
        int port = start(null);
        List<LineClient> subs = new ArrayList<>();
        try (LineClient other = new LineClient(port)) {
            for (int i = 0; i < 5; i++) {
                LineClient s = new LineClient(port);
                subs.add(s);
                assertTrue(s.call("subscribe").get("ok").asBoolean());
            }
            other.call("test emit", "200", "10");
            for (LineClient s : subs) {
                for (int i = 0; i < 200; i++) {
                    assertEquals(i, s.readJson().get("data").get("n").asInt());
                }
            }
        } finally {
            for (LineClient s : subs) {
                s.close();
            }
        }
    }

    @Test
    void dropsASubscriberThatNeverReadsWhileOtherClientsAreStillServed() throws Exception {
        int port = start(null);
        try (LineClient stuck = new LineClient(port, 4096);
                LineClient other = new LineClient(port)) {
            assertTrue(stuck.call("subscribe").get("ok").asBoolean());
            int total = 0;
            // Publish until the subscriber's buffers are far past the high-water mark.
            for (int round = 0; round < 8; round++) {
                JsonNode r = other.call("test emit", "500", "4096");
                assertTrue(r.get("ok").asBoolean(), r::toString);
                total += 500;
            }
            assertEquals(
                    "served",
                    other.call("test echo", "served").get("result").get("echo").asText());

            int received = 0;
            while (stuck.readLine() != null) {
                received++;
            }
            assertTrue(received < total, "the stuck subscriber was dropped; it got " + received + " of " + total);
            assertEquals(
                    "still served",
                    other.call("test echo", "still served")
                            .get("result")
                            .get("echo")
                            .asText());
        }
    }

    // ---- connection limit ---------------------------------------------------------------------

    @Test
    void aConnectionOverTheLimitClosesTheLeastRecentlyUsedOneWithAConnectionLimitLine() throws Exception {
        int max = 20;
        int port = start(null, limits(max, Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(30)));
        List<LineClient> clients = new ArrayList<>();
        try (LineClient active = new LineClient(port)) {
            for (int i = 0; i < max - 1; i++) {
                clients.add(new LineClient(port));
            }
            Await.until("every connection holds a slot", () -> server.connectionCount() == max);
            // The first connection is the oldest, but it is the one asking questions.
            assertEquals(
                    "busy",
                    active.call("test echo", "busy").get("result").get("echo").asText());
            List<LineClient> newer = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                LineClient c = new LineClient(port);
                newer.add(c);
                clients.add(c);
                assertEquals(
                        "new" + i,
                        c.call("test echo", "new" + i).get("result").get("echo").asText());
            }
            for (int i = 0; i < 10; i++) {
                JsonNode r = clients.get(i).readJson();
                assertError(r, "connection_limit");
                assertTrue(r.get("id").isNull());
                assertTrue(clients.get(i).closedByServer(), "idle connection " + i + " was closed for room");
            }
            for (int i = 10; i < max - 1; i++) {
                assertEquals(
                        "kept" + i,
                        clients.get(i)
                                .call("test echo", "kept" + i)
                                .get("result")
                                .get("echo")
                                .asText());
            }
            assertEquals(
                    "still",
                    active.call("test echo", "still").get("result").get("echo").asText());
            for (LineClient c : newer) {
                assertTrue(c.call("test echo", "x").get("ok").asBoolean());
            }
            assertEquals(max, server.connectionCount());
        } finally {
            for (LineClient c : clients) {
                c.close();
            }
        }
    }

    @Test
    void closingTheServerClosesItsConnections() throws Exception {
        int port = start(null);
        try (LineClient c = new LineClient(port)) {
            assertTrue(c.call("help").get("ok").asBoolean());
            server.close();
            assertTrue(c.closedByServer());
        }
    }
}
