package org.wgrelay.server.control;

import java.util.List;
import org.wgrelay.control.verb.VerbRegistry;

/** Binds every verb this relay serves into a registry. */
public final class RelayVerbs {
    private RelayVerbs() {}

    public static VerbRegistry registry(ControlContext ctx) {
        VerbRegistry registry = new VerbRegistry();
        for (RelayVerb verb : List.of(
                new PeerAddVerb(ctx), new PeerUpdateVerb(ctx), new PeerPubkeyVerb(ctx), new PeerNicVerb(ctx),
                new PeerRemoveVerb(ctx), new PeerListVerb(ctx), new LinkAddVerb(ctx), new LinkRemoveVerb(ctx),
                new LinkListVerb(ctx), new ShowVerb(ctx), new ShowConfigVerb(ctx), new ShowDropSourcesVerb(ctx),
                new BlocklistListVerb(ctx), new BlocklistAddVerb(ctx), new BlocklistRemoveVerb(ctx))) {
            registry.bind(verb.spec(), verb);
        }
        return registry;
    }
}
