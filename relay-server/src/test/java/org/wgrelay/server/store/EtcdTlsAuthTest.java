package org.wgrelay.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.concurrent.DefaultEventExecutor;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterOutcome;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * SPEC C's TLS and auth options against a real etcd that requires client certificates and
 * authenticates users: the relay syncs and writes with the right ones; with a wrong password
 * etcd answers nothing it may use, and the relay's verbs say {@code store_unavailable}.
 */
class EtcdTlsAuthTest {

    @Test
    void aRelayWithTheCaClientCertificateAndAUserSyncsAndWritesAndAWrongPasswordChangesNothing() throws Exception {
        try (LocalEtcd etcd = LocalEtcd.start(true)) {
            Path dir = Files.createTempDirectory("wg-relay-etcd-auth");
            Path password = Files.writeString(dir.resolve("password"), "relay-secret\n");
            Path wrong = Files.writeString(dir.resolve("wrong"), "guess\n");
            etcd.etcdctl("user", "add", "root:root-secret");
            etcd.etcdctl("user", "grant-role", "root", "root");
            etcd.etcdctl("user", "add", "relay:relay-secret");
            etcd.etcdctl("role", "add", "wg-relay");
            etcd.etcdctl("role", "grant-permission", "wg-relay", "--prefix=true", "readwrite", "/wg-relay/");
            etcd.etcdctl("user", "grant-role", "relay", "wg-relay");
            etcd.etcdctl("auth", "enable");

            DefaultEventExecutor writer = new DefaultEventExecutor();
            EtcdRosterStore good = store(etcd, password, "good");
            EtcdRosterStore bad = store(etcd, wrong, "bad");
            try {
                RosterService roster = serve(good, writer);
                RosterService refused = serve(bad, writer);
                good.start();
                bad.start();
                EtcdRosterStoreTest.await(
                        "the relay with the right password syncs",
                        () -> good.status().synced());
                assertTrue(roster.addPeer("alice", Endpoint.parse("10.0.0.1:1000"), null, null)
                        .ok());
                assertTrue(
                        etcd.etcdctl("--user", "root:root-secret", "get", "/wg-relay/peers/alice")
                                .contains("10.0.0.1:1000"),
                        "written through TLS as user relay");
                assertEquals(
                        RosterOutcome.STORE_UNAVAILABLE,
                        refused.addPeer("mallory", Endpoint.parse("10.0.0.9:9"), null, null)
                                .outcome());
                assertTrue(
                        !bad.status().synced() && !bad.status().connected(),
                        bad.status().toString());
                assertTrue(!etcd.etcdctl("--user", "root:root-secret", "get", "--prefix", "/wg-relay/peers/")
                        .contains("mallory"));
            } finally {
                good.close();
                bad.close();
                writer.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
        }
    }

    private static EtcdRosterStore store(LocalEtcd etcd, Path passwordFile, String id) {
        EtcdSettings settings = new EtcdSettings(
                List.of(URI.create(etcd.endpoint())),
                "/wg-relay/",
                id,
                etcd.ca(),
                etcd.clientCert(),
                etcd.clientKey(),
                "relay",
                passwordFile);
        return new EtcdRosterStore(
                settings,
                1,
                null,
                new Blocklist(),
                System::currentTimeMillis,
                (event, data) -> {},
                () -> new RelayInfo(id, "127.0.0.1:51820", "test", "2026-12-04T00:00:00Z"));
    }

    private static RosterService serve(EtcdRosterStore store, DefaultEventExecutor writer) {
        return new RosterService(Roster.empty(1), store, new ForwardingTableHolder(ForwardingTable.EMPTY), 1, writer);
    }
}
