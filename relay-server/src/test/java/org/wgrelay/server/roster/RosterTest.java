package org.wgrelay.server.roster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The roster's invariants and every outcome code a change can give (SPEC "Verbs"). Public for
 * {@link #ok} and {@link #key}, which the roster's owner's tests share.
 */
public class RosterTest {
    static final Endpoint A_EP = Endpoint.parse("192.0.2.1:51001");
    static final Endpoint B_EP = Endpoint.parse("192.0.2.2:51002");
    static final Endpoint C_EP = Endpoint.parse("[2001:db8::3]:51003");
    static final Endpoint D_EP = Endpoint.parse("192.0.2.4:51004");
    static final String KEY = key(1);

    public static String key(int seed) {
        byte[] raw = new byte[32];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (seed + i * 31);
        }
        return Base64.getEncoder().encodeToString(raw);
    }

    /** Applies a change that must succeed. */
    public static Roster ok(Roster r, Function<Roster, RosterChange> change) {
        RosterChange c = change.apply(r);
        assertEquals(RosterOutcome.OK, c.outcome(), c.message());
        assertTrue(c.ok());
        return c.roster();
    }

    /** alice, bob, carol, dave; alice-bob linked. */
    static Roster fourPeersOneLink() {
        Roster r = ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, KEY, "Alice's laptop"));
        r = ok(r, x -> x.addPeer("bob", B_EP, null, null));
        r = ok(r, x -> x.addPeer("carol", C_EP, null, null));
        r = ok(r, x -> x.addPeer("dave", D_EP, null, null));
        return ok(r, x -> x.addLink("alice", "bob"));
    }

    /**
     * Checks that a rejected change gives the expected code, a sentence, and the very
     * roster it was asked of, unchanged.
     */
    static RosterChange rejected(Roster r, RosterOutcome expected, Function<Roster, RosterChange> change) {
        String before = r.toString();
        RosterChange c = change.apply(r);
        assertEquals(expected, c.outcome(), c.message());
        assertTrue(!c.ok());
        assertSame(r, c.roster(), "a rejected change returns the unchanged roster");
        assertEquals(before, r.toString(), "a rejected change leaves the roster as it was");
        assertTrue(c.message() != null && !c.message().isBlank());
        return c;
    }

    // ---- peers ------------------------------------------------------------------------

    @Test
    void addsAPeerWithItsEndpointKeyAndLabel() {
        Roster r = ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, KEY, "  Alice's   laptop \t"));
        PeerEntry alice = r.peer("alice");
        assertEquals(new PeerEntry("alice", A_EP, KEY, "Alice's laptop", null), alice);
        assertSame(alice, r.peerAt(A_EP));
        assertEquals(1, r.peerCount());
        assertEquals(0, r.linkCount());
        assertEquals(0, r.linkCountOf("alice"));
        assertNull(r.partnerOf("alice"));
    }

    @Test
    void storesAPublicKeyInCanonicalBase64() {
        String unpadded = KEY.replace("=", "");
        Roster r = ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, "  " + unpadded + " ", null));
        assertEquals(KEY, r.peer("alice").pubkey());
        assertEquals(32, r.peer("alice").pubkeyBytes().length);
    }

    @Test
    void treatsABlankLabelAsNoLabel() {
        Roster r = ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, null, " \t "));
        assertNull(r.peer("alice").label());
    }

    @Test
    void refusesASecondPeerWithTheSameNameAsDuplicate() {
        Roster r = fourPeersOneLink();
        RosterChange c = rejected(
                r, RosterOutcome.PEER_DUPLICATE, x -> x.addPeer("alice", Endpoint.parse("192.0.2.99:1"), null, null));
        assertEquals("wg_peer_duplicate", c.outcome().code());
    }

    @Test
    void refusesAPeerAtAnEndpointAnotherPeerHolds() {
        Roster r = fourPeersOneLink();
        RosterChange c = rejected(r, RosterOutcome.ENDPOINT_IN_USE, x -> x.addPeer("erin", B_EP, null, null));
        assertEquals("wg_endpoint_in_use", c.outcome().code());
        assertTrue(c.message().contains("bob"), "names the holder: " + c.message());
    }

    @Test
    void refusesAPeerAtTheIpv4MappedFormOfAnEndpointInUse() {
        Roster r = fourPeersOneLink();
        rejected(
                r,
                RosterOutcome.ENDPOINT_IN_USE,
                x -> x.addPeer("erin", Endpoint.parse("[::ffff:192.0.2.1]:51001"), null, null));
    }

    @Test
    void allowsTwoPeersBehindOneIpOnDifferentPorts() {
        Roster r = ok(Roster.EMPTY, x -> x.addPeer("a", Endpoint.parse("192.0.2.1:1"), null, null));
        r = ok(r, x -> x.addPeer("b", Endpoint.parse("192.0.2.1:2"), null, null));
        assertEquals(2, r.peerCount());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                " ",
                "-alice",
                ".alice",
                "_alice",
                "al ice",
                "al/ice",
                "alice\n",
                "al\u0000ice",
                "ålice",
                "alice:1",
                "a#b"
            })
    void refusesABadPeerNameAsInvalidArg(String name) {
        RosterChange c = rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer(name, A_EP, null, null));
        assertEquals("invalid_arg", c.outcome().code());
    }

    @Test
    void refusesANullOrTooLongPeerNameAsInvalidArg() {
        rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer(null, A_EP, null, null));
        rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer("a".repeat(65), A_EP, null, null));
        ok(Roster.EMPTY, x -> x.addPeer("a".repeat(64), A_EP, null, null));
        ok(Roster.EMPTY, x -> x.addPeer("0.Peer_name-9", A_EP, null, null));
    }

    @Test
    void registersAPeerWithoutAnEndpointThatTheRelayLearnsLater() {
        // SPEC E: no endpoint, and (below) no link without a key.
        Roster r = ok(Roster.EMPTY, x -> x.addPeer("alice", null, null, null));
        assertNull(r.peer("alice").endpoint());
        r = ok(r, x -> x.addPeer("bob", null, KEY, null));
        assertNull(r.peerAt(null));
        rejected(r, RosterOutcome.PUBKEY_REQUIRED, x -> x.addLink("alice", "bob"));
        r = ok(r, x -> x.setPubkey("alice", key(9)));
        r = ok(r, x -> x.addLink("alice", "bob"));
        assertEquals("bob", r.partnerOf("alice"));
    }

    @Test
    void refusesALabelThatIsTooLongOrHoldsAControlCharacter() {
        rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer("alice", A_EP, null, "x".repeat(201)));
        rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer("alice", A_EP, null, "bell\u0007"));
        rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer("alice", A_EP, null, "nul\u0000"));
        rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer("alice", A_EP, null, "esc\u001b[2J"));
        rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer("alice", A_EP, null, "nel\u0085"));
        ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, null, "x".repeat(200)));
    }

    @Test
    void foldsLineBreaksInALabelToSpacesSoTheRosterFileStaysOneLinePerPeer() {
        Roster r = ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, null, "line one\r\nlink alice bob\n\u000b\fend"));
        assertEquals("line one link alice bob end", r.peer("alice").label());
    }

    @Test
    void refusesAnInformationSeparatorControlCharacterInALabel() {
        for (char c = '\u001c'; c <= '\u001f'; c++) {
            String label = "a" + c + "b";
            rejected(Roster.EMPTY, RosterOutcome.INVALID_ARG, x -> x.addPeer("alice", A_EP, null, label));
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "not base64!",
                "AAAA",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
            })
    void refusesAKeyThatIsNotBase64OfExactly32BytesAsInvalidPubkey(String pubkey) {
        RosterChange c =
                rejected(Roster.EMPTY, RosterOutcome.INVALID_PUBKEY, x -> x.addPeer("alice", A_EP, pubkey, null));
        assertEquals("invalid_pubkey", c.outcome().code());
        Roster r = fourPeersOneLink();
        rejected(r, RosterOutcome.INVALID_PUBKEY, x -> x.setPubkey("bob", pubkey));
    }

    @Test
    void refusesAMissingKeyWhenStampingAsInvalidPubkey() {
        rejected(fourPeersOneLink(), RosterOutcome.INVALID_PUBKEY, x -> x.setPubkey("bob", null));
    }

    @Test
    void stampsAndReplacesAPublicKey() {
        Roster r = ok(fourPeersOneLink(), x -> x.setPubkey("bob", key(2)));
        assertEquals(key(2), r.peer("bob").pubkey());
        r = ok(r, x -> x.setPubkey("bob", key(3)));
        assertEquals(key(3), r.peer("bob").pubkey());
        assertEquals(B_EP, r.peer("bob").endpoint());
        assertEquals("alice", r.partnerOf("bob"));
    }

    @Test
    void movesAPeerToANewEndpointAndFreesTheOldOne() {
        Endpoint moved = Endpoint.parse("198.51.100.9:4000");
        Roster r = ok(fourPeersOneLink(), x -> x.updateEndpoint("bob", moved));
        assertEquals(moved, r.peer("bob").endpoint());
        assertEquals("bob", r.peerAt(moved).name());
        assertNull(r.peerAt(B_EP));
        assertEquals("alice", r.partnerOf("bob"), "the link survives a move");
        r = ok(r, x -> x.addPeer("erin", B_EP, null, null));
        assertEquals("erin", r.peerAt(B_EP).name());
    }

    @Test
    void acceptsMovingAPeerToTheEndpointItAlreadyHas() {
        Roster r = fourPeersOneLink();
        RosterChange c = r.updateEndpoint("bob", B_EP);
        assertTrue(c.ok());
        assertEquals(r, c.roster());
    }

    @Test
    void refusesToMoveAPeerOntoAnotherPeersEndpoint() {
        Roster r = fourPeersOneLink();
        RosterChange c = rejected(r, RosterOutcome.ENDPOINT_IN_USE, x -> x.updateEndpoint("bob", C_EP));
        assertTrue(c.message().contains("carol"), c.message());
    }

    @Test
    void refusesToChangeAPeerThatDoesNotExistAsPeerUnknown() {
        Roster r = fourPeersOneLink();
        RosterChange c = rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.updateEndpoint("zed", A_EP));
        assertEquals("wg_peer_unknown", c.outcome().code());
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.setPubkey("zed", KEY));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.setNic("zed", "eth0"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.setNic("zed", null));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.removePeer("zed"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.removePeer(null));
    }

    @Test
    void aMoveToNoEndpointForgetsItAndFreesItForAnotherPeer() {
        Roster r = fourPeersOneLink();
        Endpoint was = r.peer("bob").endpoint();
        r = ok(r, x -> x.updateEndpoint("bob", null));
        assertNull(r.peer("bob").endpoint());
        assertNull(r.peerAt(was));
        r = ok(r, x -> x.addPeer("erin", was, null, null));
        assertEquals("erin", r.peerAt(was).name());
    }

    @Test
    void pinsAndClearsAPeersNic() {
        Roster r = ok(fourPeersOneLink(), x -> x.setNic("bob", "eth0"));
        assertEquals("eth0", r.peer("bob").nic());
        r = ok(r, x -> x.setNic("bob", "enp3s0f1.100"));
        assertEquals("enp3s0f1.100", r.peer("bob").nic());
        r = ok(r, x -> x.setNic("bob", null));
        assertNull(r.peer("bob").nic());
        assertEquals(fourPeersOneLink(), r);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "eth 0", "eth/0", "-eth0", "a234567890123456", "eth0\n", "../etc"})
    void refusesABadNicNameAsInvalidArg(String nic) {
        rejected(fourPeersOneLink(), RosterOutcome.INVALID_ARG, x -> x.setNic("bob", nic));
    }

    @Test
    void removesAPeerAndItsLinkAndFreesItsEndpoint() {
        Roster r = ok(fourPeersOneLink(), x -> x.removePeer("bob"));
        assertNull(r.peer("bob"));
        assertNull(r.peerAt(B_EP));
        assertEquals(0, r.linkCount());
        assertEquals(0, r.linkCountOf("alice"));
        assertNull(r.partnerOf("alice"));
        assertEquals(3, r.peerCount());
        r = ok(r, x -> x.addLink("alice", "carol"));
        assertEquals("carol", r.partnerOf("alice"));
    }

    @Test
    void removesAnUnlinkedPeerWithoutTouchingOtherLinks() {
        Roster r = ok(fourPeersOneLink(), x -> x.removePeer("carol"));
        assertEquals(List.of(new Link("alice", "bob")), r.links());
    }

    // ---- links ------------------------------------------------------------------------

    @Test
    void linksTwoPeersBothWays() {
        Roster r = ok(fourPeersOneLink(), x -> x.addLink("dave", "carol"));
        assertEquals("dave", r.partnerOf("carol"));
        assertEquals("carol", r.partnerOf("dave"));
        assertSame(r.linkBetween("carol", "dave"), r.linkBetween("dave", "carol"));
        assertEquals(new Link("dave", "carol"), r.linkBetween("carol", "dave"));
        assertEquals(List.of(new Link("alice", "bob"), new Link("dave", "carol")), r.links());
    }

    @Test
    void refusesToLinkAPeerToItselfBeforeAnyOtherCheck() {
        Roster r = fourPeersOneLink();
        RosterChange c = rejected(r, RosterOutcome.LINK_SELF, x -> x.addLink("carol", "carol"));
        assertEquals("wg_link_self", c.outcome().code());
        rejected(r, RosterOutcome.LINK_SELF, x -> x.addLink("zed", "zed"));
        rejected(r, RosterOutcome.LINK_SELF, x -> x.addLink("alice", "alice"));
    }

    @Test
    void refusesALinkWithAnUnknownPeerBeforeCheckingDuplicatesOrTheLimit() {
        Roster r = fourPeersOneLink();
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.addLink("carol", "zed"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.addLink("zed", "carol"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.addLink("alice", "zed"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.addLink("zed", "alice"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.addLink("zed", "yan"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.addLink(null, "alice"));
        rejected(r, RosterOutcome.PEER_UNKNOWN, x -> x.addLink("alice", null));
    }

    @Test
    void refusesAnExistingLinkAsDuplicateInEitherOrderBeforeTheLimit() {
        Roster r = fourPeersOneLink();
        RosterChange c = rejected(r, RosterOutcome.LINK_DUPLICATE, x -> x.addLink("alice", "bob"));
        assertEquals("wg_link_duplicate", c.outcome().code());
        rejected(r, RosterOutcome.LINK_DUPLICATE, x -> x.addLink("bob", "alice"));
    }

    @Test
    void refusesASecondLinkOnEitherSideAndStatesTheOneLinkPerPeerRule() {
        Roster r = fourPeersOneLink();
        for (String[] pair :
                new String[][] {{"alice", "carol"}, {"carol", "alice"}, {"bob", "dave"}, {"dave", "bob"}}) {
            RosterChange c = rejected(r, RosterOutcome.LINK_LIMIT_EXCEEDED, x -> x.addLink(pair[0], pair[1]));
            assertEquals("link_limit_exceeded", c.outcome().code());
            assertTrue(c.message().contains("at most one link"), c.message());
            String linked = pair[0].equals("alice") || pair[0].equals("bob") ? pair[0] : pair[1];
            assertTrue(c.message().contains("'" + linked + "' is already linked"), c.message());
        }
        Roster two = ok(r, x -> x.addLink("carol", "dave"));
        rejected(two, RosterOutcome.LINK_LIMIT_EXCEEDED, x -> x.addLink("alice", "carol"));
        rejected(two, RosterOutcome.LINK_LIMIT_EXCEEDED, x -> x.addLink("dave", "bob"));
    }

    @Test
    void removesALinkGivenItsNamesInEitherOrder() {
        Roster r = fourPeersOneLink();
        Roster removed = ok(r, x -> x.removeLink("alice", "bob"));
        assertEquals(0, removed.linkCount());
        assertNull(removed.partnerOf("alice"));
        assertNull(removed.partnerOf("bob"));
        Roster reversed = ok(r, x -> x.removeLink("bob", "alice"));
        assertEquals(removed, reversed);
        assertEquals(4, reversed.peerCount(), "removing a link keeps the peers");
    }

    @Test
    void refusesToRemoveALinkThatDoesNotExistAsLinkUnknown() {
        Roster r = ok(fourPeersOneLink(), x -> x.addLink("carol", "dave"));
        RosterChange c = rejected(r, RosterOutcome.LINK_UNKNOWN, x -> x.removeLink("alice", "carol"));
        assertEquals("wg_link_unknown", c.outcome().code());
        rejected(r, RosterOutcome.LINK_UNKNOWN, x -> x.removeLink("alice", "alice"));
        rejected(r, RosterOutcome.LINK_UNKNOWN, x -> x.removeLink("zed", "alice"));
        rejected(r, RosterOutcome.LINK_UNKNOWN, x -> x.removeLink(null, null));
        rejected(r, RosterOutcome.LINK_UNKNOWN, x -> x.removeLink("alice", null));
        rejected(r, RosterOutcome.LINK_UNKNOWN, x -> x.removeLink("bob", "dave"));
    }

    @Test
    void relinksAPeerOnceItsLinkIsRemoved() {
        Roster r = ok(fourPeersOneLink(), x -> x.removeLink("bob", "alice"));
        r = ok(r, x -> x.addLink("alice", "carol"));
        r = ok(r, x -> x.addLink("dave", "bob"));
        assertEquals("carol", r.partnerOf("alice"));
        assertEquals("dave", r.partnerOf("bob"));
    }

    // ---- immutability and equality ------------------------------------------------------

    @Test
    void neverChangesTheRosterAChangeWasAskedOf() {
        Roster r = fourPeersOneLink();
        Roster copy = fourPeersOneLink();
        String text = r.toString();
        List<PeerEntry> peers = new ArrayList<>(r.peers());
        List<Link> links = new ArrayList<>(r.links());
        List<Function<Roster, RosterChange>> changes = List.of(
                x -> x.addPeer("erin", Endpoint.parse("192.0.2.5:5"), KEY, "label"),
                x -> x.updateEndpoint("alice", Endpoint.parse("192.0.2.6:6")),
                x -> x.setPubkey("bob", KEY),
                x -> x.setNic("carol", "eth1"),
                x -> x.removePeer("alice"),
                x -> x.removePeer("carol"),
                x -> x.addLink("carol", "dave"),
                x -> x.removeLink("bob", "alice"));
        for (Function<Roster, RosterChange> change : changes) {
            RosterChange c = change.apply(r);
            assertTrue(c.ok(), c.message());
            assertNotSame(r, c.roster(), "a change makes a new roster");
            assertNotEquals(r, c.roster());
            assertEquals(text, r.toString());
            assertEquals(peers, new ArrayList<>(r.peers()));
            assertEquals(links, r.links());
            assertEquals(copy, r);
            assertEquals("bob", r.partnerOf("alice"));
            assertSame(r.peer("alice"), r.peerAt(A_EP));
        }
    }

    @Test
    void neverChangesTheEmptyRoster() {
        ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, null, null));
        assertEquals(0, Roster.EMPTY.peerCount());
        assertNull(Roster.EMPTY.peerAt(A_EP));
    }

    @Test
    void handsOutReadOnlyViewsOfItsPeersAndLinks() {
        Roster r = fourPeersOneLink();
        assertThrows(UnsupportedOperationException.class, () -> r.peers().clear());
        assertThrows(UnsupportedOperationException.class, () -> r.links().clear());
        assertThrows(
                UnsupportedOperationException.class, () -> r.peers().iterator().remove());
    }

    @Test
    void keepsPeersInRegistrationOrder() {
        List<String> names = new ArrayList<>();
        fourPeersOneLink().peers().forEach(p -> names.add(p.name()));
        assertEquals(List.of("alice", "bob", "carol", "dave"), names);
    }

    @Test
    void isEqualToARosterWithTheSamePeersAndLinks() {
        Roster a = fourPeersOneLink();
        Roster b = fourPeersOneLink();
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, ok(b, x -> x.setNic("dave", "eth0")));
        assertNotEquals(a, ok(b, x -> x.removeLink("alice", "bob")));
    }

    @Test
    void aBuilderAppliesChangesInPlaceAndItsResultIsImmutableAfterwards() {
        Roster.Builder builder = Roster.builder();
        assertTrue(builder.apply(x -> x.addPeer("alice", A_EP, null, null)).ok());
        assertTrue(builder.apply(x -> x.addPeer("bob", B_EP, null, null)).ok());
        RosterChange refused = builder.apply(x -> x.addPeer("bob", C_EP, null, null));
        assertEquals(RosterOutcome.PEER_DUPLICATE, refused.outcome());
        assertTrue(builder.apply(x -> x.addLink("alice", "bob")).ok());
        Roster built = builder.build();

        assertEquals(
                ok(
                        ok(
                                ok(Roster.EMPTY, x -> x.addPeer("alice", A_EP, null, null)),
                                x -> x.addPeer("bob", B_EP, null, null)),
                        x -> x.addLink("alice", "bob")),
                built);
        String before = built.toString();
        Roster after = ok(built, x -> x.removePeer("alice"));
        assertNotSame(built, after);
        assertEquals(before, built.toString(), "a built roster is frozen: changes copy it");
        assertEquals("bob", built.partnerOf("alice"));
    }

    @Test
    void keepsEveryInvariantThroughRandomChanges() {
        Random random = new Random(5);
        Endpoint[] pool = new Endpoint[10];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = Endpoint.parse(
                    i % 3 == 0 ? "[2001:db8::" + i + "]:" + (i + 1) : "192.0.2." + i + ":" + (i % 2 + 1));
        }
        Roster r = Roster.EMPTY;
        for (int step = 0; step < 3000; step++) {
            String a = "p" + random.nextInt(8);
            String b = "p" + random.nextInt(8);
            Endpoint ep = pool[random.nextInt(pool.length)];
            Roster before = r;
            String beforeText = r.toString();
            RosterChange c;
            switch (random.nextInt(7)) {
                case 0:
                case 1:
                    c = r.addPeer(a, ep, random.nextBoolean() ? key(step) : null, null);
                    break;
                case 2:
                    c = r.updateEndpoint(a, ep);
                    break;
                case 3:
                    c = r.removePeer(a);
                    break;
                case 4:
                case 5:
                    c = r.addLink(a, b);
                    break;
                default:
                    c = r.removeLink(a, b);
                    break;
            }
            assertEquals(beforeText, before.toString(), "step " + step + " changed the roster it was asked of");
            if (!c.ok()) {
                assertSame(before, c.roster());
            }
            r = c.roster();
            checkInvariants(r, "step " + step);
        }
    }

    static void checkInvariants(Roster r, String where) {
        List<String> names = new ArrayList<>();
        List<Endpoint> endpoints = new ArrayList<>();
        for (PeerEntry p : r.peers()) {
            assertTrue(!names.contains(p.name()), where + ": duplicate name " + p.name());
            assertTrue(!endpoints.contains(p.endpoint()), where + ": duplicate endpoint " + p.endpoint());
            names.add(p.name());
            endpoints.add(p.endpoint());
            assertSame(p, r.peer(p.name()), where);
            assertSame(p, r.peerAt(p.endpoint()), where);
        }
        List<String> linked = new ArrayList<>();
        for (Link l : r.links()) {
            assertNotEquals(l.a(), l.b(), where);
            assertTrue(names.contains(l.a()) && names.contains(l.b()), where + ": link to unregistered peer " + l);
            assertTrue(!linked.contains(l.a()) && !linked.contains(l.b()), where + ": second link " + l);
            linked.add(l.a());
            linked.add(l.b());
            assertEquals(l.b(), r.partnerOf(l.a()), where);
            assertEquals(l.a(), r.partnerOf(l.b()), where);
        }
        for (String n : names) {
            if (!linked.contains(n)) {
                assertEquals(0, r.linkCountOf(n), where);
            }
        }
        assertEquals(names.size(), r.peerCount(), where);
        assertEquals(r.links().size(), r.linkCount(), where);
    }

    @Test
    void everyOutcomeHasTheSpecErrorCode() {
        assertEquals("ok", RosterOutcome.OK.code());
        assertEquals("wg_peer_duplicate", RosterOutcome.PEER_DUPLICATE.code());
        assertEquals("wg_endpoint_in_use", RosterOutcome.ENDPOINT_IN_USE.code());
        assertEquals("wg_peer_unknown", RosterOutcome.PEER_UNKNOWN.code());
        assertEquals("invalid_arg", RosterOutcome.INVALID_ARG.code());
        assertEquals("invalid_pubkey", RosterOutcome.INVALID_PUBKEY.code());
        assertEquals("wg_link_self", RosterOutcome.LINK_SELF.code());
        assertEquals("wg_link_duplicate", RosterOutcome.LINK_DUPLICATE.code());
        assertEquals("link_limit_exceeded", RosterOutcome.LINK_LIMIT_EXCEEDED.code());
        assertEquals("wg_link_unknown", RosterOutcome.LINK_UNKNOWN.code());
    }

    @Test
    void linksAreUnorderedForLookupsButKeepTheirDeclaredOrder() {
        Link l = new Link("a", "b");
        assertTrue(l.joins("a", "b"));
        assertTrue(l.joins("b", "a"));
        assertTrue(!l.joins("a", "a"));
        assertTrue(l.involves("b"));
        assertTrue(!l.involves("c"));
        assertEquals("b", l.partnerOf("a"));
        assertEquals("a", l.partnerOf("b"));
        assertNotEquals(new Link("b", "a"), l);
    }
}
