package org.wgrelay.xdp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libbpf helper binary as a child process. Closing its stdin — also what happens
 * when this JVM dies — makes it detach the XDP program and exit, so a dead relay never
 * leaves a stale program attached; unless it was told {@code onexit keep}
 * ({@code --xdp-keep-on-exit}), then it leaves the program attached and pinned for the
 * next relay to adopt. Calls are serialised: one command, one answer.
 */
public final class HelperProcess implements HelperChannel {
    private static final Logger LOG = LoggerFactory.getLogger(HelperProcess.class);

    private final Process process;
    private final OutputStream in;
    private final BufferedReader out;

    private HelperProcess(Process process) {
        this.process = process;
        this.in = process.getOutputStream();
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Starts {@code helper bpfObject} and checks it answers {@code ping}. */
    public static HelperProcess start(Path helper, Path bpfObject) throws IOException {
        Process p = new ProcessBuilder(helper.toString(), bpfObject.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        HelperProcess h = new HelperProcess(p);
        String pong;
        try {
            pong = h.call("ping");
        } catch (IOException e) {
            h.close();
            throw new IOException("the XDP helper did not start: " + e.getMessage(), e);
        }
        if (!"pong".equals(pong)) {
            h.close();
            throw new IOException("the XDP helper did not start: " + pong);
        }
        return h;
    }

    @Override
    public synchronized String call(String command) throws IOException {
        send(command);
        String line = out.readLine();
        if (line == null) {
            throw new IOException("the XDP helper exited (status " + exitStatus() + ")");
        }
        if (line.startsWith("fatal ")) {
            throw new IOException("the XDP helper failed: " + line.substring(6));
        }
        return line;
    }

    @Override
    public synchronized List<String> callMulti(String command) throws IOException {
        send(command);
        List<String> lines = new ArrayList<>();
        for (String line; (line = out.readLine()) != null; ) {
            if (line.equals("end")) {
                return lines;
            }
            if (line.startsWith("err ")) {
                throw new IOException(line);
            }
            lines.add(line);
        }
        throw new IOException("the XDP helper exited (status " + exitStatus() + ")");
    }

    private void send(String command) throws IOException {
        if (command.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a command is one line");
        }
        in.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    @Override
    public boolean alive() {
        return process.isAlive();
    }

    private String exitStatus() {
        try {
            return process.waitFor(1, TimeUnit.SECONDS) ? String.valueOf(process.exitValue()) : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    /** Closes its stdin (it detaches, or keeps, and exits), waiting a moment before killing it. */
    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                LOG.warn("XDP helper did not exit after its input closed; killing it");
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
