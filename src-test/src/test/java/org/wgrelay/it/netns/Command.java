package org.wgrelay.it.netns;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one short external command (ip, wg, ping) to completion within a deadline.
 *
 * <p>Long-running children (wireguard-go, the relay, traffic generators) go through {@link
 * ChildProcess} instead. A failed command becomes a {@link FailedException} whose message carries
 * the command line, the exit code and stderr, so a broken topology explains itself in the test
 * report.
 */
public final class Command {

    /** What a finished command left behind. */
    public record Result(List<String> argv, int exitCode, String stdout, String stderr) {

        public boolean succeeded() {
            return exitCode == 0;
        }

        /** One paragraph for failure messages: command, exit code, stderr and stdout. */
        public String describe() {
            return "`" + String.join(" ", argv) + "` exited " + exitCode
                    + (stderr.isBlank() ? "" : "\n  stderr: " + stderr.strip())
                    + (stdout.isBlank() ? "" : "\n  stdout: " + stdout.strip());
        }
    }

    /** A command exited non-zero or ran past its deadline. */
    public static final class FailedException extends RuntimeException {
        private final Result result;

        FailedException(Result result) {
            super(result.describe());
            this.result = result;
        }

        public Result result() {
            return result;
        }
    }

    private Command() {}

    /** Runs {@code argv} and returns its result whatever the exit code. */
    public static Result run(Duration timeout, List<String> argv) {
        return run(timeout, argv, null);
    }

    /** Runs {@code argv}, feeding {@code stdin} (may be null), and returns its result. */
    public static Result run(Duration timeout, List<String> argv, byte[] stdin) {
        Process process;
        try {
            process = new ProcessBuilder(argv).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start `" + String.join(" ", argv) + "`", e);
        }
        // Both pipes are drained on their own threads so a chatty command never blocks on a full pipe.
        StreamCollector out = StreamCollector.start(process.getInputStream());
        StreamCollector err = StreamCollector.start(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        } catch (IOException e) {
            // The command closed stdin early; its exit code tells the rest.
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                throw new FailedException(
                        new Result(argv, -1, out.text(), err.text() + " [killed after " + timeout.toMillis() + " ms]"));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + argv, e);
        }
        return new Result(argv, process.exitValue(), out.text(), err.text());
    }

    /** Runs {@code argv} and throws {@link FailedException} unless it exits 0. */
    public static Result check(Duration timeout, List<String> argv) {
        return check(timeout, argv, null);
    }

    /** Runs {@code argv} with {@code stdin} and throws {@link FailedException} unless it exits 0. */
    public static Result check(Duration timeout, List<String> argv, byte[] stdin) {
        Result result = run(timeout, argv, stdin);
        if (!result.succeeded()) {
            throw new FailedException(result);
        }
        return result;
    }

    /** Reads one stream to its end on a daemon thread. */
    private static final class StreamCollector {
        private final Thread thread;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        private StreamCollector(InputStream stream) {
            thread = new Thread(
                    () -> {
                        try (stream) {
                            stream.transferTo(bytes);
                        } catch (IOException e) {
                            // The process died; whatever arrived so far is the output.
                        }
                    },
                    "command-output");
            thread.setDaemon(true);
        }

        static StreamCollector start(InputStream stream) {
            StreamCollector collector = new StreamCollector(stream);
            collector.thread.start();
            return collector;
        }

        String text() {
            try {
                // The process has exited; its pipe reaches EOF at once unless a grandchild holds it open.
                thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
