package dev.virtman.iscsi.target;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * What an {@link IscsiTargetServer} serves and where.
 *
 * @param portal  address to listen on (an unresolved one is resolved here); port 0 picks a free
 *                port (see {@link IscsiTargetServer#localAddress()})
 * @param targets the exported targets (distinct names)
 * @param tuning  limits and timeouts
 */
public record TargetServerConfig(InetSocketAddress portal, List<ExportedTarget> targets, TargetTuning tuning) {

    /** Default iSCSI port (RFC 7143 §13.x: well-known port 3260). */
    public static final int DEFAULT_PORT = 3260;

    public TargetServerConfig {
        Objects.requireNonNull(portal, "portal");
        if (portal.isUnresolved()) {
            // bind() would fail with a message-less UnresolvedAddressException ("null" in a log).
            InetSocketAddress resolved = new InetSocketAddress(portal.getHostString(), portal.getPort());
            if (resolved.isUnresolved()) {
                throw new IllegalArgumentException("portal host '" + portal.getHostString() + "' does not resolve");
            }
            portal = resolved;
        }
        targets = List.copyOf(targets);
        if (targets.stream().map(ExportedTarget::iqn).distinct().count() != targets.size()) {
            throw new IllegalArgumentException("target names must be distinct");
        }
        tuning = tuning == null ? TargetTuning.DEFAULTS : tuning;
    }

    public TargetServerConfig(final InetSocketAddress portal, final List<ExportedTarget> targets) {
        this(portal, targets, TargetTuning.DEFAULTS);
    }
}
