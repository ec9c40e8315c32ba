package org.wgrelay.server.roster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC B in the roster: several links per peer up to the limit, and the keys a hub needs. */
class HubRosterTest {
    static String key(int n) {
        return RosterTest.key(n);
    }

    static Roster ok(RosterChange change) {
        assertTrue(change.ok(), change.message());
        return change.roster();
    }

    /** hub, s1, s2, s3, all keyed unless listed in {@code keyless}; no links. */
    static Roster fourPeers(int maxLinks, String... keyless) {
        Roster r = Roster.empty(maxLinks);
        String[] names = {"hub", "s1", "s2", "s3"};
        for (int i = 0; i < names.length; i++) {
            String pubkey = List.of(keyless).contains(names[i]) ? null : key(i + 1);
            r = ok(r.addPeer(names[i], Endpoint.parse("192.0.2." + (i + 1) + ":5100" + i), pubkey, null));
        }
        return r;
    }

    @Test
    void withTheDefaultLimitASecondLinkIsStillLinkLimitExceeded() {
        Roster r = ok(fourPeers(1).addLink("hub", "s1"));
        RosterChange second = r.addLink("hub", "s2");
        assertEquals(RosterOutcome.LINK_LIMIT_EXCEEDED, second.outcome());
        assertTrue(second.message().contains("at most one link"), second.message());
        assertSame(r, second.roster());
    }

    @Test
    void aPeerMayBeInUpToTheLimitAndTheNextIsLinkLimitExceeded() {
        Roster r = fourPeers(2);
        r = ok(r.addLink("hub", "s1"));
        r = ok(r.addLink("s2", "hub"));
        RosterChange third = r.addLink("hub", "s3");
        assertEquals(RosterOutcome.LINK_LIMIT_EXCEEDED, third.outcome());
        assertTrue(third.message().contains("at most 2 links"), third.message());

        assertTrue(r.isHub("hub"));
        assertFalse(r.isHub("s1"));
        assertNull(r.partnerOf("hub"), "a hub has no single partner");
        assertEquals("hub", r.partnerOf("s2"));
        assertEquals(List.of("s1", "s2"), r.partnersOf("hub"));
        assertEquals(List.of("hub"), r.partnersOf("s1"));
    }

    @Test
    void theLimitIsCheckedBeforeTheKeysAndAfterSelfUnknownAndDuplicate() {
        Roster r = ok(fourPeers(2, "s3").addLink("hub", "s1"));
        r = ok(r.addLink("hub", "s2"));
        assertEquals(RosterOutcome.LINK_SELF, r.addLink("hub", "hub").outcome());
        assertEquals(RosterOutcome.PEER_UNKNOWN, r.addLink("hub", "nobody").outcome());
        assertEquals(RosterOutcome.LINK_DUPLICATE, r.addLink("s2", "hub").outcome());
        assertEquals(RosterOutcome.LINK_LIMIT_EXCEEDED, r.addLink("hub", "s3").outcome());
    }

    @Test
    void aSecondLinkNeedsStampedKeysOnTheHubAndEveryPartnerItWouldHave() {
        for (String keyless : List.of("hub", "s1", "s2")) {
            Roster r = ok(fourPeers(4, keyless).addLink("hub", "s1"));
            RosterChange second = r.addLink("hub", "s2");
            assertEquals(RosterOutcome.PUBKEY_REQUIRED, second.outcome(), keyless);
            assertEquals("wg_pubkey_required", second.outcome().code());
            assertTrue(second.message().contains("'" + keyless + "'"), second.message());
            assertSame(r, second.roster(), "a rejected change changes nothing");
        }
        // A keyless peer's first link is fine, as before.
        ok(fourPeers(4, "s3").addLink("s3", "s1"));
    }

    @Test
    void removingAHubRemovesAllItsLinks() {
        Roster r = fourPeers(4);
        for (String s : List.of("s1", "s2", "s3")) {
            r = ok(r.addLink("hub", s));
        }
        assertEquals(3, r.linkCount());
        r = ok(r.removeLink("s2", "hub"));
        assertEquals(List.of("s1", "s3"), r.partnersOf("hub"));
        r = ok(r.removePeer("hub"));
        assertEquals(0, r.linkCount());
        assertEquals(List.of(), r.partnersOf("s1"));
        assertEquals(RosterOutcome.LINK_UNKNOWN, r.removeLink("hub", "s1").outcome());
    }

    @Test
    void theLimitIsOneTo1024() {
        assertThrows(IllegalArgumentException.class, () -> Roster.empty(0));
        assertThrows(IllegalArgumentException.class, () -> Roster.empty(1025));
        assertEquals(1024, Roster.empty(1024).maxLinksPerPeer());
        assertSame(Roster.EMPTY, Roster.empty(1));
    }

    static final String HUB_ROSTER = "peer hub 192.0.2.1:51000 " + key(1) + "\n"
            + "peer s1 192.0.2.2:51001 " + key(2) + "\n"
            + "peer s2 192.0.2.3:51002 " + key(3) + "\n"
            + "peer s3 192.0.2.4:51003 " + key(4) + "\n"
            + "link hub s1\n"
            + "link s2 hub\n"
            + "link hub s3\n";

    @Test
    void aRosterWithSeveralLinksPerPeerLoadsUnderALimitThatAllowsThemAndWritesBackTheSame() throws Exception {
        Roster r = RosterFile.parse(HUB_ROSTER, "wg-roster", 3);
        assertEquals(List.of("s1", "s2", "s3"), r.partnersOf("hub"));
        assertEquals(r, RosterFile.parse(RosterFile.format(r), "again", 3));
    }

    @Test
    void aRosterWithMoreLinksOnAPeerThanTheLimitRefusesToLoadNamingFileAndLine() {
        RosterFileException e =
                assertThrows(RosterFileException.class, () -> RosterFile.parse(HUB_ROSTER, "/etc/wg-roster", 2));
        assertTrue(e.getMessage().startsWith("/etc/wg-roster:7: "), e.getMessage());
        assertTrue(e.getMessage().contains("link_limit_exceeded"), e.getMessage());
        e = assertThrows(RosterFileException.class, () -> RosterFile.parse(HUB_ROSTER, "/etc/wg-roster"));
        assertTrue(e.getMessage().startsWith("/etc/wg-roster:6: "), e.getMessage());
    }

    @Test
    void aHubRosterWithAKeylessPartnerRefusesToLoad() {
        String keyless = HUB_ROSTER.replace("peer s2 192.0.2.3:51002 " + key(3), "peer s2 192.0.2.3:51002");
        RosterFileException e =
                assertThrows(RosterFileException.class, () -> RosterFile.parse(keyless, "wg-roster", 4));
        assertTrue(e.getMessage().startsWith("wg-roster:6: "), e.getMessage());
        assertTrue(e.getMessage().contains("wg_pubkey_required"), e.getMessage());
    }
}
