package dev.virtman.iscsi.initiator;

import java.util.List;

/**
 * One target a SendTargets discovery reported (RFC 7143 §12.3, Appendix C).
 *
 * @param name      the TargetName
 * @param addresses its TargetAddress values, {@code host:port,portal-group-tag}; empty means
 *                  "the address this discovery session used"
 */
public record DiscoveredTarget(String name, List<String> addresses) {

    public DiscoveredTarget {
        addresses = List.copyOf(addresses);
    }
}
