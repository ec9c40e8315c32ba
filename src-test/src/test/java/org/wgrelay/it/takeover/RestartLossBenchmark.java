package org.wgrelay.it.takeover;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;

/**
 * docs/benchmarks.md, "Datagrams lost per restart": the same 20 kpps sequenced load through a warm
 * relay while it is replaced once by a plain restart (SIGTERM, then a new start) and once by a
 * takeover; prints the datagrams each lost. A measurement, not a CI test: run with
 * {@code -Dwgrelay.bench.restart=true}.
 */
@EnabledIfSystemProperty(named = "wgrelay.bench.restart", matches = "true")
class RestartLossBenchmark {

    @Test
    void datagramsLostByAPlainRestartAndByATakeover() throws Exception {
        try (LoadRig rig = LoadRig.create()) {
            RelayProcess relay = rig.startRelay();
            rig.warmUp(relay);

            LoadRig.Load plain = rig.startLoad();
            awaitTwoSecondsOfLoad(rig, relay);
            long t0 = System.nanoTime();
            assertEquals(0, relay.stop(), "SIGTERM exits 0");
            relay = rig.startRelay();
            double gapMs = (System.nanoTime() - t0) / 1e6;
            awaitTwoSecondsOfLoad(rig, relay);
            plain.stop();
            LoadRig.Result p = LoadRig.result(plain);
            report("plain restart", p, gapMs);

            rig.warmUp(relay);
            LoadRig.Load takeover = rig.startLoad();
            awaitTwoSecondsOfLoad(rig, relay);
            t0 = System.nanoTime();
            relay = rig.takeOver(relay);
            double tookMs = (System.nanoTime() - t0) / 1e6;
            awaitTwoSecondsOfLoad(rig, relay);
            takeover.stop();
            LoadRig.Result t = LoadRig.result(takeover);
            report("takeover", t, tookMs);
            System.out.println("restart-loss udp: " + rig.lastLine(takeover));
        }
    }

    /** Waits until {@code relay} itself forwarded another two seconds of the load. */
    private static void awaitTwoSecondsOfLoad(LoadRig rig, RelayProcess relay) throws IOException {
        RelayControl control = RelayControl.of(relay, rig.ns);
        long from = control.show().get("fwd_packets");
        control.awaitShow(Duration.ofSeconds(60), "2 s of load", c -> c.get("fwd_packets") - from >= 2L * LoadRig.RATE);
    }

    private static void report(String mode, LoadRig.Result r, double ms) {
        System.out.printf(
                "restart-loss mode=%s sent=%d lost=%d duplicated=%d lost_ms_at_%dpps=%.0f replace_ms=%.0f%n",
                mode.replace(' ', '-'),
                r.sent(),
                r.lost(),
                r.duplicated(),
                LoadRig.RATE,
                r.lost() * 1000.0 / LoadRig.RATE,
                ms);
    }
}
