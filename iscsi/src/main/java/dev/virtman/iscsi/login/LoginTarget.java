package dev.virtman.iscsi.login;

import java.util.Set;

/**
 * What login needs to know about one target: its name, how initiators authenticate to it, and
 * which initiators may log in.
 *
 * @param iqn               the iSCSI target name
 * @param chap              CHAP credentials, or {@code null} for no authentication
 * @param allowedInitiators initiator names allowed to log in; empty means any
 */
public record LoginTarget(String iqn, ChapConfig chap, Set<String> allowedInitiators) {

    public LoginTarget {
        allowedInitiators = allowedInitiators == null ? Set.of() : Set.copyOf(allowedInitiators);
    }

    public boolean admits(final String initiatorName) {
        return allowedInitiators.isEmpty() || allowedInitiators.contains(initiatorName);
    }
}
