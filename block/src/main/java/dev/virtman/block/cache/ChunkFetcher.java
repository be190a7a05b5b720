package dev.virtman.block.cache;

import dev.virtman.block.manifest.ChunkManifest;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The verification stage: turns parents' raw bytes into chunks that match the manifest.
 *
 * <p>Stores nothing. It asks the fail-over stage ({@link ParentFailover}: which parent, when to
 * hedge, when to give up) for a byte range and passes it the acceptance check, the chunk's SHA-256
 * from the manifest, so an answer that fails verification never wins a race: the stage records the
 * mismatch against that parent and goes on waiting for, or asking, the others. Data that fails
 * verification is dropped here, so it never reaches a cache file or a VM.
 *
 * <p><b>Runs.</b> {@link #fetchRun} reads consecutive chunks with one upstream READ (one round
 * trip instead of one per chunk, which is what bounds a cold boot on a low-latency link), accepted
 * only if every chunk in it verifies, with one round of fail-over and hedging. A run no parent
 * delivered intact is fetched chunk by chunk through {@link #fetch}, with the full retry budget; so
 * a run is never worse than chunk-by-chunk, only faster when it works.
 */
public final class ChunkFetcher implements VerifiedChunkSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkFetcher.class);

    private final ChunkManifest manifest;
    private final ParentSet parents;
    private final FetchPolicy policy;
    private final ParentFailover failover;

    /** A fetcher with its own hedge budget and metrics nobody reads (tests, benchmarks). */
    public ChunkFetcher(final ChunkManifest manifest, final ParentSet parents, final FetchPolicy policy) {
        this(manifest, parents, policy, new HedgeBudget(policy.hedging(), new SimpleMeterRegistry()),
                SilenceListener.NONE);
    }

    /**
     * @param budget  the export's hedge budget (kept across parent changes); its policy says how to hedge
     * @param silence told when a parent has answered nothing for its silence threshold
     */
    public ChunkFetcher(final ChunkManifest manifest, final ParentSet parents, final FetchPolicy policy,
                        final HedgeBudget budget, final SilenceListener silence) {
        this.manifest = manifest;
        this.parents = parents;
        this.policy = policy;
        this.failover = new ParentFailover(parents, policy, budget, silence);
    }

    /** Told (on a fetching thread: must not block) that a parent has gone silent. */
    @FunctionalInterface
    public interface SilenceListener {
        SilenceListener NONE = (parent, nanos) -> { };

        void silent(ParentSet.Parent parent, long silentForNanos);
    }

    /** Builds the hedge budget of one image export from the policy, with meters in {@code registry}. */
    public static HedgeBudget budget(final FetchPolicy policy, final MeterRegistry registry) {
        return new HedgeBudget(policy.hedging(), registry);
    }

    public ChunkManifest manifest() {
        return manifest;
    }

    public ParentSet parents() {
        return parents;
    }

    /** The hedge deadline {@code parent} has now (learned from its recent answers), in nanoseconds. */
    public long hedgeDeadlineNanos(final ParentSet.Parent parent) {
        return failover.deadlineNanos(parent);
    }

    @Override
    public ByteBuffer fetch(final int index) throws IOException {
        StringBuilder failures = new StringBuilder();
        ByteBuffer data = failover.read("chunk " + index, manifest.chunkOffset(index), manifest.chunkLength(index),
                raw -> manifest.matches(index, raw), policy.rounds(), failures);
        if (data == null) {
            throw new ChunkFetchException(index, "no parent delivered a verified copy after "
                    + policy.rounds() + " rounds:" + failures);
        }
        return data;
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
        StringBuilder failures = new StringBuilder();
        ByteBuffer run = failover.read("run " + first + "+" + count, offset, (int) (end - offset),
                raw -> allMatch(raw, first, count, offset), 1, failures);
        List<ByteBuffer> out = new ArrayList<>(count);
        if (run == null) {
            LOG.debug("run of {} chunks at {} failed ({}); fetching them one by one", count, first, failures);
            for (int i = 0; i < count; i++) {
                out.add(fetch(first + i));
            }
            return out;
        }
        for (int i = 0; i < count; i++) {
            int index = first + i;
            out.add(run.slice((int) (manifest.chunkOffset(index) - offset), manifest.chunkLength(index)));
        }
        return out;
    }

    private boolean allMatch(final ByteBuffer raw, final int first, final int count, final long offset) {
        for (int i = 0; i < count; i++) {
            int index = first + i;
            ByteBuffer chunk = raw.slice((int) (manifest.chunkOffset(index) - offset), manifest.chunkLength(index));
            if (!manifest.matches(index, chunk)) {
                LOG.warn("chunk {} of a run: SHA-256 mismatch", index);
                return false;
            }
        }
        return true;
    }

    /** Stops accepting attempts; reads already abandoned to stalled parents are left to finish. */
    @Override
    public void close() {
        failover.close();
    }
}
