package dev.virtman.manager;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Flat combining for operations that each need the manager's lock and a commit: a caller queues
 * its operation, and one caller at a time takes the lock and applies everything queued by then as
 * one group ({@code applyGroup}, lock held), which completes each operation's result. The other
 * callers only wait for their results, without passing through the lock. A combiner re-checks the
 * queue after letting go of the lock, so nothing queued while it was applying is left behind.
 *
 * <p>Why: {@code n} callers that each take a contended monitor in turn pay {@code n} lock
 * hand-offs (each a thread wake-up, seconds in total on a loaded machine) and {@code n} commits;
 * grouped they pay a few. {@link Heartbeats} does the same for joins.
 *
 * @param <T> one queued operation; its result is {@link Pending#result}
 */
final class GroupCombiner<T extends GroupCombiner.Pending<?>> {

    /** A queued operation and its result, completed by whoever applied its group. */
    abstract static class Pending<R> {
        final CompletableFuture<R> result = new CompletableFuture<>();
    }

    private final Object lock;
    private final Consumer<List<T>> applyGroup;
    private final ConcurrentLinkedQueue<T> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean combining = new AtomicBoolean();

    /**
     * @param applyGroup applies a group under {@code lock} and completes every member's result;
     *                   a member it leaves incomplete is failed with what it threw, or an error
     */
    GroupCombiner(final Object lock, final Consumer<List<T>> applyGroup) {
        this.lock = lock;
        this.applyGroup = applyGroup;
    }

    /** Queues {@code op}, helps apply the queue, and returns {@code op}'s result (or throws its failure). */
    <R> R submit(final T op) {
        queue.add(op);
        if (Thread.holdsLock(lock)) {
            drain(); // a caller holding the lock must not wait for another combiner
        }
        while (!queue.isEmpty() && combining.compareAndSet(false, true)) {
            try {
                synchronized (lock) {
                    drain();
                }
            } finally {
                combining.set(false);
            }
        }
        try {
            @SuppressWarnings("unchecked")
            R r = (R) op.result.join();
            return r;
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Applies what is queued, if anything, for a holder of the lock that is not this combiner's
     * (another combiner's group): its waiting callers then need not win the lock themselves.
     * Lock held.
     */
    void drainQueued() {
        if (!queue.isEmpty()) {
            drain();
        }
    }

    /** Applies everything queued as one group. Lock held. */
    private void drain() {
        List<T> group = new ArrayList<>();
        for (T op = queue.poll(); op != null; op = queue.poll()) {
            group.add(op);
        }
        if (group.isEmpty()) {
            return;
        }
        RuntimeException failure = null;
        try {
            applyGroup.accept(group);
        } catch (RuntimeException e) {
            failure = e;
        }
        for (T op : group) {
            if (!op.result.isDone()) {
                op.result.completeExceptionally(failure != null ? failure
                        : new IllegalStateException("operation left unanswered by its group"));
            }
        }
    }
}
