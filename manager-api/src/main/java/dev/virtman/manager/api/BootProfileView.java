package dev.virtman.manager.api;

import java.util.List;

/**
 * {@code PUT/GET /v1/images/{id}/profile}: the order in which the first booting host read chunks.
 * Later agents prefetch in this order at low priority.
 *
 * @param recordedBy host that recorded it (optional on PUT)
 * @param recordedAt set by the manager
 */
public record BootProfileView(String imageId, List<Integer> chunks, String recordedBy, String recordedAt) { }
