package dev.virtman.manager.volume;

import java.time.Instant;

/**
 * A volume as the manager stores it.
 *
 * @param hostId null while {@link VolumeState#PENDING}
 */
public record VolumeRecord(String id, String name, String imageId, String hostId, long sizeBytes, VolumeState state,
                           String chapUser, String chapSecret, Instant createdAt) {

    VolumeRecord withHost(final String host, final VolumeState next) {
        return new VolumeRecord(id, name, imageId, host, sizeBytes, next, chapUser, chapSecret, createdAt);
    }

    VolumeRecord withState(final VolumeState next) {
        return new VolumeRecord(id, name, imageId, hostId, sizeBytes, next, chapUser, chapSecret, createdAt);
    }

    @Override
    public String toString() {
        return "VolumeRecord[" + id + ", image " + imageId + ", host " + hostId + ", " + state + "]"; // no secret
    }
}
