package org.wgrelay.server.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.Locale;
import java.util.Set;
import org.slf4j.LoggerFactory;

/** Applies {@code --log-level} to the root logger. */
final class LogLevels {
    private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error");

    private LogLevels() {}

    static void apply(String level) {
        String l = level == null ? "" : level.trim().toLowerCase(Locale.ROOT);
        if (!LEVELS.contains(l)) {
            throw new IllegalArgumentException(
                    "invalid --log-level '" + level + "'; expected trace, debug, info, warn or error");
        }
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(l));
    }
}
