package dev.virtman.iscsi.target;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.ExecutorService;

/** What every connection of one server shares ({@code advertisedPortal} may be null). */
record TargetContext(
        InetSocketAddress boundPortal,
        InetSocketAddress advertisedPortal,
        TargetCatalog targets,
        TargetTuning tuning,
        InFlightBudget budget,
        DataInBufferPool dataInBuffers,
        TargetMetrics metrics,
        SessionRegistry sessions,
        ExecutorService workers,
        SecureRandom random,
        TargetPause pause,
        ConnectionRefusals refusals) {
}
