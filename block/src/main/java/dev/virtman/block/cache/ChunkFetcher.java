package dev.virtman.block.cache;

import dev.virtman.block.manifest.ChunkManifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
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
 *
 * <p><b>Runs.</b> {@link #fetchRun} reads consecutive chunks with one upstream READ from the first
 * parent in order (one round trip instead of one per chunk, which is what bounds a cold boot on a
 * low-latency link), then verifies every chunk on its own. Any chunk the run did not deliver
 * intact (error, timeout, short read, mismatch) is fetched alone through {@link #fetch}, with the
 * usual failover; so a run is never worse than chunk-by-chunk, only faster when it works.
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

    @Override
    public List<ByteBuffer> fetchRun(final int first, final int count) throws IOException {
        if (count < 1 || first < 0 || first + count > manifest.chunkCount()) {
            throw new IndexOutOfBoundsException("run " + first + "+" + count + " outside [0, " + manifest.chunkCount() + ")");
        }
        if (count == 1) {
            return List.of(fetch(first));
        }
        long offset = manifest.chunkOffset(first);
        long end = manifest.chunkOffset(first + count - 1) + manifest.chunkLength(first + count - 1);
        List<ParentSet.Parent> order = parents.attemptOrder();
        ParentSet.Parent parent = order.isEmpty() ? null : order.get(0);
        long start = System.nanoTime();
        ByteBuffer run = parent == null ? null : attemptRun(parent, first, count, offset, (int) (end - offset));
        long nanos = System.nanoTime() - start;
        ByteBuffer[] verified = new ByteBuffer[count];
        int verifiedBytes = 0;
        boolean mismatch = false;
        for (int i = 0; run != null && i < count; i++) {
            int index = first + i;
            ByteBuffer chunk = run.slice((int) (manifest.chunkOffset(index) - offset), manifest.chunkLength(index));
            if (manifest.matches(index, chunk.duplicate())) {
                verified[i] = chunk;
                verifiedBytes += chunk.remaining();
            } else {
                mismatch = true;
                LOG.warn("chunk {} of a run from parent {}: SHA-256 mismatch", index, parent.name());
            }
        }
        if (verifiedBytes > 0) {
            parents.recordSuccess(parent, verifiedBytes, nanos);
        }
        if (mismatch) {
            parents.recordFailure(parent, ParentSet.FailureReason.MISMATCH);
        }
        List<ByteBuffer> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(verified[i] != null ? verified[i] : fetch(first + i));
        }
        return out;
    }

    /** One upstream read of a whole run from one parent; the raw bytes (not yet verified), or null. */
    private ByteBuffer attemptRun(final ParentSet.Parent parent, final int first, final int count, final long offset,
                                  final int length) throws InterruptedIOException {
        StringBuilder failures = new StringBuilder();
        ByteBuffer buf = read(parent, first, offset, length, failures);
        if (buf == null) {
            LOG.debug("run of {} chunks at {} from {} failed ({}); fetching them one by one", count, first,
                    parent.name(), failures);
            return null;
        }
        return buf;
    }

    /** One read from one parent; the verified chunk, or null after recording why not. */
    private ByteBuffer attempt(final ParentSet.Parent parent, final int index, final long offset, final int length,
                               final StringBuilder failures) throws InterruptedIOException {
        long start = System.nanoTime();
        ByteBuffer buf = read(parent, index, offset, length, failures);
        if (buf == null) {
            return null;
        }
        if (!manifest.matches(index, buf)) {
            return fail(parent, index, ParentSet.FailureReason.MISMATCH, "SHA-256 mismatch", failures);
        }
        parents.recordSuccess(parent, length, System.nanoTime() - start);
        return buf;
    }

    /**
     * Reads {@code length} bytes at {@code offset} from one parent within the attempt timeout:
     * the bytes (flipped, not yet verified: the caller records the success), or null after
     * recording why not.
     * {@code index} names the (first) chunk in logs.
     */
    private ByteBuffer read(final ParentSet.Parent parent, final int index, final long offset, final int length,
                            final StringBuilder failures) throws InterruptedIOException {
        if (parent.abandoned.get() >= policy.maxOutstandingPerParent()) {
            return fail(parent, index, ParentSet.FailureReason.OVERLOADED, "too many stalled reads", failures);
        }
        ByteBuffer buf = ByteBuffer.allocate(length);
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
