package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.status.RelayStatus;

/** {@code wg show drop_sources}: the merged per-worker drop tables. */
final class ShowDropSourcesVerb implements RelayVerb {
    private final ControlContext ctx;

    ShowDropSourcesVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.SHOW_DROP_SOURCES;
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
