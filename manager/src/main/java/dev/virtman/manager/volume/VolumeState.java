package dev.virtman.manager.volume;

import java.util.Locale;

/** Where a volume is in its life; the API shows the lower-case name. */
public enum VolumeState {
    /** Recorded, no host yet: the first connection places it on the connector's host. */
    PENDING,
    /** Placed on a host; its agent has not reported the export yet. */
    CREATING,
    /** Its agent exports it. */
    AVAILABLE,
    /** Deleted through the API; kept until its agent no longer reports it, so the files go too. */
    DELETING;

    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
