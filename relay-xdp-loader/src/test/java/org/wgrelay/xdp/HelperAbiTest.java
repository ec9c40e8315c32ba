package org.wgrelay.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The struct layout Java expects ({@link AbiLayout}) against the built helper's own dump
 * of {@code bpf/wg_relay_abi.h}: the header is the one definition, and this makes a
 * change to it fail here instead of corrupting maps at run time.
 */
class HelperAbiTest {
    private static final Path BUILD =
            Path.of(System.getProperty("user.dir")).getParent().resolve("bpf/build");

    @Test
    void theHelpersAbiDumpMatchesTheLayoutJavaExpects() throws Exception {
        Path helper = BUILD.resolve("wg-relay-xdp-helper");
        Path object = BUILD.resolve("wg_relay.bpf.o");
        boolean built = Files.isExecutable(helper) && Files.isReadable(object);
        if (!built && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("bpf/build is missing under CI: run make -C bpf (clang, libbpf-dev)");
        }
        Assumptions.assumeTrue(built, "bpf/build not built (make -C bpf); skipping the ABI check");
        try (HelperProcess h = HelperProcess.start(helper, object)) {
            Map<String, String> dump = AbiLayout.parse(h.callMulti("abi"));
            assertEquals(Map.of(), AbiLayout.mismatches(dump));
            assertTrue(dump.size() >= AbiLayout.EXPECTED.size());
            assertEquals("pong", h.call("ping"));
            assertTrue(h.call("frobnicate").startsWith("err "));
        }
    }
}
