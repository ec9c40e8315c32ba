package org.wgrelay.it.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.wgrelay.control.server.ControlLimits;
import org.wgrelay.control.verb.ArgSpec;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.control.RelayVerbs;
import org.wgrelay.server.daemon.HostPort;
import org.wgrelay.server.daemon.RelayDaemon;
import org.wgrelay.server.daemon.ServeConfig;
import org.wgrelay.server.xdp.XdpMode;

/**
 * {@code docs/control.md} is generated: the verb reference from {@link RelayVerbs#catalogue()} and
 * every example from a real session with a running relay. This test regenerates it and
 * fails when the file in the tree differs, so the docs cannot drift from the code.
 * Regenerate with {@code mvn -pl src-test test -Dtest=ControlDocsTest -Dwgrelay.docs.write=true}.
 */
class ControlDocsTest {
    private static final Path DOC =
            Path.of(System.getProperty("user.dir")).getParent().resolve("docs/control.md");
    private static final ControlLimits LIMITS = ControlLimits.DEFAULTS;
    private static final String ALICE_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    private static final String BOB_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

    /** One example: the request line sent and the response line received. */
    private record Example(String title, String request, String response) {}

    @Test
    void docsControlMdMatchesTheRegistryAndARealSession() throws Exception {
        String generated = render(session());
        if (Boolean.getBoolean("wgrelay.docs.write")) {
            Files.writeString(DOC, generated);
        }
        String onDisk = Files.exists(DOC) ? Files.readString(DOC) : "";
        assertEquals(
                generated,
                onDisk,
                "docs/control.md is out of date; regenerate it with "
                        + "mvn -pl src-test test -Dtest=ControlDocsTest -Dwgrelay.docs.write=true");
    }

