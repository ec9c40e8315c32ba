package org.wgrelay.control.verb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.protocol.ErrorCodes;

/**
 * The verb catalogue against SPEC's table, argument checks before any handler runs, and
 * {@code help}'s shape — the one source the server, the client and the docs share.
 */
class VerbRegistryTest {
    /** SPEC's verb table plus help and subscribe: verb, role. */
    private static final Map<String, String> SPEC_VERBS = new LinkedHashMap<>();

    static {
        SPEC_VERBS.put("help", "read");
        SPEC_VERBS.put("subscribe", "read");
        SPEC_VERBS.put("wg peer add", "operator");
        SPEC_VERBS.put("wg peer update", "operator");
        SPEC_VERBS.put("wg peer pubkey", "operator");
        SPEC_VERBS.put("wg peer nic", "operator");
        SPEC_VERBS.put("wg peer remove", "operator");
        SPEC_VERBS.put("wg peer list", "read");
        SPEC_VERBS.put("wg link add", "operator");
        SPEC_VERBS.put("wg link remove", "operator");
        SPEC_VERBS.put("wg link list", "read");
        SPEC_VERBS.put("wg show", "read");
        SPEC_VERBS.put("wg show config", "read");
        SPEC_VERBS.put("wg show drop_sources", "read");
        SPEC_VERBS.put("wg blocklist list", "read");
        SPEC_VERBS.put("wg blocklist add", "operator");
        SPEC_VERBS.put("wg blocklist remove", "operator");
    }

    /** A registry serving every catalogue verb with a handler that echoes its args. */
    private static VerbRegistry fullRegistry() {
        VerbRegistry r = new VerbRegistry();
        for (VerbSpec spec : VerbCatalog.ALL) {
            if (r.find(spec.verb()) == null) {
                r.bind(spec, args -> Map.of("args", args));
            }
        }
        return r;
    }

    private static JsonNode help(VerbRegistry r, String... args) throws ControlException {
        return ControlJson.MAPPER.valueToTree(r.find("help").handler().handle(List.of(args)));
    }

    private static ControlException refused(VerbSpec spec, String... args) {
        return assertThrows(ControlException.class, () -> VerbRegistry.checkArgs(spec, List.of(args)));
    }

    @Test
    void catalogueHoldsExactlySpecsVerbsWithSpecsRoles() {
        Map<String, String> catalogue = new LinkedHashMap<>();
        for (VerbSpec v : VerbCatalog.ALL) {
            assertNull(catalogue.put(v.verb(), v.role().word()), "listed twice: " + v.verb());
        }
        assertEquals(SPEC_VERBS, catalogue);
    }

    @Test
    void catalogueArgumentsMatchSpecsTable() {
        assertEquals(List.of(true, true, false), required(VerbCatalog.PEER_ADD));
        assertEquals(List.of(true, true), required(VerbCatalog.PEER_UPDATE));
        assertEquals(List.of(true, true), required(VerbCatalog.PEER_PUBKEY));
        assertEquals(List.of(true, false), required(VerbCatalog.PEER_NIC));
        assertEquals(List.of(true), required(VerbCatalog.PEER_REMOVE));
        assertEquals(List.of(), required(VerbCatalog.PEER_LIST));
        assertEquals(List.of(true, true), required(VerbCatalog.LINK_ADD));
        assertEquals(List.of(true, true), required(VerbCatalog.LINK_REMOVE));
        assertEquals(List.of(), required(VerbCatalog.LINK_LIST));
        assertEquals(List.of(), required(VerbCatalog.SHOW));
        assertEquals(List.of(true, false), required(VerbCatalog.SHOW_CONFIG));
        assertEquals(List.of(), required(VerbCatalog.SHOW_DROP_SOURCES));
        assertEquals(List.of(), required(VerbCatalog.BLOCKLIST_LIST));
        assertEquals(List.of(true, true), required(VerbCatalog.BLOCKLIST_ADD));
        assertEquals(List.of(true), required(VerbCatalog.BLOCKLIST_REMOVE));
        assertTrue(VerbCatalog.PEER_ADD.takesRest(), "a label may be typed as several words");
    }

    private static List<Boolean> required(VerbSpec spec) {
        return spec.args().stream().map(ArgSpec::required).toList();
    }

