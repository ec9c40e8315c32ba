package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.status.RelayStatus;

/** {@code wg show drop_sources}: the merged per-worker drop tables. */
final class ShowDropSourcesVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg show drop_sources",
            Role.READ,
            "Show the source IPs with the most recent drops (at most 256).",
            List.of());

    private final ControlContext ctx;

    ShowDropSourcesVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        try {
            return Map.of("sources", RelayStatus.dropSources(ctx.dropSources().call()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlException(ErrorCodes.INTERNAL, "interrupted while reading the workers' tables");
        } catch (Exception e) {
            throw new ControlException(ErrorCodes.INTERNAL, "could not read the workers' tables: " + e);
        }
    }
}
