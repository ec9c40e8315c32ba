package org.wgrelay.server;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What Netty's leak detector reported: it logs each leaked buffer (found when the garbage
 * collector has taken it) on its own logger, so tests that must leak nothing (the fuzz tests)
 * listen there and fail on any report. Turns detection up to PARANOID, so every buffer is
 * tracked whatever the JVM was started with.
 */
public final class LeakReports {
    private static final ListAppender<ILoggingEvent> REPORTS = new ListAppender<>();

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        Logger logger = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
        REPORTS.setName("leak-reports");
        REPORTS.start();
        logger.addAppender(REPORTS);
    }

    private LeakReports() {}

    /** Installs the listener (idempotent; the class initialiser does the work). */
    public static void install() {}

    /** Throws if the detector has reported any leak since the JVM started. */
    public static void assertNone() {
        List<String> reports;
        synchronized (REPORTS) {
            reports = REPORTS.list.stream()
                    .map(ILoggingEvent::getFormattedMessage)
                    .toList();
        }
        if (!reports.isEmpty()) {
            throw new AssertionError("Netty reported " + reports.size() + " leak(s): " + reports.get(0));
        }
    }
}
