package dev.virtman.block.cache;

import dev.virtman.block.manifest.ChunkManifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The verify filter: fetches one chunk from the first parent that delivers it intact.
 *
 * <p>Stores nothing. Each attempt reads into a fresh buffer on its own virtual thread and the
 * caller waits at most {@link FetchPolicy#attemptTimeout()}: a stalled parent is abandoned, not
 * interrupted (interrupting a thread in a {@code FileChannel} read closes the channel for every
 * other reader of that parent), and its late bytes land in a buffer nobody reads. An attempt
 * fails on an exception, a short read, a timeout or a SHA-256 mismatch with the manifest; the
 * next parent in {@link ParentSet#attemptOrder()} is then asked, and the whole list is retried
 * with back-off for {@link FetchPolicy#rounds()} rounds. Data that fails verification is dropped
 * here, so it never reaches a cache file or a VM.
 */
public final class ChunkFetcher implements VerifiedChunkSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkFetcher.class);
    private static final int RUNNING = 0;
    private static final int DONE = 1;
    private static final int ABANDONED = 2;

    private final ChunkManifest manifest;
    private final ParentSet parents;
    private final FetchPolicy policy;
    private final ExecutorService attempts = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("chunk-fetch-", 0).factory());

    public ChunkFetcher(final ChunkManifest manifest, final ParentSet parents, final FetchPolicy policy) {
        this.manifest = manifest;
        this.parents = parents;
        this.policy = policy;
    }

    public ChunkManifest manifest() {
        return manifest;
    }

    public ParentSet parents() {
        return parents;
    }

    @Override
    public ByteBuffer fetch(final int index) throws IOException {
        int length = manifest.chunkLength(index);
        long offset = manifest.chunkOffset(index);
        StringBuilder failures = new StringBuilder();
        for (int round = 0; round < policy.rounds(); round++) {
            if (round > 0) {
                sleep(policy.pauseBeforeRoundNanos(round));
            }
            for (ParentSet.Parent parent : parents.attemptOrder()) {
                ByteBuffer data = attempt(parent, index, offset, length, failures);
                if (data != null) {
                    return data;
                }
            }
        }
        throw new ChunkFetchException(index, "no parent delivered a verified copy after "
                + policy.rounds() + " rounds:" + failures);
    }

    /** One read from one parent; the verified chunk, or null after recording why not. */
    private ByteBuffer attempt(final ParentSet.Parent parent, final int index, final long offset, final int length,
                               final StringBuilder failures) throws InterruptedIOException {
        if (parent.abandoned.get() >= policy.maxOutstandingPerParent()) {
            return fail(parent, index, ParentSet.FailureReason.OVERLOADED, "too many stalled reads", failures);
        }
        ByteBuffer buf = ByteBuffer.allocate(length);
        long start = System.nanoTime();
        // RUNNING -> DONE when the read returns in time; RUNNING -> ABANDONED when the caller
        // gives up first, and then the read's eventual return releases its abandoned slot.
        AtomicInteger state = new AtomicInteger(RUNNING);
        Future<?> read;
        try {
            read = attempts.submit(() -> {
                try {
                    parent.device().read(offset, buf);
                } finally {
                    if (!state.compareAndSet(RUNNING, DONE)) {
                        parent.abandoned.decrementAndGet();
                    }
                }
                return null;
            });
        } catch (RuntimeException e) {
            return fail(parent, index, ParentSet.FailureReason.ERROR, e.toString(), failures);
        }
        try {
            try {
                read.get(policy.attemptTimeout().toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                if (state.compareAndSet(RUNNING, ABANDONED)) {
                    parent.abandoned.incrementAndGet();
                    return fail(parent, index, ParentSet.FailureReason.TIMEOUT,
                            "no answer in " + policy.attemptTimeout().toMillis() + " ms", failures);
                }
                read.get(); // finished just as the deadline passed: already done, does not block
            }
        } catch (ExecutionException e) {
            return fail(parent, index, ParentSet.FailureReason.ERROR, String.valueOf(e.getCause()), failures);
        } catch (InterruptedException e) {
            if (state.compareAndSet(RUNNING, ABANDONED)) {
                parent.abandoned.incrementAndGet();
            }
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while fetching chunk " + index);
        }
        if (buf.hasRemaining()) {
            return fail(parent, index, ParentSet.FailureReason.SHORT_READ,
                    "returned " + buf.position() + " of " + length + " bytes", failures);
        }
        buf.flip();
        if (!manifest.matches(index, buf)) {
            return fail(parent, index, ParentSet.FailureReason.MISMATCH, "SHA-256 mismatch", failures);
        }
        parents.recordSuccess(parent, length, System.nanoTime() - start);
        return buf;
    }

    private ByteBuffer fail(final ParentSet.Parent parent, final int index, final ParentSet.FailureReason reason,
                            final String detail, final StringBuilder failures) {
        parents.recordFailure(parent, reason);
        LOG.warn("chunk {} from parent {}: {} ({})", index, parent.name(), reason, detail);
        failures.append(' ').append(parent.name()).append('=').append(reason);
        return null;
    }

    private static void sleep(final long nanos) throws InterruptedIOException {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted during fetch back-off");
        }
    }

    /** Stops accepting attempts; reads already abandoned to stalled parents are left to finish. */
    @Override
    public void close() {
        attempts.shutdown();
    }
}
