package org.wgrelay.server.roster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.roster.RosterTest.key;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;

/** SPEC "Roster file": the format, the errors that name file and line, and the atomic rewrite. */
class RosterFileTest {
    @TempDir
    Path dir;

    private Path rosterPath() {
        return dir.resolve("wg-roster");
    }

    private RosterFile file() {
        return new RosterFile(rosterPath());
    }

    private Roster load(String text) throws Exception {
        Files.writeString(rosterPath(), text);
        return file().load();
    }

    /** A roster with everything the format can hold. */
    static Roster richRoster() {
        Roster r = Roster.EMPTY;
        r = RosterTest.ok(
                r, x -> x.addPeer("alice", Endpoint.parse("192.0.2.1:51820"), key(1), "Alice's laptop, 3rd floor"));
        r = RosterTest.ok(
                r, x -> x.addPeer("bob", Endpoint.parse("[2001:db8::2]:51820"), null, "no key # not a comment"));
        r = RosterTest.ok(r, x -> x.addPeer("carol", Endpoint.parse("203.0.113.3:1"), key(3), null));
        r = RosterTest.ok(r, x -> x.addPeer("dave", Endpoint.parse("[::1]:65535"), null, null));
        r = RosterTest.ok(r, x -> x.addPeer("erin", Endpoint.parse("198.51.100.5:5"), null, "-"));
        r = RosterTest.ok(r, x -> x.addPeer("frank", Endpoint.parse("198.51.100.6:6"), null, "ünïcödé label — ok"));
        r = RosterTest.ok(r, x -> x.addLink("bob", "alice"));
        r = RosterTest.ok(r, x -> x.addLink("carol", "dave"));
        r = RosterTest.ok(r, x -> x.setNic("alice", "eth0"));
        return RosterTest.ok(r, x -> x.setNic("dave", "enp3s0f1"));
    }

    // ---- format ---------------------------------------------------------------------------

    @Test
    void readsBackExactlyTheRosterItWrote() throws Exception {
        Roster roster = richRoster();
        file().write(roster);

        Roster loaded = file().load();

        assertEquals(roster, loaded);
        assertEquals(new ArrayList<>(roster.peers()), new ArrayList<>(loaded.peers()), "peer order is kept");
        assertEquals(roster.links(), loaded.links(), "link order and direction are kept");
        assertEquals(RosterFile.format(roster), Files.readString(rosterPath()));
        assertEquals(RosterFile.format(roster), RosterFile.format(loaded), "the format is a fixed point");
    }

