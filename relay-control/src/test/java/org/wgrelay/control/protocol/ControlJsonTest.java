package org.wgrelay.control.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request parsing on hostile input: every malformed line is a {@code bad_request} with
 * a sentence, never an exception of another kind, and costs little however it is built.
 */
class ControlJsonTest {

    private static ControlException rejected(String line) {
        ControlException e = assertThrows(ControlException.class, () -> ControlJson.parseRequest(line), line);
        assertEquals(ErrorCodes.BAD_REQUEST, e.code(), () -> "code for " + abbreviate(line));
        assertFalse(e.getMessage().isBlank(), "a rejection carries a sentence for a human");
        return e;
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static JsonNode json(String text) throws Exception {
        return ControlJson.MAPPER.readTree(text);
    }

    @Test
    void parsesIdVerbArgsAndTokenOfAWellFormedRequest() throws Exception {
        ControlRequest r = ControlJson.parseRequest(
                "{\"id\": 7, \"verb\": \"wg link add\", \"args\": [\"alice\", \"bob\"], \"token\": \"t0k\"}");
        assertEquals(json("7"), r.id());
        assertEquals("wg link add", r.verb());
        assertEquals(List.of("alice", "bob"), r.args());
        assertEquals("t0k", r.token());
    }

    @Test
    void treatsAbsentOrNullArgsIdAndTokenAsNone() throws Exception {
        ControlRequest r = ControlJson.parseRequest("{\"verb\":\"wg show\"}");
        assertEquals(List.of(), r.args());
        assertTrue(r.id().isNull());
        assertEquals(null, r.token());
        r = ControlJson.parseRequest("{\"verb\":\"wg show\",\"args\":null,\"id\":null,\"token\":null}");
        assertEquals(List.of(), r.args());
        assertTrue(r.id().isNull());
        assertEquals(null, r.token());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "hello",
                "{",
                "}",
                "{\"verb\":",
                "{'verb':'help'}",
                "{\"verb\":\"help\",}",
                "{verb:\"help\"}",
                "NaN",
                "{\"id\":NaN,\"verb\":\"help\"}",
                "{\"verb\":\"help\"\u0000}",
                "\u0000",
                "{\"verb\":\"he\u0001lp\"}",
                "{\"id\":01,\"verb\":\"help\"}",
                "{\"id\":0x10,\"verb\":\"help\"}"
            })
    void answersBadRequestForALineThatIsNotJson(String line) {
        assertTrue(rejected(line).getMessage().startsWith("not valid JSON"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "[]", "[{\"verb\":\"help\"}]", "42", "-1.5e3", "\"help\"", "true", "null"})
    void answersBadRequestForJsonThatIsNotAnObject(String line) {
        rejected(line);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{}",
                "{\"id\":1}",
                "{\"verb\":null}",
                "{\"verb\":5}",
                "{\"verb\":true}",
                "{\"verb\":[\"help\"]}",
                "{\"verb\":{\"name\":\"help\"}}",
                "{\"verb\":\"\"}",
                "{\"verb\":\"   \"}",
                "{\"verb\":\"\\t\\n\"}",
                "{\"Verb\":\"help\"}"
            })
    void answersBadRequestWhenTheVerbIsMissingNotAStringOrBlank(String line) {
        assertTrue(rejected(line).getMessage().contains("verb"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "\"alice\"",
                "5",
                "true",
                "{}",
                "{\"0\":\"alice\"}",
                "[1]",
                "[\"alice\", 2]",
                "[{}]",
                "[[\"alice\"]]",
                "[null]",
                "[\"alice\", null]",
                "[true]",
                "[1.5]"
            })
    void answersBadRequestWhenArgsIsNotAnArrayOfStrings(String args) {
        assertTrue(rejected("{\"verb\":\"wg peer add\",\"args\":" + args + "}")
                .getMessage()
                .contains("args"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"5", "true", "{}", "[\"t\"]", "{\"token\":\"t\"}"})
    void answersBadRequestWhenTheTokenIsNotAString(String token) {
        assertTrue(rejected("{\"verb\":\"wg peer remove\",\"args\":[\"a\"],\"token\":" + token + "}")
                .getMessage()
                .contains("token"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "7                 | 7",
                "-3                | -3",
                "0                 | 0",
                "\"req-1\"         | \"req-1\"",
                "\"\"              | \"\"",
                "true              | true",
                "false             | false",
                "null              | null",
                "2.5               | 2.5",
                "123456789012345678901234567890 | 123456789012345678901234567890",
                "{}                | null",
                "{\"n\":1}         | null",
                "[]                | null",
                "[1,2]             | null"
            })
    void echoesAScalarIdAndReplacesAnObjectOrArrayIdWithNull(String id, String expected) throws Exception {
        ControlRequest r = ControlJson.parseRequest("{\"id\":" + id + ",\"verb\":\"help\"}");
        assertEquals(json(expected), r.id());
        String line = ControlJson.okLine(r.id(), Map.of());
        assertEquals(json(expected), json(line).get("id"), "the written response carries the same id");
    }

    @Test
    void readsTheIdOfARequestItRejectsSoTheErrorCanEchoIt() throws Exception {
        assertEquals(json("7"), ControlJson.idOf("{\"id\":7,\"verb\":5}"));
        assertEquals(json("\"x\""), ControlJson.idOf("{\"id\":\"x\",\"args\":\"no\"}"));
        assertTrue(ControlJson.idOf("{\"id\":{\"a\":1},\"verb\":5}").isNull());
        assertTrue(ControlJson.idOf("{\"id\":7,").isNull(), "an unparseable line echoes null");
        assertTrue(ControlJson.idOf("[7]").isNull());
        assertTrue(ControlJson.idOf("[".repeat(100_000)).isNull());
    }

    @Test
    void refusesDeeplyNestedJsonQuicklyAndWithoutAStackOverflow() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            rejected("[".repeat(100_000));
            rejected("{\"a\":".repeat(100_000));
            rejected("{\"verb\":\"help\",\"args\":" + "[".repeat(100_000));
            rejected("{\"id\":" + "[".repeat(50) + "]".repeat(50) + ",\"verb\":\"help\"}");
            rejected("{\"verb\":\"help\",\"x\":" + "{\"a\":".repeat(20) + "1" + "}".repeat(20) + "}");
        });
    }

