package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

/** SPEC's escalation steps and the strike table's bounds, on an injected clock. */
class StrikeEscalationTest {
    private static final long T0 = 1_700_000_000_000L;
    private final StrikeTable strikes = new StrikeTable();

    private static InetAddress ip(int n) {
        try {
            return InetAddress.getByAddress(new byte[] {10, (byte) (n >> 16), (byte) (n >> 8), (byte) n});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void oneStrikeAloneBlocksNothing() {
        assertNull(strikes.strike(ip(1), T0));
    }

    @Test
    void twoStrikesWithinSixtySecondsBlockForSixtySeconds() {
        strikes.strike(ip(1), T0);
        StrikeTable.Escalation e = strikes.strike(ip(1), T0 + 59_999);
        assertEquals(60_000, e.millis());
        assertEquals(2, e.strikes());
    }

    @Test
    void twoStrikesSixtySecondsApartBlockNothing() {
        strikes.strike(ip(1), T0);
        assertNull(strikes.strike(ip(1), T0 + 60_000));
    }

    @Test
    void fiveStrikesWithinAnHourBlockForAnHour() {
        StrikeTable.Escalation e = null;
        for (int i = 0; i < 5; i++) {
            e = strikes.strike(ip(1), T0 + i * 10 * 60_000L); // every 10 minutes: never 2 in 60 s
        }
        assertEquals(3_600_000, e.millis());
        assertEquals(5, e.strikes());
    }

    @Test
    void tenStrikesWithinADayBlockForADay() {
        StrikeTable.Escalation e = null;
        for (int i = 0; i < 10; i++) {
            e = strikes.strike(ip(1), T0 + i * 2 * 3_600_000L); // every 2 hours: never 5 in an hour
        }
        assertEquals(24 * 3_600_000L, e.millis());
        assertEquals(10, e.strikes());
        assertEquals(10, e.totalStrikes());
    }

    @Test
    void aRelearnClearsTheStrikes() {
        strikes.strike(ip(1), T0);
        strikes.clear(ip(1));
        assertNull(strikes.strike(ip(1), T0 + 1000));
        assertEquals(1, strikes.totalStrikes(ip(1)));
    }

    @Test
    void strikesOlderThanADayAreSweptAway() {
        strikes.strike(ip(1), T0);
        strikes.strike(ip(2), T0 + 3_600_000);
        strikes.sweep(T0 + 24 * 3_600_000L + 1);
        assertEquals(1, strikes.size());
        assertEquals(0, strikes.totalStrikes(ip(1)));
    }

    @Test
    void staysBoundedUnderAMillionDistinctSources() {
        for (int i = 0; i < 1_000_000; i++) {
            strikes.strike(ip(i), T0 + i);
        }
        assertEquals(StrikeTable.CAPACITY, strikes.size());
        assertEquals(1, strikes.totalStrikes(ip(999_999)), "the most recent are kept");
        assertEquals(0, strikes.totalStrikes(ip(0)), "the least recently struck went first");
    }
}
