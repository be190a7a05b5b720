package dev.virtman.manager.api;

/**
 * A volume as the API shows it (never its CHAP secret: that is only in a connection reply).
 *
 * @param id        volume id (IQN-safe: lower-case letters, digits, '-', '.'); Cinder passes its own
 * @param imageId   the image the volume was made from (its base, never written); null for a blank volume
 * @param hostId    the host whose agent exports the volume, or null until a connection places it
 * @param status    {@code pending} (no host yet), {@code creating} (host chosen, its agent has not
 *                  exported it yet), {@code available} (exported) or {@code deleting} (the agent
 *                  has not removed it yet)
 * @param iqn       the volume's target name
 */
public record VolumeView(String id, String name, String imageId, String hostId, long sizeBytes, String status,
                         String iqn, String createdAt) { }