    private static List<Example> session() throws Exception {
        Path dir = Files.createTempDirectory("wg-relay-docs");
        ServeConfig config = new ServeConfig(
                InetAddress.getByName("127.0.0.1"),
                0,
                1,
                dir.resolve("wg-roster"),
                HostPort.parse("127.0.0.1:0"),
                null,
                HostPort.parse("127.0.0.1:0"),
                List.of(),
                XdpMode.OFF,
                false,
                1,
                null,
                false,
                true);
        RelayDaemon daemon = new RelayDaemon(config, () -> 1_767_225_600_000L);
        daemon.start();
        List<Example> examples = new ArrayList<>();
        try (Socket s = new Socket("127.0.0.1", daemon.controlPort())) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            String port = String.valueOf(daemon.udpPort());
            String[][] script = {
                {
                    "Register a peer",
                    "{\"id\":1,\"verb\":\"wg peer add\",\"args\":[\"alice\",\"198.51.100.7:51000\",\"alice's laptop\"]}"
                },
                {"Register another", "{\"id\":2,\"verb\":\"wg peer add\",\"args\":[\"bob\",\"[2001:db8::44]:41641\"]}"},
                {
                    "Stamp a public key",
                    "{\"id\":3,\"verb\":\"wg peer pubkey\",\"args\":[\"alice\",\"" + ALICE_KEY + "\"]}"
                },
                {"Stamp the other key", "{\"id\":4,\"verb\":\"wg peer pubkey\",\"args\":[\"bob\",\"" + BOB_KEY + "\"]}"
                },
                {"Link them", "{\"id\":5,\"verb\":\"wg link add\",\"args\":[\"alice\",\"bob\"]}"},
                {"A second link for one of them", "{\"id\":6,\"verb\":\"wg link add\",\"args\":[\"alice\",\"carol\"]}"},
                {
                    "Move an endpoint",
                    "{\"id\":7,\"verb\":\"wg peer update\",\"args\":[\"alice\",\"198.51.100.7:51001\"]}"
                },
                {"Pin an XDP egress NIC", "{\"id\":8,\"verb\":\"wg peer nic\",\"args\":[\"bob\",\"eth1\"]}"},
                {"List the peers", "{\"id\":9,\"verb\":\"wg peer list\"}"},
                {"List the links", "{\"id\":10,\"verb\":\"wg link list\"}"},
                {"The aggregate counters", "{\"id\":11,\"verb\":\"wg show\"}"},
                {
                    "A [Peer] block to paste",
                    "{\"id\":12,\"verb\":\"wg show config\",\"args\":[\"alice\",\"203.0.113.10:51820\"]}"
                },
                {"Sources with recent drops", "{\"id\":13,\"verb\":\"wg show drop_sources\"}"},
                {"Block a source", "{\"id\":14,\"verb\":\"wg blocklist add\",\"args\":[\"192.0.2.66\",\"1h\"]}"},
                {"The blocklist", "{\"id\":15,\"verb\":\"wg blocklist list\"}"},
                {"Unblock it", "{\"id\":16,\"verb\":\"wg blocklist remove\",\"args\":[\"192.0.2.66\"]}"},
                {
                    "Remove a link (names in either order)",
                    "{\"id\":17,\"verb\":\"wg link remove\",\"args\":[\"bob\",\"alice\"]}"
                },
                {"Remove a peer", "{\"id\":18,\"verb\":\"wg peer remove\",\"args\":[\"bob\"]}"},
                {"Describe one verb", "{\"id\":19,\"verb\":\"help\",\"args\":[\"wg\",\"link\",\"add\"]}"},
                {"An unknown verb", "{\"id\":20,\"verb\":\"wg peer frobnicate\"}"},
                {"A missing argument", "{\"id\":21,\"verb\":\"wg link add\",\"args\":[\"alice\"]}"},
                {"A line that is not JSON", "this is not json"},
            };
            for (String[] step : script) {
                out.write((step[1] + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                String response = in.readLine().replace(port, "51820");
                examples.add(new Example(step[0], step[1], response));
            }
        } finally {
            daemon.close();
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        return examples;
    }

    private static String render(List<Example> examples) {
        StringBuilder md = new StringBuilder();
        md.append("# Control channel\n\n")
                .append("<!-- Generated by src-test ControlDocsTest from the verb catalogue and a real session;"
                        + " do not edit by hand. -->\n\n")
                .append("TCP, one JSON request per line, one JSON response per line, in request order"
                        + " (SPEC \"Control channel\"). The listener is `--control` (default `127.0.0.1:51821`);"
                        + " `wg-relay ctl` is the command-line client.\n\n")
                .append("- Request: `{\"id\": <any scalar>, \"verb\": \"wg link add\", \"args\": [\"alice\", \"bob\"],"
                        + " \"token\": \"...\"}` — `args` are strings; `token` only for operator verbs when"
                        + " `--control-token-file` is set.\n")
                .append("- Response: `{\"id\": ..., \"ok\": true, \"result\": {...}}` or `{\"id\": ..., \"ok\": false,"
                        + " \"error\": {\"code\": \"...\", \"message\": \"...\"}}`.\n")
                .append("- A line over 64 KiB (without its newline) is answered `frame_too_large` with `\"id\": null`"
                        + " and the connection is closed. Any other malformed line is `bad_request` and the"
                        + " connection stays open. Blank lines are ignored.\n")
                .append("- Generic errors: `missing_arg`, `invalid_arg`, `unknown_verb`, `forbidden`, `bad_request`;"
                        + " `internal` when the relay could not carry out a valid request (nothing changed).\n")
                .append("- `subscribe` turns the connection into an event stream: one"
                        + " `{\"event\": \"state.wg.<name>\", \"data\": {...}}` line per change (`peer_added`,"
                        + " `peer_updated`, `peer_removed`, `link_added`, `link_removed`, `relearn`,"
                        + " `blocklist_added`, `blocklist_removed`). A subscriber that stops reading is dropped"
                        + " once 256 KiB of events are waiting.\n")
                .append(String.format(
                        Locale.ROOT,
                        "- Limits (docs/security.md): a request line must arrive complete within %d s of its"
                                + " first byte (`request_timeout`); a connection with no bytes either way for %d"
                                + " minutes is closed (`idle_timeout`, not subscribers); at %,d open connections a"
                                + " new one closes the one whose last request is oldest (`connection_limit`); a"
                                + " client that leaves %d KiB of answers unread is not read until it catches up,"
                                + " and closed after %d s. These errors have `\"id\": null` and close the"
                                + " connection.\n\n",
                        LIMITS.lineDeadline().toSeconds(),
                        LIMITS.idleTimeout().toMinutes(),
                        LIMITS.maxConnections(),
                        LIMITS.outputHighWaterBytes() / 1024,
                        LIMITS.writeStallTimeout().toSeconds()));
        md.append("## Verbs\n\n| verb | role | arguments | what it does |\n|---|---|---|---|\n");
        for (VerbSpec v : RelayVerbs.catalogue()) {
            List<String> args = new ArrayList<>();
            for (ArgSpec a : v.args()) {
                String n = a.rest() ? a.name() + "..." : a.name();
                args.add(a.required() ? "`<" + n + ">`" : "`[" + n + "]`");
            }
            md.append("| `")
                    .append(v.verb())
                    .append("` | ")
                    .append(v.role().word())
                    .append(" | ")
                    .append(args.isEmpty() ? "—" : String.join(" ", args))
                    .append(" | ")
                    .append(v.description().replace("|", "\\|"))
                    .append(" |\n");
        }
        md.append("\nVerb-specific errors are SPEC's: `wg_peer_duplicate`, `wg_endpoint_in_use`, `wg_peer_unknown`,"
                + " `invalid_pubkey`, `wg_link_self`, `link_limit_exceeded`, `wg_link_duplicate`,"
                + " `wg_link_unknown`, `wg_blocklist_unknown`. `wg link add` checks in the order self, unknown"
                + " peer, duplicate, limit.\n\n");
        md.append("## A session\n\nEvery request below was sent to a running relay and the response recorded as it"
                + " came back (the UDP port normalised to 51820).\n\n");
        for (Example e : examples) {
            md.append("### ")
                    .append(e.title())
                    .append("\n\n```\n> ")
                    .append(e.request())
                    .append("\n< ")
                    .append(e.response())
                    .append("\n```\n\n");
        }
        return md.toString();
    }
}
