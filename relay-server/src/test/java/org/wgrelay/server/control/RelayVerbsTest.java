package org.wgrelay.server.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import org.wgrelay.control.verb.ArgSpec;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.VerbRegistry;
import org.wgrelay.control.verb.VerbSpec;

/**
 * The relay's verb catalogue against SPEC's table, argument checks before any handler runs,
 * and {@code help}'s shape — the one source the server, the client and the docs share.
 */
class RelayVerbsTest {
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
        SPEC_VERBS.put("wg relay list", "read"); // SPEC C
    }

    /** A registry serving every catalogue verb with a handler that echoes its args. */
    private static VerbRegistry fullRegistry() {
        VerbRegistry r = new VerbRegistry();
        for (VerbSpec spec : RelayVerbs.catalogue()) {
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
        for (VerbSpec v : RelayVerbs.catalogue()) {
            assertNull(catalogue.put(v.verb(), v.role().word()), "listed twice: " + v.verb());
        }
        assertEquals(SPEC_VERBS, catalogue);
    }

    @Test
    void catalogueArgumentsMatchSpecsTable() {
        assertEquals(List.of(true, true, false), required(PeerAddVerb.SPEC));
        assertEquals(List.of(true, true), required(PeerUpdateVerb.SPEC));
        assertEquals(List.of(true, true), required(PeerPubkeyVerb.SPEC));
        assertEquals(List.of(true, false), required(PeerNicVerb.SPEC));
        assertEquals(List.of(true), required(PeerRemoveVerb.SPEC));
        assertEquals(List.of(), required(PeerListVerb.SPEC));
        assertEquals(List.of(true, true), required(LinkAddVerb.SPEC));
        assertEquals(List.of(true, true), required(LinkRemoveVerb.SPEC));
        assertEquals(List.of(), required(LinkListVerb.SPEC));
        assertEquals(List.of(), required(ShowVerb.SPEC));
        assertEquals(List.of(true, false), required(ShowConfigVerb.SPEC));
        assertEquals(List.of(), required(ShowDropSourcesVerb.SPEC));
        assertEquals(List.of(), required(BlocklistListVerb.SPEC));
        assertEquals(List.of(true, true), required(BlocklistAddVerb.SPEC));
        assertEquals(List.of(true), required(BlocklistRemoveVerb.SPEC));
        assertTrue(PeerAddVerb.SPEC.takesRest(), "a label may be typed as several words");
    }

    private static List<Boolean> required(VerbSpec spec) {
        return spec.args().stream().map(ArgSpec::required).toList();
    }

    @Test
    void everyVerbListsRequiredArgumentsFirstAndARestArgumentOnlyLast() {
        // checkArgs names the first missing argument by position, which relies on this.
        for (VerbSpec v : RelayVerbs.catalogue()) {
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
        ControlException e = refused(PeerAddVerb.SPEC, "alice");
        assertEquals(ErrorCodes.MISSING_ARG, e.code());
        assertTrue(e.getMessage().contains("<" + PeerAddVerb.SPEC.args().get(1).name() + ">"), e.getMessage());
        assertTrue(e.getMessage().contains(PeerAddVerb.SPEC.usage()), e.getMessage());

        e = refused(LinkAddVerb.SPEC);
        assertEquals(ErrorCodes.MISSING_ARG, e.code());
        assertTrue(e.getMessage().contains("<a>"), e.getMessage());
        assertEquals(
                ErrorCodes.MISSING_ARG,
                refused(BlocklistAddVerb.SPEC, "192.0.2.1").code());
        assertEquals(ErrorCodes.MISSING_ARG, refused(ShowConfigVerb.SPEC).code());
    }

    @Test
    void tooManyArgumentsIsInvalidArg() {
        ControlException e = refused(LinkAddVerb.SPEC, "a", "b", "c");
        assertEquals(ErrorCodes.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains("too many"), e.getMessage());
        assertEquals(ErrorCodes.INVALID_ARG, refused(PeerListVerb.SPEC, "x").code());
        assertEquals(
                ErrorCodes.INVALID_ARG,
                refused(PeerNicVerb.SPEC, "alice", "eth0", "eth1").code());
        assertEquals(
                ErrorCodes.INVALID_ARG,
                refused(ShowConfigVerb.SPEC, "alice", "192.0.2.1:51820", "x").code());
        assertEquals(
                ErrorCodes.INVALID_ARG, refused(BuiltinVerbs.SUBSCRIBE, "now").code());
    }

    @Test
    void optionalArgumentsMayBeLeftOut() throws ControlException {
        assertEquals(List.of("alice"), VerbRegistry.checkArgs(PeerNicVerb.SPEC, List.of("alice")));
        assertEquals(List.of("alice", "eth1"), VerbRegistry.checkArgs(PeerNicVerb.SPEC, List.of("alice", "eth1")));
        assertEquals(List.of("a", "1.2.3.4:5"), VerbRegistry.checkArgs(PeerAddVerb.SPEC, List.of("a", "1.2.3.4:5")));
        assertEquals(List.of(), VerbRegistry.checkArgs(ShowVerb.SPEC, List.of()));
    }

    @Test
    void joinsTheWordsOfARestArgumentWithOneSpace() throws ControlException {
        assertEquals(
                List.of("alice", "198.51.100.1:51820", "home router, 2nd floor"),
                VerbRegistry.checkArgs(
                        PeerAddVerb.SPEC, List.of("alice", "198.51.100.1:51820", "home", "router,", "2nd", "floor")));
        assertEquals(
                List.of("alice", "198.51.100.1:51820", "one label"),
                VerbRegistry.checkArgs(PeerAddVerb.SPEC, List.of("alice", "198.51.100.1:51820", "one label")));
        List<String> many = new ArrayList<>(List.of("a", "1.2.3.4:5"));
        for (int i = 0; i < 10_000; i++) {
            many.add("w");
        }
        List<String> joined = VerbRegistry.checkArgs(PeerAddVerb.SPEC, many);
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
        VerbRegistry r = new VerbRegistry().bind(ShowVerb.SPEC, args -> Map.of());
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
        for (String[] words : List.of(
                new String[] {"wg link"}, new String[] {"wg", "frob"}, new String[] {"WG LINK ADD"}, new String[] {
                    "x".repeat(100_000)
                })) {
            ControlException e = assertThrows(ControlException.class, () -> help(r, words));
            assertEquals(ErrorCodes.UNKNOWN_VERB, e.code());
        }
    }

    @Test
    void linkAddDescriptionStatesTheOneLinkPerPeerRule() throws Exception {
        String description =
                help(fullRegistry(), "wg link add").get("description").asText();
        assertTrue(description.contains("at most one link"), description);
        assertTrue(description.contains("link_limit_exceeded"), description);
    }

    @Test
    void usageShowsRequiredOptionalAndRestArguments() {
        assertEquals("wg peer add <name> <endpoint> [label...]", PeerAddVerb.SPEC.usage());
        assertEquals("wg peer nic <name> [nic]", PeerNicVerb.SPEC.usage());
        assertEquals("wg show", ShowVerb.SPEC.usage());
    }

    @Test
    void aVerbCannotBeBoundTwice() {
        VerbRegistry r = new VerbRegistry().bind(ShowVerb.SPEC, args -> Map.of());
        assertThrows(IllegalArgumentException.class, () -> r.bind(ShowVerb.SPEC, args -> Map.of()));
        assertThrows(IllegalArgumentException.class, () -> r.bind(BuiltinVerbs.HELP, args -> Map.of()));
    }

    @Test
    void linkAddsHelpStatesTheOneLinkPerPeerRule() {
        assertTrue(LinkAddVerb.SPEC.description().contains("at most one link"), LinkAddVerb.SPEC.description());
    }

    private static List<String> fields(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
