package org.wgrelay.server.control;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbRegistry;
import org.wgrelay.control.verb.VerbSpec;

/**
 * Every verb this relay serves, in the order {@code help} and the ctl client list them. Each
 * verb's spec (name, role, help text, arguments) is a constant of the class that runs it;
 * this list only pairs the two.
 */
public final class RelayVerbs {
    private record Verb(VerbSpec spec, Function<ControlContext, VerbHandler> handler) {}

    private static final List<Verb> VERBS = List.of(
            new Verb(PeerAddVerb.SPEC, PeerAddVerb::new),
            new Verb(PeerUpdateVerb.SPEC, PeerUpdateVerb::new),
            new Verb(PeerPubkeyVerb.SPEC, PeerPubkeyVerb::new),
            new Verb(PeerNicVerb.SPEC, PeerNicVerb::new),
            new Verb(PeerRemoveVerb.SPEC, PeerRemoveVerb::new),
            new Verb(PeerListVerb.SPEC, PeerListVerb::new),
            new Verb(LinkAddVerb.SPEC, LinkAddVerb::new),
            new Verb(LinkRemoveVerb.SPEC, LinkRemoveVerb::new),
            new Verb(LinkListVerb.SPEC, LinkListVerb::new),
            new Verb(ShowVerb.SPEC, ShowVerb::new),
            new Verb(ShowConfigVerb.SPEC, ShowConfigVerb::new),
            new Verb(ShowDropSourcesVerb.SPEC, ShowDropSourcesVerb::new),
            new Verb(BlocklistListVerb.SPEC, BlocklistListVerb::new),
            new Verb(BlocklistAddVerb.SPEC, BlocklistAddVerb::new),
            new Verb(BlocklistRemoveVerb.SPEC, BlocklistRemoveVerb::new),
            new Verb(RelayListVerb.SPEC, RelayListVerb::new));

    private RelayVerbs() {}

    /** Every verb a client may send: the channel's own ({@code help}, {@code subscribe}) and the relay's. */
    public static List<VerbSpec> catalogue() {
        List<VerbSpec> all = new ArrayList<>(List.of(BuiltinVerbs.HELP, BuiltinVerbs.SUBSCRIBE));
        for (Verb v : VERBS) {
            all.add(v.spec());
        }
        return List.copyOf(all);
    }

    /** A registry with every relay verb bound to its handler over {@code ctx}. */
    public static VerbRegistry registry(ControlContext ctx) {
        VerbRegistry registry = new VerbRegistry();
        for (Verb v : VERBS) {
            registry.bind(v.spec(), v.handler().apply(ctx));
        }
        return registry;
    }
}
