package dev.virtman.iscsi.target;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The server-wide switch that makes a target go silent without closing anything, as a stopped
 * process or a cut cable looks to initiators: while paused, readers take no PDUs from their
 * sockets, writers send nothing, new connections are accepted by the kernel but not served, and
 * the timers (NOP-In pings, login timeouts) do not run. Resuming carries on where it stopped.
 * For fault drills ({@link IscsiTargetServer#pause}); a target never pauses itself.
 */
final class TargetPause {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition resumed = lock.newCondition();
    private volatile boolean paused;

    void pause() {
        paused = true;
    }

    void resume() {
        lock.lock();
        try {
            paused = false;
            resumed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean paused() {
        return paused;
    }

    /** Returns at once unless paused; else waits for {@link #resume}, keeping an interrupt for the caller. */
    void awaitRunning() {
        if (!paused) {
            return;
        }
        lock.lock();
        try {
            while (paused) {
                resumed.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }
}
