package dev.virtman.iscsi.initiator;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whose turn it is to read one connection's socket: its reader thread's, or a waiting caller's.
 *
 * <p>Why: with only the reader reading, every answered command costs two thread wake-ups, the
 * reader (woken by the kernel) and then the caller it completes (issue 16's storm profile: the
 * emulated VMs and the agents wait for one command at a time). So once the reader has completed
 * a command that a platform thread was waiting for in {@link IscsiSession#await}, and nothing
 * else is outstanding, it <em>stands aside</em>: it parks, and the next caller that waits for its
 * own answer reads the socket itself, so the kernel wakes the thread that wants the answer. The
 * turn is a lock held for as long as a thread reads; PDUs that are not the caller's (other
 * commands, NOP-In) are dispatched by whoever holds it, exactly as the reader would.
 *
 * <p>The reader takes its turn back ({@link #resume}) when a caller leaves with other commands
 * outstanding, when a PDU is expected that no caller waits for (a ping's answer, a Logout
 * Response, a command submitted without {@code await}), and on the session's timer tick when no
 * caller has read since the previous tick: an idle connection always has its reader, so target
 * NOP-Ins and a closed connection are seen within a tick. Virtual threads never read: a socket a
 * virtual thread reads becomes non-blocking for good, and their wait is a hand-off anyway.
 */
final class ReceiveTurn {

    /** How long a standing-aside reader sleeps before it checks whether its connection closed. */
    private static final long PARK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ReentrantLock turn = new ReentrantLock();
    private final InitiatorConnection connection;
    private final int epoch;
    private volatile Thread reader;
    private volatile boolean standingAside;
    private volatile boolean resume;
    /** Turns callers took; only the holder of {@link #turn} writes it. */
    private volatile long callerTurns;
    /** {@link #callerTurns} at the previous tick; only the timer thread uses it. */
    private long turnsAtLastTick;

    ReceiveTurn(final InitiatorConnection connection, final int epoch) {
        this.connection = connection;
        this.epoch = epoch;
    }

    InitiatorConnection connection() {
        return connection;
    }

    int epoch() {
        return epoch;
    }

    /** The reader thread's turn: blocks until it may read. */
    void readerTakes(final Thread self) {
        reader = self;
        turn.lock();
    }

    /**
     * The reader stands aside until {@link #resume}d (or its connection closes): call holding the
     * turn; returns without it.
     */
    void readerStandsAside() {
        resume = false;
        standingAside = true;
        turn.unlock();
        while (!resume && !connection.isClosed()) {
            LockSupport.parkNanos(this, PARK_NANOS);
        }
        standingAside = false;
    }

    /** The reader leaves for good (its connection failed); call holding the turn. */
    void readerLeaves() {
        turn.unlock();
    }

    /** Whether the reader is parked, waiting for a caller or a {@link #resume}. */
    boolean standingAside() {
        return standingAside;
    }

    /**
     * A waiting caller's attempt to read: true, holding the turn, if the reader stands aside, the
     * connection is open, nobody else reads, and the caller is a platform thread.
     */
    boolean callerTakes() {
        if (!standingAside || Thread.currentThread().isVirtual() || connection.isClosed() || !turn.tryLock()) {
            return false;
        }
        callerTurns++;
        return true;
    }

    /** A caller gives the turn back; {@code othersWaiting}: someone must go on reading. */
    void callerReleases(final boolean othersWaiting) {
        turn.unlock();
        if (othersWaiting) {
            resume();
        }
    }

    /** The reader takes its turn back (at once if it is not standing aside). */
    void resume() {
        resume = true;
        Thread r = reader;
        if (standingAside && r != null) {
            LockSupport.unpark(r);
        }
    }

    /** The session's timer: a reader that stood aside a whole tick without a caller reading resumes. */
    void tick() {
        long turns = callerTurns;
        if (standingAside && turns == turnsAtLastTick && !turn.isLocked()) {
            resume();
        }
        turnsAtLastTick = turns;
    }
}
