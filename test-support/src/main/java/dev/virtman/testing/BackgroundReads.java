package dev.virtman.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Readers that run while a test breaks something (a leader killed, a quorum lost) and must never
 * fail: each reader repeats one round of reads, a pause apart, on its own virtual thread, counting
 * the rounds that succeeded and keeping every failure for the test to assert empty. The high
 * availability tests of the CLI and of the boot storm point one reader at each follower.
 */
public final class BackgroundReads implements AutoCloseable {
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger rounds = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();

    private BackgroundReads() {
    }

    /** Starts one reader per {@code round}, each repeating its round with {@code pause} between rounds. */
    public static BackgroundReads start(final List<? extends Runnable> readers, final Duration pause) {
        BackgroundReads reads = new BackgroundReads();
        for (Runnable round : readers) {
            reads.threads.add(Thread.ofVirtual().name("background-reads").start(() -> reads.loop(round, pause)));
        }
        return reads;
    }

    private void loop(final Runnable round, final Duration pause) {
        while (!stop.get()) {
            try {
                round.run();
                rounds.incrementAndGet();
            } catch (RuntimeException e) {
                errors.add(e.toString());
            }
            try {
                Thread.sleep(pause); // pacing the load, not waiting for an outcome
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Rounds that succeeded, over all readers. */
    public int rounds() {
        return rounds.get();
    }

    /** Every failed round's exception, in order of failure. */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    /** Stops the readers and waits for each to finish its round. */
    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(JOIN_TIMEOUT);
        }
    }
}
