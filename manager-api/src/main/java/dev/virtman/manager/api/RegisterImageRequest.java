package dev.virtman.manager.api;

/**
 * {@code POST /v1/images}, in one of three forms:
 * <ul>
 *   <li>{@code {name, path}}: a raw image file readable by the manager;</li>
 *   <li>{@code {name, path, glance}}: the same, for a file {@code virtman image import} downloaded
 *       and verified from Glance; registering the same Glance image and data again is a no-op, a
 *       new Glance image in the same series becomes its next version;</li>
 *   <li>{@code {glanceImageId[, name]}}: the manager imports the image from its own Glance
 *       ({@code virtman manager --glance-url}) and registers it; a no-op if already imported.</li>
 * </ul>
 */
public record RegisterImageRequest(String name, String path, GlanceOrigin glance, String glanceImageId) {

    public RegisterImageRequest(final String name, final String path) {
        this(name, path, null, null);
    }
}
