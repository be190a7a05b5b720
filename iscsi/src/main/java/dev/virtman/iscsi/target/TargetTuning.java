package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.TargetLoginSettings;
import java.time.Duration;

/**
 * Knobs of the target server beyond what to export. {@link #DEFAULTS} suits production; tests
 * shorten the timeouts with the {@code with...} methods.
 *
 * @param login                operational values the target offers during login (§13)
 * @param commandWindow        commands per session the CmdSN window admits (MaxCmdSN - ExpCmdSN + 1, §4.2.2.1)
 * @param inFlightBudgetBytes  data bytes (read results and write buffers) all sessions together may hold
 * @param maxQueuedOutputBytes response bytes one connection may queue before producers wait
 * @param loginTimeout         a connection that has not finished login by then is closed
 * @param nopInInterval        idle time after which the target pings the initiator with a NOP-In (§11.19)
 * @param nopInTimeout         how long the initiator has to answer that ping before the connection is closed
 * @param maxConnections       connections the server accepts at once; further ones are closed at once
 * @param maxConnectionsPerAddress connections one client address may hold at once, so that one
 *                             address (a reconnect loop, a misconfigured host) cannot fill
 *                             {@code maxConnections} and lock every other initiator out
 */
public record TargetTuning(
        TargetLoginSettings login,
        int commandWindow,
        long inFlightBudgetBytes,
        long maxQueuedOutputBytes,
        Duration loginTimeout,
        Duration nopInInterval,
        Duration nopInTimeout,
        int maxConnections,
        int maxConnectionsPerAddress) {

    public static final TargetTuning DEFAULTS = new TargetTuning(
            TargetLoginSettings.DEFAULTS, 128, 256L << 20, 64L << 20,
            Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofSeconds(15), 1024,
            TargetTuning.DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);

    /**
     * A quarter of the global cap: a host's VMs all connect to its agent from one loopback
     * address (a hundred VMs, some multipathed, fit), while no single address can take more
     * than a quarter of the slots.
     */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

    public TargetTuning {
        if (maxConnections < 1 || maxConnectionsPerAddress < 1) {
            throw new IllegalArgumentException("connection caps must be positive");
        }
        if (commandWindow < 1 || commandWindow > 1 << 16) {
            throw new IllegalArgumentException("commandWindow must be 1..65536");
        }
        if (inFlightBudgetBytes < login.maxBurstLength()) {
            throw new IllegalArgumentException("in-flight budget smaller than one burst");
        }
    }

    public TargetTuning withTimeouts(final Duration login, final Duration nopInterval, final Duration nopTimeout) {
        return new TargetTuning(this.login, commandWindow, inFlightBudgetBytes, maxQueuedOutputBytes, login,
                nopInterval, nopTimeout, maxConnections, maxConnectionsPerAddress);
    }

    public TargetTuning withInFlightBudget(final long bytes) {
        return new TargetTuning(login, commandWindow, bytes, maxQueuedOutputBytes, loginTimeout, nopInInterval,
                nopInTimeout, maxConnections, maxConnectionsPerAddress);
    }

    public TargetTuning withLogin(final TargetLoginSettings settings) {
        return new TargetTuning(settings, commandWindow, inFlightBudgetBytes, maxQueuedOutputBytes, loginTimeout,
                nopInInterval, nopInTimeout, maxConnections, maxConnectionsPerAddress);
    }

    /** The global and the per-client-address connection caps. */
    public TargetTuning withConnectionCaps(final int total, final int perAddress) {
        return new TargetTuning(login, commandWindow, inFlightBudgetBytes, maxQueuedOutputBytes, loginTimeout,
                nopInInterval, nopInTimeout, total, perAddress);
    }
}
