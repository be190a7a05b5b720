package dev.virtman.iscsi.initiator;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one command and waits for it, retrying what SAM-5 says a retry fixes: UNIT ATTENTION
 * (reported once after the target reinstated our session, §5.14) and BUSY / TASK SET FULL,
 * the latter with a growing pause.
 */
final class RetryingExecution {

    private static final Logger LOG = LoggerFactory.getLogger(RetryingExecution.class);
    private static final int UNIT_ATTENTION_RETRIES = 3;
    private static final int BUSY_RETRIES = 20;
    private static final Duration BUSY_BACKOFF = Duration.ofMillis(50);

    private RetryingExecution() {
    }

    /** Returns the bytes transferred. */
    static int execute(final IscsiSession session, final int lun, final byte[] cdb, final ByteBuffer dataIn, final String label)
            throws IOException {
        int unitAttentions = 0;
        int busy = 0;
        while (true) {
            try {
                return session.await(session.submitToAwait(lun, cdb, dataIn, label));
            } catch (ScsiCheckConditionException e) {
                if (!e.isUnitAttention() || ++unitAttentions > UNIT_ATTENTION_RETRIES) {
                    throw e;
                }
                LOG.debug("{}: retrying after {}", label, e.getMessage());
            } catch (ScsiStatusException e) {
                if (!e.isTransient() || ++busy > BUSY_RETRIES) {
                    throw e;
                }
                sleep(BUSY_BACKOFF.multipliedBy(busy));
            }
        }
    }

    private static void sleep(final Duration d) throws InterruptedIOException {
        if (!SessionRecovery.sleepNanos(d.toNanos())) {
            throw new InterruptedIOException("interrupted");
        }
    }
}