    @Test
    void everyVerbListsRequiredArgumentsFirstAndARestArgumentOnlyLast() {
        // checkArgs names the first missing argument by position, which relies on this.
        for (VerbSpec v : VerbCatalog.ALL) {
            boolean seenOptional = false;
            for (int i = 0; i < v.args().size(); i++) {
                ArgSpec a = v.args().get(i);
                assertFalse(seenOptional && a.required(), v.verb() + ": required <" + a.name() + "> after an optional");
                seenOptional |= !a.required();
                assertTrue(!a.rest() || i == v.args().size() - 1, v.verb() + ": rest argument not last");
                assertFalse(a.description().isBlank(), v.verb() + " " + a.name() + " has no description");
            }
            assertFalse(v.description().isBlank(), v.verb() + " has no description");
        }
    }

    @Test
    void missingArgNamesTheFirstMissingArgumentAndTheUsage() {
        ControlException e = refused(VerbCatalog.PEER_ADD, "alice");
        assertEquals(ErrorCodes.MISSING_ARG, e.code());
        assertTrue(e.getMessage().contains("<" + VerbCatalog.PEER_ADD.args().get(1).name() + ">"), e.getMessage());
        assertTrue(e.getMessage().contains(VerbCatalog.PEER_ADD.usage()), e.getMessage());

        e = refused(VerbCatalog.LINK_ADD);
        assertEquals(ErrorCodes.MISSING_ARG, e.code());
        assertTrue(e.getMessage().contains("<a>"), e.getMessage());
        assertEquals(ErrorCodes.MISSING_ARG, refused(VerbCatalog.BLOCKLIST_ADD, "192.0.2.1").code());
        assertEquals(ErrorCodes.MISSING_ARG, refused(VerbCatalog.SHOW_CONFIG).code());
    }

    @Test
    void tooManyArgumentsIsInvalidArg() {
        ControlException e = refused(VerbCatalog.LINK_ADD, "a", "b", "c");
        assertEquals(ErrorCodes.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains("too many"), e.getMessage());
        assertEquals(ErrorCodes.INVALID_ARG, refused(VerbCatalog.PEER_LIST, "x").code());
        assertEquals(ErrorCodes.INVALID_ARG, refused(VerbCatalog.PEER_NIC, "alice", "eth0", "eth1").code());
        assertEquals(ErrorCodes.INVALID_ARG, refused(VerbCatalog.SHOW_CONFIG, "alice", "192.0.2.1:51820", "x").code());
        assertEquals(ErrorCodes.INVALID_ARG, refused(VerbCatalog.SUBSCRIBE, "now").code());
    }

    @Test
    void optionalArgumentsMayBeLeftOut() throws ControlException {
        assertEquals(List.of("alice"), VerbRegistry.checkArgs(VerbCatalog.PEER_NIC, List.of("alice")));
        assertEquals(List.of("alice", "eth1"), VerbRegistry.checkArgs(VerbCatalog.PEER_NIC, List.of("alice", "eth1")));
        assertEquals(List.of("a", "1.2.3.4:5"), VerbRegistry.checkArgs(VerbCatalog.PEER_ADD, List.of("a", "1.2.3.4:5")));
        assertEquals(List.of(), VerbRegistry.checkArgs(VerbCatalog.SHOW, List.of()));
    }

    @Test
    void joinsTheWordsOfARestArgumentWithOneSpace() throws ControlException {
        assertEquals(List.of("alice", "198.51.100.1:51820", "home router, 2nd floor"),
                VerbRegistry.checkArgs(VerbCatalog.PEER_ADD,
                        List.of("alice", "198.51.100.1:51820", "home", "router,", "2nd", "floor")));
        assertEquals(List.of("alice", "198.51.100.1:51820", "one label"),
                VerbRegistry.checkArgs(VerbCatalog.PEER_ADD, List.of("alice", "198.51.100.1:51820", "one label")));
        List<String> many = new ArrayList<>(List.of("a", "1.2.3.4:5"));
        for (int i = 0; i < 10_000; i++) {
            many.add("w");
        }
        List<String> joined = VerbRegistry.checkArgs(VerbCatalog.PEER_ADD, many);
        assertEquals(3, joined.size());
        assertEquals(10_000 * 2 - 1, joined.get(2).length());
    }

