package org.wgrelay.it.architecture;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The package layers of docs/design.md, checked on the compiled main classes of every module:
 * no package cycle anywhere, and in relay-server and relay-control each package uses only the
 * packages below it. Where a lower layer must reach a higher one it declares an interface that
 * the higher one implements (the pipeline's {@code UnknownSourcePolicy} and
 * {@code LinkedSourceWatch}, the table's {@code RoamingCandidate}, the state's
 * {@code EventSink}): remove one and the import it replaced breaks this test.
 */
class PackageLayersTest {
    /** relay-server's packages under {@code org.wgrelay.server}, from the bottom up. */
    static final List<String> SERVER_LAYERS = List.of(
            "wire",
            "counters",
            "roster",
            "table",
            "blocklist",
            "store",
            "state",
            "pipeline",
            "roaming",
            "xdp",
            "status",
            "control",
            "metrics",
            "handover",
            "daemon");
    /** relay-control's packages under {@code org.wgrelay.control}; {@code server} and {@code cli} are peers. */
    static final List<String> CONTROL_LAYERS = List.of("protocol", "verb", "server", "cli");

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.wgrelay");

    @Test
    void noPackageDependsOnItselfThroughAnother() {
        slices().matching("org.wgrelay.(**)").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void eachRelayServerPackageUsesOnlyThePackagesBelowIt() {
        layered("org.wgrelay.server", SERVER_LAYERS, List.of()).check(MAIN);
    }

    @Test
    void relayControlsProtocolIsBelowItsVerbsAndTheVerbsBelowServerAndClient() {
        layered("org.wgrelay.control", CONTROL_LAYERS, List.of("server", "cli")).check(MAIN);
    }

    /** docs/design.md draws the same layers, top first, between its {@code layers} markers. */
    @Test
    void designDocDrawsTheLayersTheImportsFollow() throws IOException {
        Path design = Path.of(System.getProperty("user.dir")).getParent().resolve("docs/design.md");
        List<String> drawn = new ArrayList<>();
        boolean inside = false;
        for (String line : Files.readAllLines(design)) {
            if (line.contains("<!-- layers:begin")) {
                inside = true;
            } else if (line.contains("<!-- layers:end")) {
                inside = false;
            } else if (inside
                    && !line.isBlank()
                    && !line.startsWith("```")
                    && !line.startsWith(" ")
                    && !line.startsWith("|")) {
                drawn.add(0, line.split("\\s+")[0]);
            }
        }
        assertEquals(SERVER_LAYERS, drawn, "docs/design.md's layer drawing differs from the checked layers");
    }

    /**
     * Each of {@code layers} (under {@code root}) may be used only by the layers after it in the
     * list; {@code peers} are layers that may not use each other either.
     */
    private static LayeredArchitecture layered(String root, List<String> layers, List<String> peers) {
        LayeredArchitecture arch = layeredArchitecture().consideringOnlyDependenciesInLayers();
        for (String layer : layers) {
            arch = arch.layer(layer).definedBy(root + "." + layer + "..");
        }
        for (int i = 0; i < layers.size(); i++) {
            List<String> above = new ArrayList<>(layers.subList(i + 1, layers.size()));
            if (peers.contains(layers.get(i))) {
                above.removeAll(peers);
            }
            arch = above.isEmpty()
                    ? arch.whereLayer(layers.get(i)).mayNotBeAccessedByAnyLayer()
                    : arch.whereLayer(layers.get(i)).mayOnlyBeAccessedByLayers(above.toArray(String[]::new));
        }
        return arch;
    }
}
