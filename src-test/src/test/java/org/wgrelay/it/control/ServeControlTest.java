package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wgrelay.server.daemon.Main;

/**
 * The command line around the control channel: {@code serve} refuses a non-loopback
 * control listener without a token (one line on stderr, exit 1), and {@code ctl}
 * through {@code Main} talks to a real relay.
 */
class ServeControlTest {
    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err) {}

    /** Runs {@code wg-relay args...} in this JVM with stdout and stderr captured. */
    private static synchronized Run main(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private Run serve(String control, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(
                "serve",
                "--control",
                control,
                "--roster",
                tmp.resolve("wg-roster").toString(),
                "--port",
                "0",
                "--metrics",
                "127.0.0.1:0",
                "--bind",
                "127.0.0.1",
                "--workers",
                "1"));
        args.addAll(List.of(more));
        return main(args.toArray(String[]::new));
    }

    @Test
    void serveRefusesANonLoopbackControlListenerWithoutATokenInOneLine() {
        for (String control : List.of("0.0.0.0:0", "[::]:0", "192.0.2.1:0")) {
            Run r = serve(control);
            assertEquals(1, r.exit(), control + ": " + r.err());
            List<String> lines = r.err().lines().toList();
            assertEquals(1, lines.size(), "one line on stderr, no usage dump: " + r.err());
            assertTrue(lines.get(0).contains("control") && lines.get(0).contains("--control-token-file"), lines.get(0));
            assertFalse(r.out().contains("wg-relay listening"), "it did not start");
            assertFalse(Files.exists(tmp.resolve("wg-roster")));
        }
    }

    @Test
    void serveRefusesAMaxLinksPerPeerOutside1To1024InOneLine() {
        for (String bad : List.of("0", "1025", "-3", "many", "")) {
            Run r = serve("127.0.0.1:0", "--max-links-per-peer", bad);
            assertEquals(1, r.exit(), bad + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().contains("--max-links-per-peer"), r.err());
            assertFalse(r.out().contains("wg-relay listening"), "it did not start");
        }
    }

    @Test
    void serveRefusesAnEmptyOrMissingTokenFileInOneLine() throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty-token"), "  \n");
        for (Path token : List.of(empty, tmp.resolve("no-such-token"))) {
            Run r = serve("0.0.0.0:0", "--control-token-file", token.toString());
            assertEquals(1, r.exit(), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().contains("--control-token-file"), r.err());
        }
    }

    @Test
    void ctlThroughMainTalksToARealRelayAndTakesLabelsThatLookLikeOptions() throws Exception {
        try (LocalRelay relay = LocalRelay.withToken("127.0.0.1", "tok-42")) {
            String control = "127.0.0.1:" + relay.daemon.controlPort();
            Path token = Files.writeString(tmp.resolve("token"), "tok-42\n");

            Run add = main(
                    "ctl",
                    "--control",
                    control,
                    "--token-file",
                    token.toString(),
                    "wg",
                    "peer",
                    "add",
                    "alice",
                    "198.51.100.1:51820",
                    "--not-an-option",
                    "-x");
            assertEquals(0, add.exit(), add.err());
            Run list = main("ctl", "--control", control, "--json", "wg", "peer", "list");
            assertEquals(0, list.exit(), list.err());
            assertTrue(list.out().contains("\"label\":\"--not-an-option -x\""), list.out());

            Run refused = main(
                    "ctl",
                    "--control",
                    control,
                    "--token-file",
                    token.toString(),
                    "wg",
                    "link",
                    "add",
                    "alice",
                    "ghost");
            assertEquals(1, refused.exit());
            assertTrue(refused.err().startsWith("error: wg_peer_unknown: "), refused.err());

            Run forbidden = main("ctl", "--control", control, "wg", "peer", "remove", "alice");
            assertEquals(1, forbidden.exit());
            assertTrue(forbidden.err().startsWith("error: forbidden: "), forbidden.err());

            Run readable = main("ctl", "--control", control, "wg", "show");
            assertEquals(0, readable.exit());
            assertTrue(readable.out().lines().anyMatch(l -> l.matches("peer_count\\s+1")), readable.out());

            Run help = main("ctl", "wg", "link", "add", "--help");
            assertEquals(0, help.exit());
            assertTrue(help.out().contains("at most one link"), help.out());
        }
    }
}
