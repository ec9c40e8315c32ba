package org.wgrelay.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.verb.ArgSpec;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.VerbSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code wg-relay ctl}: sends one verb to a running relay's control channel and prints
 * the answer — readably, or raw with {@code --json}. The verb's words are matched
 * against the application's verb catalogue (longest match), the rest are its arguments; a verb's
 * {@code --help} comes from the same catalogue and needs no running relay.
 *
 * <p>Exit status: 0 ok; 1 the relay said no (code and message on stderr); 2 bad usage;
 * 3 the relay could not be reached.
 */
@Command(
        name = "ctl",
        sortOptions = false,
        description = "Send a control verb to a running relay, e.g.: wg-relay ctl wg link add alice bob",
        footer = {"", "Run 'wg-relay ctl help' or 'wg-relay ctl <verb> --help' for the verbs."})
public final class CtlCommand implements Callable<Integer> {
    public static final int EXIT_REFUSED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_UNREACHABLE = 3;

    @Option(
            names = "--control",
            paramLabel = "HOST:PORT",
            defaultValue = "${env:WG_RELAY_CONTROL:-127.0.0.1:51821}",
            description = "The relay's control listener (default: ${DEFAULT-VALUE}).")
    String control;

    @Option(
            names = "--token-file",
            paramLabel = "PATH",
            defaultValue = "${env:WG_RELAY_CONTROL_TOKEN_FILE}",
            description = "File holding the operator token, for mutating verbs.")
    String tokenFile;

    @Option(names = "--json", description = "Print the relay's raw JSON response.")
    boolean json;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "10",
            description = "Give up waiting for the relay after this long (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(
            names = {"-h", "--help"},
            description = "Show this help, or a verb's help after the verb's words.")
    boolean help;

    @Parameters(paramLabel = "WORDS", arity = "0..*", description = "The verb's words, then its arguments.")
    List<String> words = new ArrayList<>();

    private final List<VerbSpec> catalogue;
    private final PrintStream out;
    private final PrintStream err;

    /** @param catalogue every verb the relay serves, in the order {@code --help} lists them */
    public CtlCommand(List<VerbSpec> catalogue) {
        this(catalogue, System.out, System.err);
    }

    public CtlCommand(List<VerbSpec> catalogue, PrintStream out, PrintStream err) {
        this.catalogue = List.copyOf(catalogue);
        this.out = out;
        this.err = err;
    }

    /**
     * The longest verb of the catalogue that is a prefix of {@code words}, or null: how
     * {@code wg show config alice} (verb + argument) is told from {@code wg show} (verb).
     */
    private VerbSpec longestPrefix(List<String> words) {
        VerbSpec best = null;
        for (VerbSpec v : catalogue) {
            int n = v.verb().split(" ").length;
            if (n <= words.size()
                    && String.join(" ", words.subList(0, n)).equals(v.verb())
                    && (best == null || n > best.verb().split(" ").length)) {
                best = v;
            }
        }
        return best;
    }

    @Override
    public Integer call() {
        VerbSpec spec = longestPrefix(words);
        if (help) {
            if (spec == null) {
                new picocli.CommandLine(this).usage(out);
                out.println();
                out.println("Verbs:");
                for (VerbSpec v : catalogue) {
                    out.println("  " + v.usage());
                }
            } else {
                printVerbHelp(spec);
            }
            return 0;
        }
        if (words.isEmpty()) {
            err.println("wg-relay ctl: no verb given; 'wg-relay ctl --help' lists them");
            return EXIT_USAGE;
        }
        String verb = spec == null ? String.join(" ", words) : spec.verb();
        List<String> args = spec == null ? List.of() : words.subList(verb.split(" ").length, words.size());

        ObjectNode request = JsonNodeFactory.instance.objectNode();
        request.put("id", 1);
        request.put("verb", verb);
        args.forEach(request.putArray("args")::add);
        if (tokenFile != null && !tokenFile.isBlank()) {
            try {
                request.put(
                        "token",
                        Files.readString(Path.of(tokenFile), StandardCharsets.UTF_8)
                                .strip());
            } catch (IOException e) {
                err.println("wg-relay ctl: cannot read --token-file " + tokenFile + ": " + e.getMessage());
                return EXIT_USAGE;
            }
        }
        if (timeoutSeconds < 1 || timeoutSeconds > 86_400) {
            err.println("wg-relay ctl: invalid --timeout " + timeoutSeconds + "; expected 1..86400 seconds");
            return EXIT_USAGE;
        }
        InetSocketAddress address;
        try {
            address = hostPort(control);
        } catch (IllegalArgumentException e) {
            err.println("wg-relay ctl: invalid --control '" + control + "': " + e.getMessage());
            return EXIT_USAGE;
        }
        try (Socket socket = new Socket()) {
            socket.connect(address, timeoutSeconds * 1000);
            boolean streaming = verb.equals(BuiltinVerbs.SUBSCRIBE.verb());
            socket.setSoTimeout(streaming ? 0 : timeoutSeconds * 1000);
            OutputStream os = socket.getOutputStream();
            os.write((request + "\n").getBytes(StandardCharsets.UTF_8));
            os.flush();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String line = in.readLine();
            if (line == null) {
                err.println("wg-relay ctl: the relay closed the connection without answering");
                return EXIT_UNREACHABLE;
            }
            int status = render(line);
            if (status == 0 && streaming) {
                for (String event; (event = in.readLine()) != null; ) {
                    out.println(event);
                    out.flush();
                }
            }
            return status;
        } catch (IOException e) {
            err.println("wg-relay ctl: cannot reach the relay's control channel at " + control + ": " + e.getMessage());
            return EXIT_UNREACHABLE;
        }
    }

    private int render(String line) throws IOException {
        JsonNode response = ControlJson.MAPPER.readTree(line);
        boolean ok = response.path("ok").asBoolean(false);
        if (json) {
            (ok ? out : err).println(line);
        } else if (ok) {
            ResultPrinter.print(response.get("result"), out);
        } else {
            JsonNode error = response.path("error");
            err.println("error: " + error.path("code").asText("?") + ": "
                    + error.path("message").asText(""));
        }
        return ok ? 0 : EXIT_REFUSED;
    }

    private void printVerbHelp(VerbSpec spec) {
        out.println("Usage: wg-relay ctl " + spec.usage());
        out.println(spec.description());
        out.println("Role: " + spec.role().word());
        if (!spec.args().isEmpty()) {
            out.println("Arguments:");
            for (ArgSpec a : spec.args()) {
                out.println("  " + a.name() + (a.required() ? "" : " (optional)") + "  " + a.description());
            }
        }
    }

    private static InetSocketAddress hostPort(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected HOST:PORT");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range 1..65535");
        }
        return new InetSocketAddress(host, port);
    }
}
