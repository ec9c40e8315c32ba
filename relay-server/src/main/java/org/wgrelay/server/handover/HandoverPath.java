package org.wgrelay.server.handover;

import java.nio.file.Path;

/** Where a relay listens for a takeover (SPEC D): next to its roster, so one roster has one relay. */
public final class HandoverPath {
    public static final String FILE_NAME = ".wg-relay.handover";

    private HandoverPath() {}

    public static Path of(Path roster) {
        Path dir = roster.toAbsolutePath().getParent();
        return dir.resolve(FILE_NAME);
    }
}
