package dev.virtman.manager.api;

/**
 * A volume an agent must export, as the heartbeat reply hands it over.
 *
 * @param imageId    the base image (the agent joins its tree to read it); null for a blank volume
 * @param sizeBytes  volume size
 * @param iqn        target name to export it under
 * @param chapUser   CHAP name initiators must log in with
 * @param chapSecret CHAP secret
 */
public record VolumeAssignment(String id, String imageId, long sizeBytes, String iqn, String chapUser,
                               String chapSecret) {
    @Override
    public String toString() {
        return "VolumeAssignment[" + id + " over " + imageId + ", " + sizeBytes + " bytes]"; // never print secrets
    }
}
