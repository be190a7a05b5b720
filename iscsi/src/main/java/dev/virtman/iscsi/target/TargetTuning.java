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
 */
public record TargetTuning(
        TargetLoginSettings login,
        int commandWindow,
        long inFlightBudgetBytes,
        long maxQueuedOutputBytes,
        Duration loginTimeout,
        Duration nopInInterval,
        Duration nopInTimeout,
        int maxConnections) {

    public static final TargetTuning DEFAULTS = new TargetTuning(
            TargetLoginSettings.DEFAULTS, 128, 256L << 20, 64L << 20,
            Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofSeconds(15), 1024);

    public TargetTuning {
        if (commandWindow < 1 || commandWindow > 1 << 16) {
            throw new IllegalArgumentException("commandWindow must be 1..65536");
        }
        if (inFlightBudgetBytes < login.maxBurstLength()) {
            throw new IllegalArgumentException("in-flight budget smaller than one burst");
        }
    }

    public TargetTuning withTimeouts(final Duration login, final Duration nopInterval, final Duration nopTimeout) {
        return new TargetTuning(this.login, commandWindow, inFlightBudgetBytes, maxQueuedOutputBytes, login,
                nopInterval, nopTimeout, maxConnections);
    }

    public TargetTuning withInFlightBudget(final long bytes) {
        return new TargetTuning(login, commandWindow, bytes, maxQueuedOutputBytes, loginTimeout, nopInInterval,
                nopInTimeout, maxConnections);
    }

    public TargetTuning withLogin(final TargetLoginSettings settings) {
        return new TargetTuning(settings, commandWindow, inFlightBudgetBytes, maxQueuedOutputBytes, loginTimeout,
                nopInInterval, nopInTimeout, maxConnections);
    }
}
