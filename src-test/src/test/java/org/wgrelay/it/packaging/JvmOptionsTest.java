package org.wgrelay.it.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;

/**
 * The JVM options wg-relay ships (docs/operations.md, "JVM settings"): the two launchers' defaults,
 * the systemd unit's {@code Environment=} and the image's {@code ENV} are one and the same list,
 * it keeps {@code -XX:+ExitOnOutOfMemoryError}, this JVM accepts it, and the launcher passes it
 * exactly when {@code WG_RELAY_JAVA_OPTS} is unset.
 */
class JvmOptionsTest {

    private static final Pattern LAUNCHER_DEFAULT = Pattern.compile("(?m)^default_java_opts=\"([^\"]*)\"$");
    private static final Pattern UNIT_ENVIRONMENT =
            Pattern.compile("(?m)^Environment=\"WG_RELAY_JAVA_OPTS=([^\"]*)\"$");
    private static final Pattern IMAGE_ENV = Pattern.compile("(?m)^\\s*WG_RELAY_JAVA_OPTS=\"([^\"]*)\"");

    @Test
    void theLaunchersTheUnitAndTheImageShipOneListThatKeepsExitOnOutOfMemoryError() throws IOException {
        String shipped = find(LAUNCHER_DEFAULT, Podman.REPO.resolve("dist/wg-relay"));
        assertEquals(shipped, find(LAUNCHER_DEFAULT, Podman.REPO.resolve("wg-relay")), "./wg-relay");
        assertEquals(shipped, find(UNIT_ENVIRONMENT, Podman.REPO.resolve("dist/wg-relay.service")), "the unit");
        assertEquals(shipped, find(IMAGE_ENV, Podman.REPO.resolve("Dockerfile")), "the image");
        List<String> options = Arrays.asList(shipped.split("\\s+"));
        assertTrue(options.contains("-XX:+ExitOnOutOfMemoryError"), shipped);
        assertTrue(options.contains("-XX:+UseZGC"), "the collector is chosen, not left to ergonomics: " + shipped);
    }

    @Test
    void thisJvmStartsWithTheShippedOptions() throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(Prerequisites.which("java"));
        argv.addAll(Arrays.asList(
                find(LAUNCHER_DEFAULT, Podman.REPO.resolve("dist/wg-relay")).split("\\s+")));
        argv.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        Command.Result flags = Command.check(Duration.ofSeconds(60), argv);
        assertTrue(
                Pattern.compile("(?m)^\\s*bool UseZGC\\s+= true")
                        .matcher(flags.stdout())
                        .find(),
                flags.describe());
        assertTrue(
                Pattern.compile("(?m)^\\s*bool ExitOnOutOfMemoryError\\s+= true")
                        .matcher(flags.stdout())
                        .find(),
                flags.describe());
    }

    @Test
    void theLauncherPassesItsDefaultsOnlyWhenWgRelayJavaOptsIsUnset() throws IOException {
        Path dir = Files.createTempDirectory("wgr-jvmopts-");
        try {
            // A stand-in for java that writes down its arguments, one per line.
            Path args = dir.resolve("args");
            Path fakeJava = dir.resolve("java");
            Files.writeString(fakeJava, "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + args + "'\n");
            Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
            String launcher = Podman.REPO.resolve("dist/wg-relay").toString();
            String env = Prerequisites.which("env");
            String shipped = find(LAUNCHER_DEFAULT, Podman.REPO.resolve("dist/wg-relay"));

            Command.check(
                    Duration.ofSeconds(30),
                    List.of(env, "-u", "WG_RELAY_JAVA_OPTS", "JAVA=" + fakeJava, launcher, "--version"));
            assertEquals(jvmOptions(args), Arrays.asList(shipped.split("\\s+")), "unset: the shipped options");

            Command.check(
                    Duration.ofSeconds(30),
                    List.of(
                            env,
                            "WG_RELAY_JAVA_OPTS=-Xmx64m -XX:+UseSerialGC",
                            "JAVA=" + fakeJava,
                            launcher,
                            "--version"));
            assertEquals(List.of("-Xmx64m", "-XX:+UseSerialGC"), jvmOptions(args), "set: those instead");

            Command.check(
                    Duration.ofSeconds(30),
                    List.of(env, "WG_RELAY_JAVA_OPTS=", "JAVA=" + fakeJava, launcher, "--version"));
            assertEquals(List.of(), jvmOptions(args), "set but empty: none");
        } finally {
            Command.run(Duration.ofSeconds(30), List.of("rm", "-rf", dir.toString()));
        }
    }

    /** The arguments before the launcher's own {@code -Dwg-relay.home=}. */
    private static List<String> jvmOptions(Path args) throws IOException {
        List<String> all = Files.readAllLines(args);
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).startsWith("-Dwg-relay.home=")) {
                return all.subList(0, i);
            }
        }
        throw new AssertionError("no -Dwg-relay.home= in " + all);
    }

    private static String find(Pattern pattern, Path file) throws IOException {
        Matcher m = pattern.matcher(Files.readString(file));
        assertTrue(m.find(), pattern + " in " + file);
        String value = m.group(1);
        assertTrue(!m.find(), "one " + pattern + " in " + file);
        return value;
    }
}
