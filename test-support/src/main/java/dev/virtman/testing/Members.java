package dev.virtman.testing;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The members of a replicated service (the managers of one cluster) seen from a test that does
 * not know which of them leads right now.
 */
public final class Members {
    private Members() {
    }

    /**
     * Offers {@code write} to each member in turn, again and again, until one takes it (does not
     * throw), and returns that member. Whoever leads takes a write and the others refuse it; each
     * member is asked rather than one member's view of the leader, which may lag a re-election.
     *
     * @throws AssertionError after {@code limit}, naming {@code what} and the last refusal
     */
    public static <M> M firstToTake(final String what, final Duration limit, final List<M> members,
                                    final Consumer<? super M> write) {
        return Await.until(what, limit, () -> {
            RuntimeException refused = new IllegalStateException("no member to offer the write to");
            for (M m : members) {
                try {
                    write.accept(m);
                    return m;
                } catch (RuntimeException e) {
                    refused = e;
                }
            }
            throw refused;
        }, m -> true);
    }
}
