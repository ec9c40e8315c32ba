package org.wgrelay.it.netns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.wgrelay.server.daemon.Main;

/**
 * The control channel (SPEC, "Control channel") of a relay that runs in a namespace. Its listener
 * is on that namespace's loopback, which this JVM cannot reach, so requests run inside it: {@link #ctl} through the shipped {@code wg-relay ctl --json} (a JVM
 * per call; used for every change, so the client is part of the path under test), {@link #call}
 * as one JSON line over bash's {@code /dev/tcp} (cheap enough to poll counters with).
 */
public final class RelayControl {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CONTROL = Pattern.compile("\\bcontrol=127\\.0\\.0\\.1:(\\d+)\\b");
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration CTL_TIMEOUT = Duration.ofSeconds(60);
    private static final String ONE_REQUEST = "exec 3<>/dev/tcp/127.0.0.1/\"$0\" || exit 3;"
            + " printf '%s\\n' \"$1\" >&3; IFS= read -r -t 15 line <&3 || exit 4; printf '%s\\n' \"$line\"";

    private final Netns ns;
    private final int port;
    private final RelayProcess relay;

    private RelayControl(Netns ns, int port, RelayProcess relay) {
        this.ns = ns;
        this.port = port;
        this.relay = relay;
    }

    /** The control listener the relay named in its startup line. */
    public static RelayControl of(RelayProcess relay, Netns ns) {
        Matcher m = CONTROL.matcher(relay.startupLine());
        if (!m.find()) {
            throw new IllegalStateException("no control=127.0.0.1:PORT in " + relay.startupLine());
        }
        return new RelayControl(ns, Integer.parseInt(m.group(1)), relay);
    }

    /** One request over /dev/tcp; returns its {@code result}, failing the test on a refusal. */
    public JsonNode call(String verb, String... args) {
        ObjectNode request = request(verb, args);
        return resultOf(request.toString(), send(request));
    }

    /**
     * One request over /dev/tcp; returns the whole response, {@code ok} true or false, for a
     * test that expects a refusal and checks its error code.
     */
    public JsonNode response(String verb, String... args) {
        ObjectNode request = request(verb, args);
        String stdout = send(request);
        try {
            return JSON.readTree(stdout.strip());
        } catch (IOException e) {
            throw new UncheckedIOException("the answer to " + request + " is not JSON: " + stdout, e);
        }
    }

    private static ObjectNode request(String verb, String... args) {
        ObjectNode request = JSON.createObjectNode();
        request.put("id", 1);
        request.put("verb", verb);
        var array = request.putArray("args");
        for (String arg : args) {
            array.add(arg);
        }
        return request;
    }

    private String send(ObjectNode request) {
        Command.Result run = ns.tryExec(
                CALL_TIMEOUT,
                Prerequisites.which("bash"),
                "-c",
                ONE_REQUEST,
                Integer.toString(port),
                request.toString());
        if (!run.succeeded()) {
            throw new AssertionError(
                    "control request " + request + " failed: " + run.describe() + "\nrelay output:\n" + relay.output());
        }
        return run.stdout();
    }

    /** {@code wg-relay ctl --control 127.0.0.1:PORT --json words...} in the namespace; its {@code result}. */
    public JsonNode ctl(String... words) {
        List<String> args = new ArrayList<>(List.of("ctl", "--control", "127.0.0.1:" + port, "--json"));
        args.addAll(List.of(words));
        List<String> argv = JavaCommand.of(
                List.of("-Xmx64m", "-XX:TieredStopAtLevel=1", "-Xshare:auto"),
                Main.class.getName(),
                args.toArray(String[]::new));
        Command.Result run = ns.tryExec(CTL_TIMEOUT, argv.toArray(String[]::new));
        if (!run.succeeded()) {
            throw new AssertionError("wg-relay ctl " + String.join(" ", words) + " failed: " + run.describe());
        }
        return resultOf(String.join(" ", words), run.stdout());
    }

    /** {@code wg show}. */
    public Counters show() {
        return new Counters(call("wg show"));
    }

    /**
     * Polls {@code wg show} until {@code condition} holds: datagrams still on their way, or still
     * queued for a worker, are counted once they arrive. (Each {@code wg show} polls the kernel's
     * counters itself, so no condition here waits on the relay's periodic poll.)
     */
    public Counters awaitShow(Duration timeout, String what, Predicate<Counters> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Counters c = show();
            if (condition.test(c)) {
                return c;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what
                        + "; last wg show: " + c.json() + "\nrelay output:\n" + relay.output());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /**
     * {@code wg show} once the counters are at rest: every datagram the program saw has been
     * counted to the end ({@code rx_packets == xdp_rx_packets}), so nothing the test sent before
     * can still move a counter. {@code xdp_rx_packets} is current in every answer (the relay polls
     * the program's counters before it answers), so a datagram passed up and not yet read by a
     * worker keeps the two apart until it is. Valid where every datagram to the relay arrives on
     * an attached NIC, as in these tests.
     */
    public Counters settled() {
        return awaitShow(
                Duration.ofSeconds(20),
                "rx_packets == xdp_rx_packets",
                c -> c.get("rx_packets") == c.get("xdp_rx_packets"));
    }

    /** One peer's row of {@code wg peer list}. */
    public JsonNode peer(String name) {
        for (JsonNode row : call("wg peer list").path("peers")) {
            if (name.equals(row.path("name").asText())) {
                return row;
            }
        }
        throw new AssertionError("wg peer list has no peer " + name);
    }

    /** Polls {@code name}'s row of {@code wg peer list} until {@code condition} holds. */
    public JsonNode awaitPeer(String name, Duration timeout, Predicate<JsonNode> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode row = peer(name);
            if (condition.test(row)) {
                return row;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out after " + timeout.toMillis() + " ms waiting on peer " + name + "; last row: " + row);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** One aggregate counter of {@code wg show}. */
    public long counter(String key) {
        return show().get(key);
    }

    /** The entry of {@code wg blocklist list} for {@code ip}, or null. */
    public JsonNode blocklistEntry(String ip) {
        for (JsonNode entry : call("wg blocklist list").path("entries")) {
            if (ip.equals(entry.path("ip").asText())) {
                return entry;
            }
        }
        return null;
    }

    private static JsonNode resultOf(String request, String stdout) {
        JsonNode response;
        try {
            response = JSON.readTree(stdout.strip());
        } catch (IOException e) {
            throw new UncheckedIOException("the answer to " + request + " is not JSON: " + stdout, e);
        }
        if (response == null || !response.path("ok").asBoolean(false)) {
            throw new AssertionError("control request " + request + " was refused: " + stdout.strip());
        }
        return response.path("result");
    }

    /** A {@code wg show} result. */
    public record Counters(JsonNode json) {
        public long get(String key) {
            JsonNode v = json.get(key);
            if (v == null || !v.canConvertToLong()) {
                throw new AssertionError("wg show has no counter " + key + ": " + json);
            }
            return v.asLong();
        }

        /** How much {@code key} grew since {@code before}. */
        public long since(Counters before, String key) {
            return get(key) - before.get(key);
        }

        /** Userspace's part of {@code fwd_packets}: the total minus what the kernel forwarded. */
        public long userFwd() {
            return get("fwd_packets") - get("xdp_fwd_packets");
        }
    }
}
