package dev.virtman.iscsi.target;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * What an {@link IscsiTargetServer} serves and where.
 *
 * @param portal  address to listen on; port 0 picks a free port (see {@link IscsiTargetServer#localAddress()})
 * @param targets the exported targets (distinct names)
 * @param tuning  limits and timeouts
 */
public record TargetServerConfig(InetSocketAddress portal, List<ExportedTarget> targets, TargetTuning tuning) {

    /** Default iSCSI port (RFC 7143 §13.x: well-known port 3260). */
    public static final int DEFAULT_PORT = 3260;

    public TargetServerConfig {
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
