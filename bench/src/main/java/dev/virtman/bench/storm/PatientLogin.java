package dev.virtman.bench.storm;

import dev.virtman.block.BlockDevice;
import dev.virtman.iscsi.initiator.IscsiLoginException;

import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * An emulated VM's first login, as patient as the initiators real hosts run. open-iscsi retries a
 * node's initial login ({@code node.session.initial_login_retry_max}, 8 by default) before it
 * gives up; a VM that failed on its first connect or login timeout would count a starved agent
 * (many processes on few cores) as a lost VM, where a real host would only boot it later. The
 * wait is part of the VM's boot time, so the storm's percentiles still show it.
 *
 * <p>Only failures that can pass are retried: a timeout, a refused or reset connection, a target
 * error (Status-Class 3). A refusal for cause (wrong name, not authorized, a broken negotiation)
 * ends at once.
 */
public final class PatientLogin {
    /** open-iscsi's default {@code node.session.initial_login_retry_max}. */
    public static final int ATTEMPTS = 8;
    private static final Duration PAUSE = Duration.ofSeconds(1);

    /** Opens one disk. */
    @FunctionalInterface
    public interface Opener {
        BlockDevice open() throws IOException;
    }

    private PatientLogin() {
    }

    /**
     * Opens the disk, retrying up to {@link #ATTEMPTS} times in all; {@code retried} hears of each
     * failed attempt that is retried. Throws the last failure.
     */
    public static BlockDevice open(final Opener opener, final Consumer<IOException> retried)
            throws IOException, InterruptedException {
        return open(opener, retried, PAUSE);
    }

    static BlockDevice open(final Opener opener, final Consumer<IOException> retried, final Duration pause)
            throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return opener.open();
            } catch (IscsiLoginException e) {
                if (!e.retryable() || attempt == ATTEMPTS) {
                    throw e;
                }
                retried.accept(e);
            } catch (IOException e) {
                if (attempt == ATTEMPTS) {
                    throw e;
                }
                retried.accept(e);
            }
            Thread.sleep(pause);
        }
    }
}
