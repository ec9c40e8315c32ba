package org.wgrelay.server.roster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing of the roster file parser (issue #15): any text either loads as a
 * roster that the relay's own writer reproduces exactly, or is refused with a message that
 * names the file and a line that holds an entry. A relay that wrote a roster it cannot load
 * again would not restart.
 *
 * <p>{@code mvn test} runs the committed inputs under {@code RosterFileFuzzTestInputs/};
 * {@code scripts/fuzz.sh} fuzzes with {@code JAZZER_FUZZ=1}.
 */
class RosterFileFuzzTest {
    private static final String SOURCE = "fuzz/wg-roster";
    private static final Pattern WHERE = Pattern.compile(Pattern.quote(SOURCE) + ":(\\d+): .+", Pattern.DOTALL);

    /**
     * The input is the file as it would be on disk, after one byte for {@code --max-links-per-peer}:
     * below 0x80 it is 1, else 2 to 129 (hub links). Seeds are thus roster files with one byte in front.
     */
    @FuzzTest
    void loadsOrNamesTheBadLine(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int first = input[0] & 0xff;
        int maxLinks = first < 0x80 ? 1 : 2 + (first & 0x7f);
        String text = new String(Arrays.copyOfRange(input, 1, input.length), StandardCharsets.UTF_8);
        Roster roster;
        try {
            roster = RosterFile.parse(text, SOURCE, maxLinks);
        } catch (RosterFileException e) {
            assertNamesAnEntryLine(text, e.getMessage());
            return;
        }
        assertHoldsItsInvariants(roster, maxLinks);
        String written = RosterFile.format(roster);
        Roster reloaded;
        try {
            reloaded = RosterFile.parse(written, SOURCE, maxLinks);
        } catch (RosterFileException e) {
            throw new AssertionError("the relay cannot load the roster it wrote: " + e.getMessage() + "\n" + written);
        }
        assertEquals(roster, reloaded, "a written roster loads back equal");
        assertEquals(written, RosterFile.format(reloaded), "writing is stable");
    }

    /** The message is SPEC's "naming the file and line", and that line is an entry, not blank or a comment. */
    private static void assertNamesAnEntryLine(String text, String message) {
        Matcher m = WHERE.matcher(message);
        if (!m.matches()) {
            fail("a refusal names the file and line: " + message);
        }
        int line = Integer.parseInt(m.group(1));
        String[] lines = text.split("\r?\n", -1);
        assertTrue(line >= 1 && line <= lines.length, "line " + line + " of " + lines.length + ": " + message);
        String named = lines[line - 1].strip();
        assertTrue(!named.isEmpty() && !named.startsWith("#"), "the named line holds an entry: " + message);
    }

    private static void assertHoldsItsInvariants(Roster roster, int maxLinks) {
        for (Link l : roster.links()) {
            assertTrue(roster.peer(l.a()) != null && roster.peer(l.b()) != null, "a link joins two peers: " + l);
        }
        for (PeerEntry p : roster.peers()) {
            assertTrue(roster.linkCountOf(p.name()) <= maxLinks, "link limit holds for " + p.name());
            assertEquals(null, RosterNames.checkName(p.name()));
            if (p.endpoint() != null) {
                assertEquals(p, roster.peerAt(p.endpoint()), "an endpoint names its peer");
            }
        }
    }
}
