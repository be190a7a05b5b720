package dev.virtman.manager.api;

import java.util.regex.Pattern;

/**
 * iSCSI names of the targets in a distribution tree, so the manager, agents and the source agree
 * without a lookup. iSCSI qualified names allow only lower-case letters, digits, '-', '.' and
 * ':' (RFC 3720 section 3.2.6.3.1, referenced by RFC 7143 section 4.2.7.2), which is why host
 * ids are restricted to {@link #HOST_ID}.
 */
public final class TargetNames {

    /** Naming authority: our reversed domain with the date it was claimed. */
    public static final String PREFIX = "iqn.2026-01.dev.virtman";
    /** Host ids are embedded in IQNs; 64 characters keeps a full IQN far below 223 bytes. */
    public static final Pattern HOST_ID = Pattern.compile("[a-z0-9][a-z0-9.-]{0,63}");

    private TargetNames() {
    }

    /** The source target exporting an image. */
    public static String sourceIqn(final String imageId) {
        return PREFIX + ":source." + imageId;
    }

    /** An agent's re-export of an image to its children. */
    public static String agentIqn(final String hostId, final String imageId) {
        return PREFIX + ":agent." + hostId + "." + imageId;
    }

    /**
     * The initiator name the agent of {@code hostId} logs in to its parents with (the agent's
     * {@code ParentConnector} names managed agents this way; the source target admits these).
     */
    public static String hostInitiator(final String hostId) {
        return "iqn.2026-11.dev.virtman:agent." + hostId;
    }

    /** A writable copy-on-write volume, exported by the agent of the host it lives on. */
    public static String volumeIqn(final String volumeId) {
        return PREFIX + ":volume." + volumeId;
    }
}
