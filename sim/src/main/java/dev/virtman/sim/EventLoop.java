package dev.virtman.sim;

import java.util.Arrays;

/**
 * The discrete-event engine: a simulated clock and a queue of actions due at given times.
 * Actions run one at a time in time order; actions due at the same time run in the order they
 * were scheduled (FIFO), so a run is deterministic.
 *
 * <p>The queue is a binary min-heap over parallel arrays (time, sequence number, action): no
 * per-event wrapper object, which keeps a 100,000-VM storm (tens of millions of events) within
 * seconds and a few hundred MB.
 */
public final class EventLoop {
    /** Something to do at a simulated time. */
    @FunctionalInterface
    public interface Action {
        void run();
    }

    private static final int INITIAL_CAPACITY = 1024;

    private double[] times = new double[INITIAL_CAPACITY];
    private long[] seqs = new long[INITIAL_CAPACITY];
    private Action[] actions = new Action[INITIAL_CAPACITY];
    private int size;
    private long nextSeq;
    private double now;
    private long fired;
    private int peakQueued;

    /** Simulated seconds since the start. */
    public double now() {
        return now;
    }

    /** Runs {@code action} at simulated time {@code time} (not before now). */
    public void at(final double time, final Action action) {
        if (!(time >= now)) {
            throw new IllegalArgumentException("cannot schedule at " + time + " before now " + now);
        }
        if (size == times.length) {
            int cap = size * 2;
            times = Arrays.copyOf(times, cap);
            seqs = Arrays.copyOf(seqs, cap);
            actions = Arrays.copyOf(actions, cap);
        }
        int i = size++;
        long seq = nextSeq++;
        // Sift up.
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(time, seq, times[parent], seqs[parent])) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        times[i] = time;
        seqs[i] = seq;
        actions[i] = action;
        peakQueued = Math.max(peakQueued, size);
    }

    /** Runs {@code action} {@code delay} seconds from now. */
    public void after(final double delay, final Action action) {
        at(now + delay, action);
    }

    /** Runs actions until none is left; returns the time of the last one. */
    public double run() {
        return runUntil(Double.POSITIVE_INFINITY);
    }

    /** Runs every action due at or before {@code limit}; the clock ends at the last one run. */
    public double runUntil(final double limit) {
        while (size > 0 && times[0] <= limit) {
            Action a = actions[0];
            now = times[0];
            removeTop();
            fired++;
            a.run();
        }
        return now;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** Actions run so far. */
    public long fired() {
        return fired;
    }

    /** Most actions queued at once. */
    public int peakQueued() {
        return peakQueued;
    }

    private void removeTop() {
        int last = --size;
        double t = times[last];
        long s = seqs[last];
        Action a = actions[last];
        actions[last] = null;
        if (last == 0) {
            return;
        }
        int i = 0;
        // Sift down.
        while (true) {
            int child = 2 * i + 1;
            if (child >= last) {
                break;
            }
            if (child + 1 < last && before(times[child + 1], seqs[child + 1], times[child], seqs[child])) {
                child++;
            }
            if (!before(times[child], seqs[child], t, s)) {
                break;
            }
            move(child, i);
            i = child;
        }
        times[i] = t;
        seqs[i] = s;
        actions[i] = a;
    }

    private void move(final int from, final int to) {
        times[to] = times[from];
        seqs[to] = seqs[from];
        actions[to] = actions[from];
    }

    private static boolean before(final double t1, final long s1, final double t2, final long s2) {
        return t1 < t2 || (t1 == t2 && s1 < s2);
    }
}
