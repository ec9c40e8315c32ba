package org.wgrelay.server.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * SPEC C's store options, validated: {@code --etcd-endpoints}, {@code --etcd-prefix},
 * {@code --relay-id}, and TLS and auth files.
 *
 * @param caFile the CA that signs the etcd members' certificates, or null (plain or system trust)
 * @param certFile with {@code keyFile}, this relay's client certificate, or null
 * @param passwordFile the file holding {@code user}'s password, or null
 */
public record EtcdSettings(
        List<URI> endpoints,
        String prefix,
        String relayId,
        Path caFile,
        Path certFile,
        Path keyFile,
        String user,
        Path passwordFile) {

    public EtcdSettings {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("--etcd-endpoints needs at least one URL");
        }
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("--etcd-cert-file and --etcd-key-file go together");
        }
        if ((user == null) != (passwordFile == null)) {
            throw new IllegalArgumentException("--etcd-user and --etcd-password-file go together");
        }
    }

    /** Parses {@code http://host:port[,https://...]}, refusing anything that is not a URL etcd serves. */
    public static List<URI> parseEndpoints(String text) {
        List<URI> out = new java.util.ArrayList<>();
        for (String part : text.split(",")) {
            String s = part.trim();
            URI u;
            try {
                u = URI.create(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid --etcd-endpoints URL '" + s + "'");
            }
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
                    || u.getHost() == null
                    || u.getPort() < 1) {
                throw new IllegalArgumentException(
                        "invalid --etcd-endpoints URL '" + s + "'; expected http://HOST:PORT or https://HOST:PORT");
            }
            out.add(u);
        }
        return out;
    }

    /** A short form for log lines: {@code host:port,host:port}. */
    public String endpointsText() {
        StringBuilder b = new StringBuilder();
        for (URI u : endpoints) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(u.getHost()).append(':').append(u.getPort());
        }
        return b.toString();
    }

    /**
     * A jetcd client that fails a call at once while no member is reachable (so a verb answers
     * {@code store_unavailable} instead of hanging) and notices a dead connection within seconds.
     */
    Client buildClient() throws IOException {
        ClientBuilder b = Client.builder()
                .endpoints(endpoints.toArray(URI[]::new))
                .connectTimeout(Duration.ofSeconds(2))
                .keepaliveTime(Duration.ofSeconds(5))
                .keepaliveTimeout(Duration.ofSeconds(3))
                .keepaliveWithoutCalls(true)
                .waitForReady(false)
                .retryMaxAttempts(2)
                .retryDelay(100)
                .retryMaxDelay(500)
                .retryMaxDuration(Duration.ofSeconds(2));
        if (user != null) {
            String password =
                    Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
            b.user(ByteSequence.from(user, StandardCharsets.UTF_8))
                    .password(ByteSequence.from(password, StandardCharsets.UTF_8));
        }
        if (caFile != null || certFile != null) {
            b.sslContext(ssl -> {
                if (caFile != null) {
                    ssl.trustManager(caFile.toFile());
                }
                if (certFile != null) {
                    ssl.keyManager(certFile.toFile(), keyFile.toFile());
                }
            });
        }
        return b.build();
    }
}