    @Test
    void refusesNumbersLongerThanAnyIdNeedsWhileEchoingLongOnesExactly() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            rejected("{\"id\":" + "9".repeat(100_000) + ",\"verb\":\"help\"}");
            rejected("{\"id\":1." + "0".repeat(100_000) + "1,\"verb\":\"help\"}");
        });
        String sixtyDigits = "9".repeat(60);
        ControlRequest r = ControlJson.parseRequest("{\"id\":" + sixtyDigits + ",\"verb\":\"help\"}");
        assertTrue(ControlJson.okLine(r.id(), Map.of()).contains("\"id\":" + sixtyDigits + ","));
    }

    @Test
    void echoesAnIdWithAHugeExponentAsTheSameNumber() throws Exception {
        for (String id : List.of("1e400", "-1e400", "1e-400")) {
            ControlRequest r = ControlJson.parseRequest("{\"id\":" + id + ",\"verb\":\"help\"}");
            JsonNode echoed = json(ControlJson.okLine(r.id(), Map.of())).get("id");
            assertTrue(echoed.isNumber(), id + " came back as " + echoed);
            assertEquals(
                    0, new java.math.BigDecimal(id).compareTo(echoed.decimalValue()), id + " came back as " + echoed);
        }
    }

    @Test
    void keepsUnicodeInVerbArgsIdAndTokenIntact() throws Exception {
        ControlRequest r = ControlJson.parseRequest("{\"id\":\"ключ-\uD83D\uDD11\",\"verb\":\"wg peer add\","
                + "\"args\":[\"名前\",\"\\u00e9\\u0301\",\"\uD83D\uDE00 smile\",\"\\uD83D\\uDE00\"],\"token\":\"tök\"}");
        assertEquals("ключ-\uD83D\uDD11", r.id().asText());
        assertEquals(List.of("名前", "\u00e9\u0301", "\uD83D\uDE00 smile", "\uD83D\uDE00"), r.args());
        assertEquals("tök", r.token());
        JsonNode echoed = json(ControlJson.okLine(r.id(), Map.of("args", r.args())));
        List<String> back = new java.util.ArrayList<>();
        echoed.get("result").get("args").forEach(a -> back.add(a.asText()));
        assertEquals(r.args(), back, "written back unchanged");
        assertEquals(r.id(), echoed.get("id"));
    }

    @Test
    void answersEvenWhenTheIdHoldsALoneSurrogate() throws Exception {
        ControlRequest r = ControlJson.parseRequest("{\"id\":\"\\ud800\",\"verb\":\"help\"}");
        String line = ControlJson.okLine(r.id(), Map.of());
        assertTrue(json(line).get("ok").asBoolean(), "the response is still one JSON object: " + line);
    }

    @Test
    void foldsWhitespaceInTheVerbSoWordsMatch() throws Exception {
        assertEquals(
                "wg peer list",
                ControlJson.parseRequest("{\"verb\":\"  wg \\t peer\\n  list \"}")
                        .verb());
    }

    @Test
    void ignoresUnknownFieldsForForwardCompatibility() throws Exception {
        assertEquals(
                "help",
                ControlJson.parseRequest("{\"verb\":\"help\",\"trace\":{\"a\":[1,2]},\"v\":2}")
                        .verb());
    }

    @Test
    void answersBadRequestForContentAfterTheRequestObject() {
        rejected("{\"id\":1,\"verb\":\"help\"} garbage");
        rejected("{\"id\":1,\"verb\":\"help\"}{\"id\":2,\"verb\":\"wg peer remove\",\"args\":[\"alice\"]}");
        rejected("{\"id\":1,\"verb\":\"help\"} // comment");
        rejected("{\"id\":1,\"verb\":\"help\"} 5");
    }

    @Test
    void answersBadRequestForDuplicateKeys() {
        rejected("{\"verb\":\"wg show\",\"verb\":\"wg peer remove\",\"args\":[\"a\"]}");
        rejected("{\"verb\":\"wg peer remove\",\"args\":[\"a\"],\"token\":\"x\",\"token\":\"y\"}");
        rejected("{\"id\":1,\"id\":2,\"verb\":\"help\"}");
    }

    @Test
    void writesResponsesAndEventsAsSingleLinesOfSpecShape() throws Exception {
        String error = ControlJson.errorLine(null, "link_limit_exceeded", "two\nlines \"quoted\"\u2028");
        assertFalse(error.contains("\n"), "a message with a newline still makes one line");
        JsonNode e = json(error);
        assertTrue(e.get("id").isNull());
        assertFalse(e.get("ok").asBoolean());
        assertEquals("link_limit_exceeded", e.get("error").get("code").asText());
        assertEquals(
                "two\nlines \"quoted\"\u2028", e.get("error").get("message").asText());
        assertEquals(List.of("id", "ok", "error"), fieldNames(e));

        JsonNode ok = json(ControlJson.okLine(json("\"a\""), Map.of("subscribed", true)));
        assertEquals(List.of("id", "ok", "result"), fieldNames(ok));
        assertEquals("a", ok.get("id").asText());
        assertTrue(ok.get("result").get("subscribed").asBoolean());

        JsonNode ev = json(ControlJson.eventLine("state.wg.peer_added", Map.of("name", "alice")));
        assertEquals(List.of("event", "data"), fieldNames(ev));
        assertEquals("state.wg.peer_added", ev.get("event").asText());
        assertEquals("alice", ev.get("data").get("name").asText());

        JsonNode nullResult = json(ControlJson.okLine(NullNode.getInstance(), null));
        assertTrue(nullResult.get("result").isNull());
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