    @Test
    void helpListsEveryServedVerbInSpecsShape() throws Exception {
        JsonNode help = help(fullRegistry());
        assertEquals(List.of("verbs"), fields(help));
        List<String> listed = new ArrayList<>();
        for (JsonNode v : help.get("verbs")) {
            assertEquals(List.of("verb", "role", "description", "args"), fields(v));
            assertTrue(v.get("verb").isTextual());
            assertEquals(SPEC_VERBS.get(v.get("verb").asText()), v.get("role").asText());
            assertFalse(v.get("description").asText().isBlank());
            assertTrue(v.get("args").isArray());
            for (JsonNode a : v.get("args")) {
                assertEquals(List.of("name", "required", "description"), fields(a));
                assertTrue(a.get("name").isTextual());
                assertTrue(a.get("required").isBoolean());
                assertTrue(a.get("description").isTextual());
            }
            listed.add(v.get("verb").asText());
        }
        assertEquals(new ArrayList<>(SPEC_VERBS.keySet()), listed);
    }

    @Test
    void helpListsOnlyTheVerbsThisRegistryServes() throws Exception {
        VerbRegistry r = new VerbRegistry().bind(VerbCatalog.SHOW, args -> Map.of());
        List<String> listed = new ArrayList<>();
        help(r).get("verbs").forEach(v -> listed.add(v.get("verb").asText()));
        assertEquals(List.of("help", "wg show"), listed);
    }

    @Test
    void helpDescribesOneVerbGivenAsOneArgumentOrAsWords() throws Exception {
        VerbRegistry r = fullRegistry();
        JsonNode one = help(r, "wg link add");
        assertEquals(one, help(r, "wg", "link", "add"));
        assertEquals(one, help(r, "  wg   link\tadd "));
        assertEquals(List.of("verb", "role", "description", "args"), fields(one));
        assertEquals("wg link add", one.get("verb").asText());
        assertEquals("operator", one.get("role").asText());
        assertEquals(2, one.get("args").size());
        assertEquals("a", one.get("args").get(0).get("name").asText());
        assertTrue(one.get("args").get(0).get("required").asBoolean());
        assertEquals("b", one.get("args").get(1).get("name").asText());
        JsonNode nic = help(r, "wg peer nic");
        assertFalse(nic.get("args").get(1).get("required").asBoolean());
    }

    @Test
    void helpForAnUnknownVerbIsUnknownVerb() {
        VerbRegistry r = fullRegistry();
        for (String[] words : List.of(new String[] {"wg link"}, new String[] {"wg", "frob"},
                new String[] {"WG LINK ADD"}, new String[] {"x".repeat(100_000)})) {
            ControlException e = assertThrows(ControlException.class, () -> help(r, words));
            assertEquals(ErrorCodes.UNKNOWN_VERB, e.code());
        }
    }

    @Test
    void linkAddDescriptionStatesTheOneLinkPerPeerRule() throws Exception {
        String description = help(fullRegistry(), "wg link add").get("description").asText();
        assertTrue(description.contains("at most one link"), description);
        assertTrue(description.contains("link_limit_exceeded"), description);
    }

    @Test
    void usageShowsRequiredOptionalAndRestArguments() {
        assertEquals("wg peer add <name> <endpoint> [label...]", VerbCatalog.PEER_ADD.usage());
        assertEquals("wg peer nic <name> [nic]", VerbCatalog.PEER_NIC.usage());
        assertEquals("wg show", VerbCatalog.SHOW.usage());
    }

    @Test
    void aVerbCannotBeBoundTwice() {
        VerbRegistry r = new VerbRegistry().bind(VerbCatalog.SHOW, args -> Map.of());
        assertThrows(IllegalArgumentException.class, () -> r.bind(VerbCatalog.SHOW, args -> Map.of()));
        assertThrows(IllegalArgumentException.class, () -> r.bind(VerbCatalog.HELP, args -> Map.of()));
    }

    @Test
    void findsVerbsByTheirExactNameAndTheLongestPrefixOfWords() {
        assertSame(VerbCatalog.SHOW_CONFIG, VerbCatalog.longestPrefix(List.of("wg", "show", "config", "alice")));
        assertSame(VerbCatalog.SHOW, VerbCatalog.longestPrefix(List.of("wg", "show")));
        assertSame(VerbCatalog.SHOW_DROP_SOURCES, VerbCatalog.longestPrefix(List.of("wg", "show", "drop_sources")));
        assertSame(VerbCatalog.HELP, VerbCatalog.longestPrefix(List.of("help", "wg", "link", "add")));
        assertEquals(null, VerbCatalog.longestPrefix(List.of("wg", "peer")));
        assertEquals(null, VerbCatalog.longestPrefix(List.of()));
        assertEquals(null, VerbCatalog.find("wg  show"));
    }

    private static List<String> fields(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
