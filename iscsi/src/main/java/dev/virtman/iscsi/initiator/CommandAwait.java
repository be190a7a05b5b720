package dev.virtman.iscsi.initiator;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A caller waiting for its own command ({@link IscsiSession#await}). A platform thread reads the
 * answer from the socket itself while the connection's reader stands aside ({@link ReceiveTurn}):
 * one wake-up per command instead of a hand-off from the reader. A virtual thread only waits, so
 * it never pins a carrier on a blocking socket read. The wait is bounded by the worst case the
 * session guarantees: every reissue's command timeout plus its recovery timeout.
 */
final class CommandAwait {
    /** How often a platform thread checks whether it may read its answer itself. */
    private static final long RECEIVE_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private CommandAwait() {
    }

    static int await(final ResponseRouter router, final InitiatorOptions options,
                     final CompletableFuture<Integer> future) throws IOException {
        Duration bound = options.commandTimeout().plus(options.recoveryTimeout())
                .multipliedBy(options.maxReissues() + 2L);
        long deadline = System.nanoTime() + bound.toNanos();
        boolean platform = !Thread.currentThread().isVirtual();
        if (platform) {
            router.platformWaiting(1);
        }
        try {
            while (!future.isDone()) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                // Read the answer on this thread if the reader stands aside (ReceiveTurn); else
                // make sure the reader reads, and look again now and then (the reader may have
                // stood aside just as this command went out).
                if (platform && router.receiveUntilDone(future)) {
                    continue;
                }
                router.readerResumes();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException();
                }
                try {
                    future.get(Math.min(left, platform ? RECEIVE_RETRY_NANOS : left), TimeUnit.NANOSECONDS);
                } catch (TimeoutException stillWaiting) {
                    // loop: deadline, interrupt and the reader's turn again
                }
            }
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IscsiException("command failed", cause);
        } catch (TimeoutException e) {
            throw new IscsiException("command did not complete within " + bound.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for an iSCSI command");
        } finally {
            if (platform) {
                router.platformWaiting(-1);
            }
        }
    }
}
