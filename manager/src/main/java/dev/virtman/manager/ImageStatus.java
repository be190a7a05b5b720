package dev.virtman.manager;

import dev.virtman.manager.model.ImageRecord;

/**
 * A registered image and what the control plane knows about it now; the HTTP layer turns it into
 * an {@code ImageView}.
 *
 * @param hosts      hosts in its distribution tree
 * @param hasProfile whether a boot profile is recorded
 */
public record ImageStatus(ImageRecord image, int hosts, boolean hasProfile) {

    public String id() {
        return image.id();
    }

    public String name() {
        return image.name();
    }

    public String path() {
        return image.path();
    }

    public long sizeBytes() {
        return image.manifest().sizeBytes();
    }
}
