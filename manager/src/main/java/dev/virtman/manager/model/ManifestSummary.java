package dev.virtman.manager.model;


/**
 * What the manager keeps about an image's chunk manifest. The manifest itself stays where the
 * {@code ManifestProvider} stored it; the manager only holds the reference.
 *
 * @param digest      hex SHA-256 of the manifest encoding: the image id (block layer's {@code imageIdHex})
 * @param sizeBytes   image size
 * @param chunkSize   bytes per chunk
 * @param chunkCount  number of chunks (the last may be short)
 * @param manifestRef opaque reference (a file path) agents and the source target resolve
 */
public record ManifestSummary(String digest, long sizeBytes, int chunkSize, long chunkCount, String manifestRef) { }
