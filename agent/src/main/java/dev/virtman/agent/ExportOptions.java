package dev.virtman.agent;

import dev.virtman.block.TokenBucket;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.FetchPolicy;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How {@link ImageExport#open} builds an image's stack, besides the image, its manifest and its
 * cache root: how parents are reached and fetched from, the host's link caps, the cache's
 * options, and whether initiators' reads are traced.
 *
 * @param connector     opens the iSCSI sessions to parents
 * @param policy        attempt timeouts, rounds, hedging and cool-down of fetches
 * @param cacheOptions  the chunk cache's options (its meter registry is the export's)
 * @param upstreamCap   shared bucket of all fetches, or null
 * @param downstreamCap shared bucket of all exports, or null
 * @param readTrace     file to record initiators' reads in (boot-trace CSV), or null
 */
public record ExportOptions(ParentConnector connector, FetchPolicy policy, ChunkCache.Options cacheOptions,
                            TokenBucket upstreamCap, TokenBucket downstreamCap, Path readTrace) {

    public ExportOptions {
        Objects.requireNonNull(connector, "connector");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(cacheOptions, "cacheOptions");
    }

    /** No caps, no read trace. */
    public static ExportOptions of(final ParentConnector connector, final FetchPolicy policy,
                                   final ChunkCache.Options cacheOptions) {
        return new ExportOptions(connector, policy, cacheOptions, null, null, null);
    }

    /** The host's link caps (either may be null: uncapped). */
    public ExportOptions withCaps(final TokenBucket upstream, final TokenBucket downstream) {
        return new ExportOptions(connector, policy, cacheOptions, upstream, downstream, readTrace);
    }

    /** Records initiators' reads in {@code file} (null: none). */
    public ExportOptions withReadTrace(final Path file) {
        return new ExportOptions(connector, policy, cacheOptions, upstreamCap, downstreamCap, file);
    }
}
