package dev.virtman.iscsi.target;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/** The target server's counters, registered in a Micrometer {@link MeterRegistry}. */
final class TargetMetrics {

    final AtomicInteger openSessions = new AtomicInteger();
    final AtomicInteger openConnections = new AtomicInteger();
    final Counter commands;
    /** Reads answered on the connection's reader thread, without a worker (ScsiCommands.execute). */
    final Counter inlineCommands;
    final Counter bytesRead;
    final Counter bytesWritten;
    final Counter rejects;
    final Counter loginFailures;
    /** Tasks task management aborted, counted when taken (before they have drained). */
    final Counter tasksAborted;

    TargetMetrics(final MeterRegistry registry) {
        Gauge.builder("virtman.iscsi.target.sessions", openSessions, AtomicInteger::get)
                .description("iSCSI sessions in the full feature phase").register(registry);
        Gauge.builder("virtman.iscsi.target.connections", openConnections, AtomicInteger::get)
                .description("TCP connections open").register(registry);
        commands = Counter.builder("virtman.iscsi.target.commands").description("SCSI commands received").register(registry);
        inlineCommands = Counter.builder("virtman.iscsi.target.inline.commands")
                .description("SCSI reads answered on the connection's reader thread (data already local)").register(registry);
        bytesRead = Counter.builder("virtman.iscsi.target.read.bytes").baseUnit("bytes")
                .description("data bytes sent to initiators (Data-In)").register(registry);
        bytesWritten = Counter.builder("virtman.iscsi.target.written.bytes").baseUnit("bytes")
                .description("data bytes received from initiators (immediate data and Data-Out)").register(registry);
        rejects = Counter.builder("virtman.iscsi.target.rejects").description("Reject PDUs sent").register(registry);
        loginFailures = Counter.builder("virtman.iscsi.target.login.failures").description("failed logins").register(registry);
        tasksAborted = Counter.builder("virtman.iscsi.target.tasks.aborted")
                .description("SCSI tasks aborted by task management (ABORT TASK, resets)").register(registry);
    }
}
