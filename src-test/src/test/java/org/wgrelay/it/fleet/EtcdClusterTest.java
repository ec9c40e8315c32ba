package org.wgrelay.it.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.Topology;

/**
 * The {@link EtcdCluster} rig itself, before any relay uses it: three real etcd members answer
 * reads and writes, survive the loss of one (a quorum of two still commits), take the killed
 * member back with everything it missed, and leave no process, namespace or data behind.
 */
class EtcdClusterTest {

    private static final List<String> LOOPBACK = List.of("127.0.0.1", "127.0.0.2", "127.0.0.3");

    @Test
    void threeMembersKeepCommittingWithOneKilledAndTheRestartedOneCatchesUp() {
        Prerequisites.check().root().namespaces().tools("ip", "etcd", "etcdctl").enforce();
        Topology topology = Topology.create();
        Path dataDir;
        try {
            Netns ns = topology.namespace("etcd");
            EtcdCluster cluster = topology.adopt(EtcdCluster.start(ns, LOOPBACK));
            dataDir = cluster.members().get(0).dataDir().getParent();
            assertTrue(Files.isDirectory(dataDir), "data directory " + dataDir);

            cluster.etcdctlOk("put", "/wgr-test/a", "1");
            for (int i = 0; i < 3; i++) {
                assertEquals(
                        "1",
                        cluster.etcdctlAt(i, "get", "/wgr-test/a", "--print-value-only")
                                .stdout()
                                .strip(),
                        "member " + i + " reads what member 0..2 committed");
            }

            cluster.kill(0);
            assertFalse(cluster.isAlive(0), "member m1 killed");
            assertFalse(cluster.etcdctlAt(0, "get", "/wgr-test/a").succeeded(), "the killed member answers nothing");
            // A write needs a quorum: two of three members still make one.
            cluster.etcdctlOk("put", "/wgr-test/b", "2");
            assertEquals(Map.of("/wgr-test/a", "1", "/wgr-test/b", "2"), cluster.getPrefix("/wgr-test/"));
            cluster.awaitHealthy(Duration.ofSeconds(10), 1, 2);

            cluster.restart(0);
            // A serializable read is served from m1's own copy: it has the write it missed.
            assertEquals(
                    "2",
                    cluster.etcdctlAt(0, "get", "/wgr-test/b", "--print-value-only", "--consistency=s")
                            .stdout()
                            .strip(),
                    "the restarted member caught up; " + cluster.output());
            cluster.awaitHealthy(Duration.ofSeconds(10));
        } finally {
            topology.close();
        }
        topology.assertNothingLeft();
        assertFalse(Files.exists(dataDir), "data directory deleted at close: " + dataDir);
    }
}
