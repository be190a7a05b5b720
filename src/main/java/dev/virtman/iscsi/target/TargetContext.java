package dev.virtman.iscsi.target;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/** What every connection of one server shares. */
record TargetContext(
        InetSocketAddress boundPortal,
        List<ExportedTarget> targets,
        Map<String, ExportedTarget> targetsByName,
        TargetTuning tuning,
        InFlightBudget budget,
        TargetMetrics metrics,
        SessionRegistry sessions,
        ExecutorService workers,
        SecureRandom random) {
}
