package dev.virtman.agent;

import java.util.List;

/**
 * The JSON document of {@code GET /status}: what the agent exports and how each cache is doing.
 *
 * @param portal   the iSCSI portal (host:port) the exports listen on
 * @param sessions iSCSI sessions logged in right now (VMs and child agents)
 * @param images   one entry per exported image
 */
public record AgentStatus(String portal, int sessions, List<Image> images) {

    /**
     * @param name          image name
     * @param iqn           target name of the export
     * @param imageId       SHA-256 image id of the manifest (hex)
     * @param imageBytes    image size
     * @param chunkSize     manifest chunk size
     * @param chunks        chunks in the image
     * @param chunksPresent chunks in the cache
     * @param hits          chunk reads served from the cache
     * @param misses        chunk reads that waited for a load
     * @param fetches       chunks fetched from parents
     * @param repairs       cached chunks that failed verification and were fetched again
     * @param presentAtOpen chunks the cache held when this process opened it (survivors of a restart)
     * @param bytesServed   bytes read by initiators
     * @param parents       upstreams in preference order with bytes fetched from each
     */
    public record Image(String name, String iqn, String imageId, long imageBytes, int chunkSize, int chunks,
                        int chunksPresent, long hits, long misses, long fetches, long repairs, int presentAtOpen, long bytesServed,
                        List<Parent> parents) { }

    /** An upstream and the verified bytes fetched from it by this process. */
    public record Parent(String url, long bytesFetched) { }
}
