package dev.virtman.manager.api;

/**
 * {@code POST /v1/volumes}: a copy-on-write volume over an image.
 *
 * @param id        optional volume id (Cinder passes its volume's UUID, which makes a retried create
 *                  safe); generated when absent
 * @param name      optional display name
 * @param image     image id or name; absent for a blank volume (zeros until written; needs a size)
 * @param host      optional host to place the volume on now; otherwise the first connection places it
 * @param sizeBytes volume size, at least the image's size; 0 means the image's size
 */
public record CreateVolumeRequest(String id, String name, String image, String host, long sizeBytes) { }
