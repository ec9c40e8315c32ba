package org.wgrelay.it.netns;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A long-running child process (wireguard-go, the relay, a traffic generator) whose merged
 * stdout/stderr is collected line by line, so a test can wait for a line with a deadline and put
 * the output into a failure message.
 *
 * <p>{@link #stop} sends SIGTERM, waits a grace period, then SIGKILLs the process and every
 * descendant. {@link #close} is idempotent, so owners and the namespace that spawned the child may
 * both call it.
 */
public final class ChildProcess implements AutoCloseable {

    /** Oldest lines are dropped beyond this, so a verbose child cannot exhaust the test heap. */
    private static final int MAX_LINES = 20_000;

    private final String label;
    private final Process process;
    private final Deque<String> lines = new ArrayDeque<>();
    private long droppedLines;
    private boolean eof;
    /** Guards {@link #exitCode}; separate from {@code this} so the output reader never waits on a stop. */
    private final Object stopLock = new Object();

    private Integer exitCode;

    private ChildProcess(String label, Process process) {
        this.label = label;
        this.process = process;
    }

    /** Starts {@code argv} with {@code extraEnv} added to this JVM's environment. */
    public static ChildProcess start(String label, List<String> argv, Map<String, String> extraEnv) {
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(extraEnv);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + label + ": `" + String.join(" ", argv) + "`", e);
        }
        ChildProcess child = new ChildProcess(label, process);
        Thread reader = new Thread(child::readOutput, "output-" + label);
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    private void readOutput() {
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (this) {
                    lines.addLast(line);
                    if (lines.size() > MAX_LINES) {
                        lines.removeFirst();
                        droppedLines++;
                    }
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // The pipe broke because the process died; EOF below says so.
        } finally {
            synchronized (this) {
                eof = true;
                notifyAll();
            }
        }
    }

    public String label() {
        return label;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Waits until a line matching {@code matcher} has been printed and returns it; throws with the
     * output so far when the process ends first or the deadline passes.
     */
    public String awaitLine(Predicate<String> matcher, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (true) {
                for (String line : lines) {
                    if (matcher.test(line)) {
                        return line;
                    }
                }
                if (eof) {
                    int code = exitValueAfterEof();
                    String exit = code == -1 ? "closed its output" : "exited " + code;
                    throw new IllegalStateException(
                            label + " " + exit + " before printing the expected line; output:\n" + outputLocked());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException(label + " did not print the expected line within "
                            + timeout.toMillis() + " ms; output:\n" + outputLocked());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for " + label, e);
                }
            }
        }
    }

    private int exitValueAfterEof() {
        try {
            // EOF on the pipe precedes the exit status by a moment.
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** Waits for the process to end by itself; empty when it is still running at the deadline. */
    public OptionalInt awaitExit(Duration timeout) {
        try {
            if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                return OptionalInt.of(process.exitValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OptionalInt.empty();
    }

    /**
     * Sends SIGTERM, waits up to {@code grace}, then kills the process and its descendants. Returns
     * the exit code (128 + signal number when it had to be killed); a second call returns the first
     * result.
     */
    public int stop(Duration grace) {
        synchronized (stopLock) {
            if (exitCode == null) {
                exitCode = terminate(grace);
            }
            return exitCode;
        }
    }

    /**
     * SIGKILLs the process (no chance to clean up: a crash as its peers see it) and its
     * descendants, and waits for it to end; returns and records the exit code as {@link #stop}
     * does. A process already stopped keeps its first result.
     */
    public int kill() {
        synchronized (stopLock) {
            if (exitCode == null) {
                exitCode = terminate(Duration.ZERO, true);
            }
            return exitCode;
        }
    }

    private int terminate(Duration grace) {
        return terminate(grace, false);
    }

    private int terminate(Duration grace, boolean forcibly) {
        if (forcibly) {
            List<ProcessHandle> descendants = process.descendants().toList();
            process.destroyForcibly();
            descendants.forEach(ProcessHandle::destroyForcibly);
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return process.isAlive() ? -1 : process.exitValue();
        }
        List<ProcessHandle> descendants = process.descendants().toList();
        if (process.isAlive()) {
            process.destroy();
        }
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle descendant : descendants) {
            descendant.destroyForcibly();
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** The exit code recorded by {@link #stop}, if it was called. */
    public Optional<Integer> stoppedWith() {
        synchronized (stopLock) {
            return Optional.ofNullable(exitCode);
        }
    }

    /** The collected output, merged stdout and stderr, one line per line. */
    public synchronized String output() {
        return outputLocked();
    }

    private String outputLocked() {
        StringBuilder text = new StringBuilder();
        if (droppedLines > 0) {
            text.append("[").append(droppedLines).append(" earlier lines dropped]\n");
        }
        for (String line : lines) {
            text.append("  | ").append(line).append('\n');
        }
        return text.toString();
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }

    @Override
    public String toString() {
        return label + " (pid " + process.pid() + ")";
    }
}