    @Test
    void readsBackRandomRostersExactly() throws Exception {
        Random random = new Random(11);
        for (int round = 0; round < 30; round++) {
            Roster.Builder builder = Roster.builder();
            int peers = random.nextInt(40);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < peers; i++) {
                String name = "p" + i + (random.nextBoolean() ? "_x.y-z" : "");
                Endpoint ep = random.nextBoolean()
                        ? Endpoint.parse("10." + round + "." + i + ".1:" + (1 + random.nextInt(65535)))
                        : Endpoint.parse("[2001:db8:" + Integer.toHexString(round) + "::" + Integer.toHexString(i + 1)
                                + "]:" + (1 + random.nextInt(65535)));
                String pubkey = random.nextBoolean() ? key(random.nextInt()) : null;
                String label = random.nextInt(3) == 0 ? null : "label " + random.nextInt(1000) + " of  " + name;
                assertTrue(
                        builder.apply(r -> r.addPeer(name, ep, pubkey, label)).ok());
                if (random.nextInt(4) == 0) {
                    assertTrue(builder.apply(r -> r.setNic(name, "eth" + random.nextInt(9)))
                            .ok());
                }
                names.add(name);
            }
            for (int i = 0; i + 1 < names.size(); i += 2) {
                if (random.nextBoolean()) {
                    String a = names.get(i);
                    String b = names.get(i + 1);
                    assertTrue(builder.apply(r -> r.addLink(a, b)).ok());
                }
            }
            Roster roster = builder.build();
            file().write(roster);
            assertEquals(roster, file().load(), "round " + round);
        }
    }

    @Test
    void readsTheSpecFormatWithCommentsBlankLinesKeylessLabelsIpv6AndNicLines() throws Exception {
        Roster r = load(String.join(
                "\n",
                "# wg-relay roster",
                "",
                "   # an indented comment",
                "peer alice 192.0.2.1:51820 " + key(1) + " Alice's   laptop",
                "peer\tbob\t[2001:db8::2]:51821\t-\tthe office router",
                "peer carol 203.0.113.3:1",
                "peer dave 198.51.100.4:4 -",
                "peer erin 198.51.100.5:5 " + key(5),
                "\t",
                "link alice bob",
                "link erin carol",
                "nic alice eth0",
                "nic bob wg-uplink.1",
                "# trailing comment without newline"));

        assertEquals(5, r.peerCount());
        assertEquals(
                new PeerEntry("alice", Endpoint.parse("192.0.2.1:51820"), key(1), "Alice's laptop", "eth0"),
                r.peer("alice"));
        assertEquals(
                new PeerEntry("bob", Endpoint.parse("[2001:db8::2]:51821"), null, "the office router", "wg-uplink.1"),
                r.peer("bob"));
        assertEquals(new PeerEntry("carol", Endpoint.parse("203.0.113.3:1"), null, null, null), r.peer("carol"));
        assertEquals(new PeerEntry("dave", Endpoint.parse("198.51.100.4:4"), null, null, null), r.peer("dave"));
        assertEquals(key(5), r.peer("erin").pubkey());
        assertEquals(List.of(new Link("alice", "bob"), new Link("erin", "carol")), r.links());
    }

    @Test
    void readsAHashInsideALineAsPartOfTheLabel() throws Exception {
        Roster r = load("peer alice 192.0.2.1:1 - rack #4 # spare\n");
        assertEquals("rack #4 # spare", r.peer("alice").label());
    }

    @Test
    void readsWindowsLineEndings() throws Exception {
        Roster r = load("# c\r\npeer alice 192.0.2.1:1 - lab el\r\npeer bob 192.0.2.2:2\r\nlink alice bob\r\n");
        assertEquals("lab el", r.peer("alice").label());
        assertEquals("bob", r.partnerOf("alice"));
    }

    @Test
    void acceptsNicLinesBetweenPeerLines() throws Exception {
        Roster r = load("peer alice 192.0.2.1:1\nnic alice eth0\npeer bob 192.0.2.2:2\nlink alice bob\nnic bob eth1\n");
        assertEquals("eth0", r.peer("alice").nic());
        assertEquals("eth1", r.peer("bob").nic());
    }

    @Test
    void writesPeersThenLinksThenNicsWithADashForAMissingKeyBeforeALabel() {
        String text = RosterFile.format(richRoster());
        List<String> lines = text.lines().filter(l -> !l.startsWith("#")).collect(Collectors.toList());
        assertEquals(
                List.of(
                        "peer alice 192.0.2.1:51820 " + key(1) + " Alice's laptop, 3rd floor",
                        "peer bob [2001:db8::2]:51820 - no key # not a comment",
                        "peer carol 203.0.113.3:1 " + key(3),
                        "peer dave [::1]:65535",
                        "peer erin 198.51.100.5:5 - -",
                        "peer frank 198.51.100.6:6 - ünïcödé label — ok",
                        "link bob alice",
                        "link carol dave",
                        "nic alice eth0",
                        "nic dave enp3s0f1"),
                lines);
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void writesTheEmptyRosterAsCommentsOnlyAndReadsItBackEmpty() throws Exception {
        file().write(Roster.EMPTY);
        assertEquals(Roster.EMPTY, file().load());
        assertTrue(Files.readAllLines(rosterPath()).stream().allMatch(l -> l.startsWith("#")));
    }

    // ---- malformed files --------------------------------------------------------------------

    static Stream<Arguments> malformedRosters() {
        String ok1 = "peer alice 192.0.2.1:1\n";
        String ok2 = "peer bob 192.0.2.2:2\n";
        return Stream.of(
                Arguments.of("unknown keyword", "# c\n" + ok1 + "route alice bob\n", 3, "unknown entry 'route'"),
                Arguments.of("keyword in capitals", "PEER alice 192.0.2.1:1\n", 1, "unknown entry"),
                Arguments.of("peer without endpoint", ok1 + "peer bob\n", 2, "expected 'peer <name> <ip:port|->"),
                Arguments.of("bare peer", "\n\npeer\n", 3, "expected 'peer"),
                Arguments.of("link with one name", ok1 + ok2 + "link alice\n", 3, "expected 'link <name-a> <name-b>'"),
                Arguments.of("link with three names", ok1 + ok2 + "link alice bob carol\n", 3, "expected 'link"),
                Arguments.of("nic without iface", ok1 + "nic alice\n", 2, "expected 'nic <peer-name> <iface>'"),
                Arguments.of("nic with extra field", ok1 + "nic alice eth0 eth1\n", 2, "expected 'nic"),
                Arguments.of("host name endpoint", "peer alice localhost:51820\n", 1, "not an IPv4 address literal"),
                Arguments.of("port out of range", ok1 + "peer bob 192.0.2.2:65536\n", 2, "65536"),
                Arguments.of("port zero", ok1 + "peer bob 192.0.2.2:0\n", 2, "out of range"),
                Arguments.of("IPv6 without brackets", ok1 + "peer bob 2001:db8::1:5\n", 2, "bad endpoint"),
                Arguments.of("duplicate peer", ok1 + ok2 + "peer alice 192.0.2.3:3\n", 3, "(wg_peer_duplicate)"),
                Arguments.of("duplicate endpoint", ok1 + "peer bob 192.0.2.1:1\n", 2, "(wg_endpoint_in_use)"),
                Arguments.of("bad peer name", "peer al/ice 192.0.2.1:1\n", 1, "(invalid_arg)"),
                Arguments.of("bad pubkey", "peer alice 192.0.2.1:1 AAAA label\n", 1, "(invalid_pubkey)"),
                Arguments.of("link to unknown peer", ok1 + "link alice zed\n", 2, "(wg_peer_unknown)"),
                Arguments.of("link to itself", ok1 + "link alice alice\n", 2, "(wg_link_self)"),
                Arguments.of(
                        "duplicate link reversed",
                        ok1 + ok2 + "link alice bob\nlink bob alice\n",
                        4,
                        "(wg_link_duplicate)"),
                Arguments.of(
                        "second link of a peer",
                        ok1 + ok2 + "peer carol 192.0.2.3:3\nlink alice bob\nlink carol alice\n",
                        5,
                        "(link_limit_exceeded)"),
                Arguments.of(
                        "peer after a link",
                        ok1 + ok2 + "link alice bob\n\npeer carol 192.0.2.3:3\n",
                        5,
                        "peer lines must come before link lines"),
                Arguments.of("link before its peers", "link alice bob\n" + ok1 + ok2, 1, "(wg_peer_unknown)"),
                Arguments.of("nic of unknown peer", ok1 + "nic zed eth0\n", 2, "(wg_peer_unknown)"),
                Arguments.of("nic before its peer", "nic alice eth0\n" + ok1, 1, "(wg_peer_unknown)"),
                Arguments.of("bad nic", ok1 + "nic alice eth/0\n", 2, "(invalid_arg)"),
                Arguments.of("label with control char", "peer alice 192.0.2.1:1 - bell\u0007\n", 1, "(invalid_arg)"),
                Arguments.of(
                        "binary garbage that is valid UTF-8",
                        ok1 + "\u0001\u0002\u0003\u007f garbage\n",
                        2,
                        "unknown entry"),
                Arguments.of(
                        "old Mac line endings make one line", "peer alice 192.0.2.1:1\rpeer bob 192.0.2.2:2\r", 1, ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedRosters")
    void refusesAMalformedRosterNamingTheFileAndTheLine(String what, String text, int line, String reason)
            throws Exception {
        Files.writeString(rosterPath(), text);

        RosterFileException e = assertThrows(RosterFileException.class, () -> file().load(), what);

        String prefix = rosterPath().toAbsolutePath().normalize() + ":" + line + ": ";
        assertTrue(e.getMessage().startsWith(prefix), "expected '" + prefix + "...' but was: " + e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void namesTheSourceAndLineWhenParsingText() {
        RosterFileException e = assertThrows(
                RosterFileException.class, () -> RosterFile.parse("peer alice 192.0.2.1:1\n\nbogus\n", "stdin"));
        assertTrue(e.getMessage().startsWith("stdin:3: "), e.getMessage());
    }

    @Test
    void refusesAFileThatIsNotUtf8NamingTheFile() throws Exception {
        byte[] garbage = new byte[4096];
        new Random(3).nextBytes(garbage);
        garbage[0] = (byte) 0xC3; // a lead byte followed by a non-continuation byte
        garbage[1] = (byte) 0x28;
        Files.write(rosterPath(), garbage);

        RosterFileException e = assertThrows(RosterFileException.class, () -> file().load());

        assertEquals(rosterPath().toAbsolutePath().normalize() + ": not valid UTF-8 text", e.getMessage());
    }

    @Test
    void refusesLatin1TextThatLooksValidToAPerson() throws Exception {
        Files.write(rosterPath(), "peer alice 192.0.2.1:1 - caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        RosterFileException e = assertThrows(RosterFileException.class, () -> file().load());
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }

    @Test
    void refusesAHugeLineNamingItsLineAndKeepsTheMessageShort() throws Exception {
        String hugeKeyword = "x".repeat(2_000_000);
        Files.writeString(rosterPath(), "peer alice 192.0.2.1:1\n" + hugeKeyword + " y\n");
        RosterFileException e = assertThrows(RosterFileException.class, () -> file().load());
        assertTrue(e.getMessage().startsWith(rosterPath().toAbsolutePath().normalize() + ":2: "), e.getMessage());
        assertTrue(e.getMessage().length() < 400, "message of " + e.getMessage().length() + " chars");

        String hugeLabel = "w ".repeat(1_000_000);
        Files.writeString(rosterPath(), "# c\npeer alice 192.0.2.1:1 - " + hugeLabel + "\n");
        e = assertThrows(RosterFileException.class, () -> file().load());
        assertTrue(e.getMessage().startsWith(rosterPath().toAbsolutePath().normalize() + ":2: "), e.getMessage());
        assertTrue(e.getMessage().contains("(invalid_arg)"), e.getMessage());

        String hugeName = "n".repeat(1_000_000);
        Files.writeString(rosterPath(), "peer " + hugeName + " 192.0.2.1:1\n");
        e = assertThrows(RosterFileException.class, () -> file().load());
        assertTrue(e.getMessage().startsWith(rosterPath().toAbsolutePath().normalize() + ":1: "), e.getMessage());
        assertTrue(e.getMessage().length() < 400, "message of " + e.getMessage().length() + " chars");
    }

    @Test
    void refusesAFileLargerThan64MibWithoutReadingIt() throws Exception {
        try (RandomAccessFile sparse = new RandomAccessFile(rosterPath().toFile(), "rw")) {
            sparse.setLength(RosterFile.MAX_FILE_BYTES + 1);
        }
        RosterFileException e = assertThrows(RosterFileException.class, () -> file().load());
        assertTrue(
                e.getMessage().startsWith(rosterPath().toAbsolutePath().normalize() + ": larger than"), e.getMessage());
    }

    @Test
    void refusesADirectoryAsRosterFile() throws Exception {
        Files.createDirectory(rosterPath());
        RosterFileException e = assertThrows(RosterFileException.class, () -> file().load());
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    void readsAMissingFileAsTheEmptyRosterAndDoesNotCreateIt() throws Exception {
        assertSame(Roster.EMPTY, file().load());
        assertFalse(Files.exists(rosterPath()));
        assertSame(Roster.EMPTY, new RosterFile(dir.resolve("no/such/dir/roster")).load());
    }

    @Test
    void readsAnEmptyFileAsTheEmptyRoster() throws Exception {
        assertEquals(Roster.EMPTY, load(""));
        assertEquals(Roster.EMPTY, load("\n\n# only comments\n   \n"));
    }

    // ---- atomic rewrite ---------------------------------------------------------------------

    @Test
    void replacesTheOldFileAndLeavesNoTemporaryFileBehind() throws Exception {
        file().write(richRoster());
        Roster smaller = RosterTest.ok(richRoster(), x -> x.removePeer("alice"));

        file().write(smaller);

        assertEquals(smaller, file().load());
        assertEquals(List.of("wg-roster"), listDir());
    }

    @Test
    void createsTheDirectoryOfANewRosterPath() throws Exception {
        RosterFile nested = new RosterFile(dir.resolve("etc/wg-relay/roster"));
        nested.write(richRoster());
        assertEquals(richRoster(), nested.load());
    }

    @Test
    void aCrashBetweenWritingAndRenamingLeavesTheOldFileWhole() throws Exception {
        file().write(richRoster());
        byte[] old = Files.readAllBytes(rosterPath());
        Roster next = RosterTest.ok(richRoster(), x -> x.removePeer("bob"));
        AtomicReference<Path> tmpSeen = new AtomicReference<>();
        AtomicReference<String> tmpContent = new AtomicReference<>();
        RosterFile crashing = new RosterFile(rosterPath(), (from, to) -> {
            tmpSeen.set(from);
            tmpContent.set(Files.readString(from));
            throw new IOException("simulated crash before rename");
        });

        RosterFileException e = assertThrows(RosterFileException.class, () -> crashing.write(next));

        assertTrue(e.getMessage().contains("simulated crash before rename"), e.getMessage());
        assertEquals(
                rosterPath().getParent(), tmpSeen.get().getParent(), "the temporary file is in the same directory");
        assertTrue(tmpSeen.get().getFileName().toString().startsWith("."), "hidden: " + tmpSeen.get());
        assertEquals(RosterFile.format(next), tmpContent.get(), "the temporary file was complete before the rename");
        assertArrayEquals(old, Files.readAllBytes(rosterPath()), "the old file is whole");
        assertEquals(richRoster(), file().load());
        assertEquals(List.of("wg-roster"), listDir(), "the temporary file is cleaned up");
    }

    @Test
    void theLoaderNeverReadsALeftoverTemporaryFile() throws Exception {
        file().write(richRoster());
        // What a crash (power loss) between write and rename leaves behind: a temp file beside the roster.
        AtomicReference<Path> leftover = new AtomicReference<>();
        RosterFile crashing = new RosterFile(rosterPath(), (from, to) -> {
            Path keep = from.resolveSibling(from.getFileName() + ".kept");
            Files.copy(from, keep);
            leftover.set(keep);
            throw new IOException("power lost");
        });
        assertThrows(RosterFileException.class, () -> crashing.write(Roster.EMPTY));
        Files.writeString(dir.resolve(".wg-roster.12345.tmp"), "this is not a roster\n");

        assertTrue(Files.exists(leftover.get()));
        assertEquals(richRoster(), file().load());
    }

    @Test
    void reportsAWriteIntoAPathWhoseParentIsARegularFile() throws Exception {
        Path notADir = dir.resolve("plain-file");
        Files.writeString(notADir, "x");
        RosterFile impossible = new RosterFile(notADir.resolve("wg-roster"));

        RosterFileException e = assertThrows(RosterFileException.class, () -> impossible.write(richRoster()));

        assertTrue(
                e.getMessage()
                        .startsWith(
                                notADir.resolve("wg-roster").toAbsolutePath().normalize() + ": cannot write"),
                e.getMessage());
        assertEquals("x", Files.readString(notADir));
    }

    // ---- the roster service and the file ----------------------------------------------------

    private RosterService service(RosterFile rosterFile, ForwardingTableHolder holder) throws Exception {
        return new RosterService(rosterFile.load(), rosterFile, holder, 1);
    }

    @Test
    void aRejectedChangeLeavesTheFileOnDiskByteIdentical() throws Exception {
        file().write(richRoster());
        byte[] before = Files.readAllBytes(rosterPath());
        long modified = Files.getLastModifiedTime(rosterPath()).toMillis();
        AtomicInteger moves = new AtomicInteger();
        RosterFile counting = new RosterFile(rosterPath(), (from, to) -> {
            moves.incrementAndGet();
            Files.move(
                    from,
                    to,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        });
        RosterService svc = service(counting, new ForwardingTableHolder(ForwardingTable.EMPTY));

        assertEquals(
                RosterOutcome.PEER_DUPLICATE,
                svc.addPeer("alice", Endpoint.parse("192.0.2.99:9"), null, null).outcome());
        assertEquals(
                RosterOutcome.LINK_LIMIT_EXCEEDED, svc.addLink("alice", "frank").outcome());
        assertEquals(RosterOutcome.PEER_UNKNOWN, svc.removePeer("zed").outcome());
        assertEquals(RosterOutcome.INVALID_PUBKEY, svc.setPubkey("bob", "nope").outcome());
        assertEquals(RosterOutcome.OK, svc.setNic("alice", "eth0").outcome(), "a change to the same value");

        assertEquals(0, moves.get(), "nothing was written");
        assertArrayEquals(before, Files.readAllBytes(rosterPath()));
        assertEquals(modified, Files.getLastModifiedTime(rosterPath()).toMillis());
        assertEquals(List.of("wg-roster"), listDir());
    }

    @Test
    void createsTheRosterFileOnTheFirstChange() throws Exception {
        RosterService svc = service(file(), new ForwardingTableHolder(ForwardingTable.EMPTY));
        assertFalse(Files.exists(rosterPath()));

        assertTrue(
                svc.addPeer("alice", Endpoint.parse("192.0.2.1:1"), null, null).ok());

        assertEquals(svc.roster(), file().load());
    }

    @Test
    void persistsEveryAcceptedChangeBeforeItTakesEffect() throws Exception {
        RosterService svc = service(file(), new ForwardingTableHolder(ForwardingTable.EMPTY));
        svc.addPeer("alice", Endpoint.parse("192.0.2.1:1"), key(1), "a b");
        svc.addPeer("bob", Endpoint.parse("[2001:db8::2]:2"), null, null);
        svc.addLink("bob", "alice");
        svc.setNic("bob", "eth1");
        svc.updateEndpoint("alice", Endpoint.parse("192.0.2.9:9"));
        assertEquals(svc.roster(), file().load());
        svc.removePeer("alice");
        assertEquals(svc.roster(), file().load());
        assertEquals(0, svc.roster().linkCount());
    }

    @Test
    void aPersistFailureChangesNothingNeitherRosterNorTableNorFile() throws Exception {
        file().write(richRoster());
        byte[] before = Files.readAllBytes(rosterPath());
        ForwardingTableHolder holder = new ForwardingTableHolder(ForwardingTable.EMPTY);
        RosterFile failing = new RosterFile(rosterPath(), (from, to) -> {
            throw new IOException("No space left on device");
        });
        RosterService svc = service(failing, holder);
        Roster roster = svc.roster();
        ForwardingTable table = holder.current();
        PeerStats aliceStats = svc.statsOf("alice");
        List<RosterChange> heard = new ArrayList<>();
        svc.addListener((b, c) -> heard.add(c));

        RosterChange add = svc.addPeer("zoe", Endpoint.parse("192.0.2.50:50"), null, null);
        RosterChange remove = svc.removePeer("alice");
        RosterChange unlink = svc.removeLink("alice", "bob");

        for (RosterChange c : List.of(add, remove, unlink)) {
            assertEquals(RosterOutcome.PERSIST_FAILED, c.outcome());
            assertEquals("internal", c.outcome().code());
            assertTrue(c.message().contains("nothing changed"), c.message());
            assertTrue(c.message().contains("No space left on device"), c.message());
            assertSame(roster, c.roster());
        }
        assertSame(roster, svc.roster());
        assertSame(table, holder.current(), "no new table was published");
        assertSame(aliceStats, svc.statsOf("alice"), "the peer's counters are kept");
        assertNull(svc.statsOf("zoe"));
        assertEquals(List.of(), heard, "listeners hear only of changes that took effect");
        assertArrayEquals(before, Files.readAllBytes(rosterPath()));
        assertEquals(List.of("wg-roster"), listDir());
    }

    @Test
    void aPersistFailureBecauseTheParentIsARegularFileReturnsPersistFailed() throws Exception {
        Path notADir = dir.resolve("plain-file");
        Files.writeString(notADir, "x");
        RosterFile impossible = new RosterFile(notADir.resolve("wg-roster"));
        RosterFileException unreadable = assertThrows(RosterFileException.class, impossible::load);
        assertTrue(unreadable.getMessage().contains("cannot read"), unreadable.getMessage());
        ForwardingTableHolder holder = new ForwardingTableHolder(ForwardingTable.EMPTY);
        RosterService svc = new RosterService(Roster.EMPTY, impossible, holder, 1);
        ForwardingTable table = holder.current();

        RosterChange c = svc.addPeer("alice", Endpoint.parse("192.0.2.1:1"), null, null);

        assertEquals(RosterOutcome.PERSIST_FAILED, c.outcome());
        assertEquals(Roster.EMPTY, svc.roster());
        assertSame(table, holder.current());
        assertNull(svc.statsOf("alice"));
    }

    @Test
    void aChangeReportedAsNotSavedIsNeverLeftOnDisk() throws Exception {
        Path rosterDir = dir.resolve("etc");
        Path gone = dir.resolve("etc-gone");
        Path path = rosterDir.resolve("wg-roster");
        new RosterFile(path).write(richRoster());
        // The rename succeeds; then the directory cannot be opened for its fsync.
        RosterFile flaky = new RosterFile(path, (from, to) -> {
            Files.move(from, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.move(rosterDir, gone);
        });
        RosterService svc = new RosterService(richRoster(), flaky, new ForwardingTableHolder(ForwardingTable.EMPTY), 1);

        RosterChange c = svc.removePeer("alice");

        Roster onDisk = new RosterFile(gone.resolve("wg-roster")).load();
        if (c.outcome() == RosterOutcome.PERSIST_FAILED) {
            assertEquals(richRoster(), onDisk, "reported as not saved, so the old roster must still be on disk");
        } else {
            assertEquals(svc.roster(), onDisk);
        }
    }

    private List<String> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void removesOnlyItsOwnStaleTemporariesThatAnInterruptedWriteLeft() throws Exception {
        Path roster = dir.resolve("wg-roster");
        RosterFile file = new RosterFile(roster);
        file.write(Roster.EMPTY);
        Path stale = Files.writeString(dir.resolve(".wg-roster.123.tmp"), "peer half-writ");
        Path fresh = Files.writeString(dir.resolve(".wg-roster.456.tmp"), "peer being written");
        Path other = Files.writeString(dir.resolve(".other-roster.789.tmp"), "not ours");
        long now = System.currentTimeMillis();
        Files.setLastModifiedTime(stale, FileTime.fromMillis(now - 120_000));
        Files.setLastModifiedTime(other, FileTime.fromMillis(now - 120_000));

        assertEquals(1, file.removeStaleTemporaries(now - 60_000));

        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(fresh), "a temporary another relay may be writing now stays");
        assertTrue(Files.exists(other), "another roster's temporaries are not this one's to remove");
        assertTrue(Files.exists(roster));
        assertEquals(0, new RosterFile(dir.resolve("missing/wg-roster")).removeStaleTemporaries(now));
    }
}
