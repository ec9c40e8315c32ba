package org.wgrelay.server.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.xdp.XdpMode;

class ServeConfigTest {
    @Test
    void withWorkersChangesTheWorkersAndKeepsEveryOtherOption() throws Exception {
        ServeConfig config = new ServeConfig(
                InetAddress.getByName("127.0.0.1"),
                51820,
                2,
                Path.of("/tmp/wg-roster"),
                HostPort.parse("127.0.0.1:51821"),
                "token",
                HostPort.parse("127.0.0.1:9108"),
                List.of("eth0"),
                XdpMode.SKB,
                true,
                4,
                null,
                true,
                false);
        ServeConfig taken = config.withWorkers(5);
        assertEquals(5, taken.workers());
        // a takeover once lost --xdp-keep-on-exit here
        assertEquals(config, taken.withWorkers(2), "nothing but the workers differs");
    }
}
