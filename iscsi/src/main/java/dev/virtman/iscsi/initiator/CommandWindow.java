package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.SerialNumbers;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The initiator's view of the command numbering window (RFC 7143 §4.2.2.1): a non-immediate
 * command may be sent only with CmdSN in [ExpCmdSN, MaxCmdSN]. Senders wait here while the window
 * is closed; every target PDU carrying ExpCmdSN/MaxCmdSN may open it.
 *
 * <p>The lock is held only for bookkeeping, never during I/O, so the connection's reader can
 * always update the window (a reader blocked behind a sender would deadlock both). Each login
 * starts a new <em>epoch</em>; {@link #abort} ends the current one and wakes every waiter, which
 * then gives up (its command will be reissued in the next epoch).
 */
final class CommandWindow {

    /** Returned by {@link #acquire} when the epoch ended or the deadline passed. */
    static final long NOT_ACQUIRED = -1L;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int nextCmdSN;
    private int expCmdSN;
    private int maxCmdSN;
    private int epoch;
    private boolean open;

    /** Starts a new epoch after a login: numbering continues at the login response's ExpCmdSN. */
    int reset(final int loginExpCmdSN, final int loginMaxCmdSN) {
        lock.lock();
        try {
            nextCmdSN = loginExpCmdSN;
            expCmdSN = loginExpCmdSN;
            maxCmdSN = loginMaxCmdSN;
            epoch++;
            open = true;
            changed.signalAll();
            return epoch;
        } finally {
            lock.unlock();
        }
    }

    /** Ends the current epoch (connection lost): waiters return {@link #NOT_ACQUIRED}. */
    void abort() {
        lock.lock();
        try {
            open = false;
            epoch++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the next CmdSN of epoch {@code inEpoch}, waiting while the window is closed, at
     * most until {@code deadlineNanos} ({@link System#nanoTime} based). Returns the CmdSN as an
     * unsigned value, or {@link #NOT_ACQUIRED}.
     */
    long acquire(final int inEpoch, final long deadlineNanos) throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (!open || epoch != inEpoch) {
                    return NOT_ACQUIRED;
                }
                if (SerialNumbers.lessThanOrEqual(nextCmdSN, maxCmdSN)) {
                    int sn = nextCmdSN++;
                    return Integer.toUnsignedLong(sn);
                }
                long wait = deadlineNanos - System.nanoTime();
                if (wait <= 0) {
                    return NOT_ACQUIRED;
                }
                changed.awaitNanos(wait);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The CmdSN an immediate PDU carries: the next one, not consumed (§4.2.2.1). */
    int current() {
        lock.lock();
        try {
            return nextCmdSN;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Applies ExpCmdSN/MaxCmdSN from a target PDU. §4.2.2.1: values with MaxCmdSN &lt; ExpCmdSN - 1
     * are invalid and ignored; otherwise each only moves forward.
     */
    void update(final int newExpCmdSN, final int newMaxCmdSN) {
        if (SerialNumbers.lessThan(newMaxCmdSN, newExpCmdSN - 1)) {
            return;
        }
        lock.lock();
        try {
            if (!open) {
                return;
            }
            boolean moved = false;
            if (SerialNumbers.greaterThan(newExpCmdSN, expCmdSN)) {
                expCmdSN = newExpCmdSN;
            }
            if (SerialNumbers.greaterThan(newMaxCmdSN, maxCmdSN)) {
                maxCmdSN = newMaxCmdSN;
                moved = true;
            }
            if (moved) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Commands the target will still accept now: MaxCmdSN - next + 1, or 0. */
    int available() {
        lock.lock();
        try {
            int n = maxCmdSN - nextCmdSN + 1;
            return open && n > 0 ? n : 0;
        } finally {
            lock.unlock();
        }
    }

    int expCmdSN() {
        lock.lock();
        try {
            return expCmdSN;
        } finally {
            lock.unlock();
        }
    }

    int maxCmdSN() {
        lock.lock();
        try {
            return maxCmdSN;
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the window to change, bounded; for tests and diagnostics. */
    boolean awaitChange(final long timeout, final TimeUnit unit) throws InterruptedException {
        lock.lock();
        try {
            return changed.await(timeout, unit);
        } finally {
            lock.unlock();
        }
    }
}
