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
 * @param advertisedPortal the address SendTargets names ({@code TargetAddress}), or {@code null} for
 *                the address initiators connected to. Needed behind NAT or a port forward (a QEMU
 *                guest reaching a target on the host's loopback as 10.0.2.2): open-iscsi logs in
 *                to the address discovery returns, and the bound one is unreachable from there
 */
public record TargetServerConfig(InetSocketAddress portal, List<ExportedTarget> targets, TargetTuning tuning,
                                 InetSocketAddress advertisedPortal) {

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
        if (advertisedPortal != null && (advertisedPortal.isUnresolved() || advertisedPortal.getPort() == 0
                || advertisedPortal.getAddress().isAnyLocalAddress())) {
            throw new IllegalArgumentException("advertised portal must be a concrete address and port: "
                    + advertisedPortal);
        }
    }

    public TargetServerConfig(final InetSocketAddress portal, final List<ExportedTarget> targets,
                              final TargetTuning tuning) {
        this(portal, targets, tuning, null);
    }

    public TargetServerConfig(final InetSocketAddress portal, final List<ExportedTarget> targets) {
        this(portal, targets, TargetTuning.DEFAULTS);
    }

    /** The same configuration with SendTargets naming {@code address} instead of the bound one. */
    public TargetServerConfig withAdvertisedPortal(final InetSocketAddress address) {
        return new TargetServerConfig(portal, targets, tuning, address);
    }
}
