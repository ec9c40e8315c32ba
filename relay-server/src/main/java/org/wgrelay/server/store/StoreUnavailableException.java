package org.wgrelay.server.store;

/**
 * SPEC C: a change could not be made because the store cannot be reached (or the relay's
 * writer could not take it). Nothing changed; control verbs answer {@code store_unavailable}.
 */
public final class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message) {
        super(message, null, false, false);
    }
}
