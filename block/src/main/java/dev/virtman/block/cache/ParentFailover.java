package dev.virtman.block.cache;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * The fail-over and hedging stage: reads a byte range from the parents until one answer passes
 * the caller's check. It knows nothing about chunks or hashes; {@link ChunkFetcher}, the
 * verification stage above it, passes the check (the manifest's SHA-256) and slices the result.
 *
 * <p><b>Design.</b> A request goes to the first parent in {@link ParentSet#attemptOrder()}. If that
 * parent has not answered by its learned {@linkplain HedgeDeadline hedge deadline}, the same read
 * goes to the next parent too, if the {@link HedgeBudget} has a token ("The Tail at Scale", Dean
 * and Barroso, CACM 2013); the first answer that passes the check wins and the others are
 * abandoned. A parent that errs fails over at once, and one that has not answered within the hard
 * {@link FetchPolicy#attemptTimeout()} is abandoned and the next one asked, as without hedging. A
 * parent beaten by a hedge goes to the back of the order ({@link ParentSet.FailureReason#SLOW}) until
 * its late answer arrives, which proves it alive and brings it back; a silent parent never answers,
 * so the requests after the first stop waiting for it at all.
 *
 * <p><b>Abandoned, not interrupted.</b> Each read runs on its own virtual thread into a fresh buffer.
 * A loser's read is not interrupted (interrupting a thread in a {@code FileChannel} read closes the
 * channel for every other reader of that parent, and an iSCSI ABORT TASK to a silent parent goes
 * unanswered anyway): its late bytes land in a buffer nobody reads, and its return releases its slot
 * of {@link FetchPolicy#maxOutstandingPerParent()}.
 *
 * <p><b>Silence.</b> A parent that has failed or missed a deadline is pinged at once
 * ({@link ParentSet.Probe}: an iSCSI NOP-Out, answered by a busy target's reader however long its
 * commands wait). If the ping goes unanswered for {@link #PROBE_TIMEOUT} and the parent has given
 * no good answer for {@link HedgeDeadline#pingedSilentNanos()} (at least a second), it is reported to the
 * {@link ChunkFetcher.SilenceListener} (the agent tells the manager, which re-parents the silent
 * host's children once two children or its own heartbeat evidence agree). The ping runs while the
 * silence is timed, not after it: waiting out four deadlines and then a two-second ping made a
 * child report a frozen parent 3-5 s after it froze (issue 19 runs C and D); now it is about one
 * deadline plus a second. A parent without a ping must stay silent for
 * {@link HedgeDeadline#silentNanos()} (four deadlines). A slow parent that answers late, or answers
 * the ping, is not silent: any answer clears the suspicion, and a parent still in trouble is
 * pinged again once per threshold.
 *
 * <p>All waiting is on the {@link FetchClock}, so tests drive deadlines by hand.
 */
final class ParentFailover implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ParentFailover.class);
    private static final int RUNNING = 0;
    private static final int DONE = 1;
    private static final int ABANDONED = 2;
    private static final long NONE = Long.MIN_VALUE;
    /** How long a suspected parent has to answer a ping (a busy target answers in milliseconds). */
    static final java.time.Duration PROBE_TIMEOUT = java.time.Duration.ofSeconds(1);

    private final ParentSet parents;
    private final FetchPolicy policy;
    private final HedgeBudget budget;
    private final FetchClock clock;
    private final ChunkFetcher.SilenceListener silence;
    private final HedgeDeadline[] deadlines;
    /** Per parent: since when it has been in trouble (failed, late) without a good answer, or NONE. */
    private final AtomicLongArray troubleSince;
    /** Per parent: when it was last reported silent, or NONE. */
    private final AtomicLongArray reportedAt;
    /** Per parent: when the latest ping was sent, or NONE. */
    private final AtomicLongArray pingedAt;
    /** Per parent: the trouble episode (its {@code troubleSince}) whose ping went unanswered, or NONE. */
    private final AtomicLongArray unansweredSince;
    /** Per parent: 1 while a ping is out. */
    private final java.util.concurrent.atomic.AtomicIntegerArray pinging;
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("chunk-fetch-", 0).factory());

    ParentFailover(final ParentSet parents, final FetchPolicy policy, final HedgeBudget budget,
                   final ChunkFetcher.SilenceListener silence) {
        this.parents = parents;
        this.policy = policy;
        this.budget = budget;
        this.clock = parents.clock();
        this.silence = silence;
        int n = parents.parents().size();
        this.deadlines = new HedgeDeadline[n];
        for (int i = 0; i < n; i++) {
            deadlines[i] = new HedgeDeadline(budget.policy(), policy.attemptTimeout().toNanos());
        }
        this.troubleSince = new AtomicLongArray(n);
        this.reportedAt = new AtomicLongArray(n);
        this.pingedAt = new AtomicLongArray(n);
        this.unansweredSince = new AtomicLongArray(n);
        this.pinging = new java.util.concurrent.atomic.AtomicIntegerArray(n);
        for (int i = 0; i < n; i++) {
            troubleSince.set(i, NONE);
            reportedAt.set(i, NONE);
            pingedAt.set(i, NONE);
            unansweredSince.set(i, NONE);
        }
    }

    /** The hedge deadline {@code parent} has now, in nanoseconds. */
    long deadlineNanos(final ParentSet.Parent parent) {
        return deadlines[parent.index()].nanos();
    }

    /** One read of one parent, in flight or finished. */
    private final class Attempt implements Runnable {
        final ParentSet.Parent parent;
        final boolean hedge;
        final long offset;
        final ByteBuffer buf;
        final Mailbox mailbox;
        final long startNanos = clock.nanoTime();
        final long hardDeadline = startNanos + policy.attemptTimeout().toNanos();
        final AtomicInteger state = new AtomicInteger(RUNNING);
        volatile Throwable error;
        volatile long endNanos;

        Attempt(final ParentSet.Parent parent, final boolean hedge, final long offset, final int length,
                final Mailbox mailbox) {
            this.parent = parent;
            this.hedge = hedge;
            this.offset = offset;
            this.buf = ByteBuffer.allocate(length);
            this.mailbox = mailbox;
        }

        @Override
        public void run() {
            try {
                parent.device().read(offset, buf);
            } catch (Throwable t) {
                error = t;
            }
            endNanos = clock.nanoTime();
            parent.outstanding.decrementAndGet();
            if (state.compareAndSet(RUNNING, DONE)) {
                mailbox.post(this);
            } else {
                parent.abandoned.decrementAndGet();
                onLateAnswer(this);
            }
        }

        boolean answered() {
            return error == null && !buf.hasRemaining();
        }

        /** Gives up on this read; false if it had already returned (its answer is in the mailbox). */
        boolean abandon() {
            if (state.compareAndSet(RUNNING, ABANDONED)) {
                parent.abandoned.incrementAndGet();
                return true;
            }
            return false;
        }
    }

    /** Where one request's reads post their answers; waits on the fetch clock. */
    private final class Mailbox {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition posted = lock.newCondition();
        private final ArrayDeque<Attempt> answers = new ArrayDeque<>();

        void post(final Attempt a) {
            lock.lock();
            try {
                answers.add(a);
                posted.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /** The next answer, or null once the clock reaches {@code deadline}. */
        Attempt take(final long deadline) throws InterruptedException {
            lock.lock();
            try {
                while (answers.isEmpty() && clock.nanoTime() - deadline < 0) {
                    clock.awaitUntil(lock, posted, deadline);
                }
                return answers.poll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Reads {@code length} bytes at {@code offset}: the first answer (position 0, limit length)
     * that {@code accept} passes, trying every parent for up to {@code rounds} rounds with back-off
     * between them; null if none did, with each failure appended to {@code failures}.
     * {@code what} names the request in logs ("chunk 7", "run 7+16").
     */
    ByteBuffer read(final String what, final long offset, final int length, final Predicate<ByteBuffer> accept,
                    final int rounds, final StringBuilder failures) throws InterruptedIOException {
        budget.onRequest();
        try {
            for (int round = 0; round < rounds; round++) {
                if (round > 0) {
                    clock.sleepUntil(clock.nanoTime() + policy.pauseBeforeRoundNanos(round));
                }
                ByteBuffer got = round(what, offset, length, accept, failures);
                if (got != null) {
                    return got;
                }
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while fetching " + what);
        }
    }

    private ByteBuffer round(final String what, final long offset, final int length,
                             final Predicate<ByteBuffer> accept, final StringBuilder failures)
            throws InterruptedException {
        List<ParentSet.Parent> order = parents.attemptOrder();
        Mailbox mailbox = new Mailbox();
        List<Attempt> running = new ArrayList<>(2);
        int next = 0;
        long hedgeAt = Long.MAX_VALUE;
        try {
            while (true) {
                if (running.isEmpty()) {
                    // Nothing in flight: fail over to the next parent that can take a read.
                    Attempt a = null;
                    while (a == null && next < order.size()) {
                        a = launch(order.get(next++), false, what, offset, length, mailbox, failures);
                    }
                    if (a == null) {
                        return null;
                    }
                    running.add(a);
                    hedgeAt = hedgeDeadline(a, next < order.size());
                }
                long wake = hedgeAt;
                for (Attempt a : running) {
                    wake = Math.min(wake, a.hardDeadline);
                }
                Attempt answer = mailbox.take(wake);
                long now = clock.nanoTime();
                if (answer != null) {
                    running.remove(answer);
                    if (verdict(answer, what, length, accept, failures)) {
                        for (Attempt loser : running) {
                            if (loser.abandon() && loser.startNanos - answer.startNanos < 0) {
                                // Started before the winner and still nothing: slow, maybe silent.
                                parents.recordFailure(loser.parent, ParentSet.FailureReason.SLOW);
                                markTrouble(loser.parent, loser.startNanos + deadlineNanos(loser.parent));
                            }
                        }
                        running.clear();
                        if (answer.hedge) {
                            budget.onHedgeWon();
                        }
                        answer.buf.flip();
                        return answer.buf;
                    }
                    if (running.isEmpty()) {
                        continue; // fail over at once
                    }
                } else {
                    for (Attempt a : List.copyOf(running)) {
                        if (now - a.hardDeadline >= 0 && a.abandon()) {
                            running.remove(a);
                            fail(a.parent, what, ParentSet.FailureReason.TIMEOUT,
                                    "no answer in " + policy.attemptTimeout().toMillis() + " ms", failures);
                        }
                    }
                    if (!running.isEmpty() && now - hedgeAt >= 0) {
                        Attempt last = running.getLast();
                        markTrouble(last.parent, hedgeAt);
                        hedgeAt = Long.MAX_VALUE;
                        if (next < order.size() && budget.tryHedge()) {
                            Attempt h = launch(order.get(next++), true, what, offset, length, mailbox, failures);
                            if (h != null) {
                                running.add(h);
                                hedgeAt = hedgeDeadline(h, next < order.size());
                            }
                        } else if (next < order.size()) {
                            // No token now; requests refill the bucket, so look again a deadline later.
                            hedgeAt = now + deadlineNanos(last.parent);
                        }
                    }
                }
                checkSilence(now);
            }
        } finally {
            for (Attempt a : running) {
                if (!a.abandon()) {
                    // Returned just as we gave up: its answer sits unread in the mailbox.
                    onLateAnswer(a);
                }
            }
            checkSilence(clock.nanoTime());
        }
    }

    private long hedgeDeadline(final Attempt a, final boolean anotherParent) {
        return budget.policy().enabled() && anotherParent ? a.startNanos + deadlineNanos(a.parent) : Long.MAX_VALUE;
    }

    /** Starts one read; null (the failure recorded) if the parent cannot take one now. */
    private Attempt launch(final ParentSet.Parent parent, final boolean hedge, final String what, final long offset,
                           final int length, final Mailbox mailbox, final StringBuilder failures) {
        if (parent.abandoned.get() >= policy.maxOutstandingPerParent()) {
            fail(parent, what, ParentSet.FailureReason.OVERLOADED, "too many stalled reads", failures);
            return null;
        }
        Attempt a = new Attempt(parent, hedge, offset, length, mailbox);
        parent.outstanding.incrementAndGet();
        try {
            threads.execute(a);
        } catch (RejectedExecutionException e) {
            parent.outstanding.decrementAndGet();
            fail(parent, what, ParentSet.FailureReason.ERROR, e.toString(), failures);
            return null;
        }
        if (hedge) {
            LOG.debug("{}: hedged to {} after {} ms", what, parent.name(),
                    (clock.nanoTime() - a.startNanos) / 1_000_000);
        }
        return a;
    }

    /** Whether {@code a}'s answer is usable; records the success or the failure either way. */
    private boolean verdict(final Attempt a, final String what, final int length, final Predicate<ByteBuffer> accept,
                            final StringBuilder failures) {
        long nanos = a.endNanos - a.startNanos;
        if (a.error != null) {
            fail(a.parent, what, ParentSet.FailureReason.ERROR, String.valueOf(a.error), failures);
            return false;
        }
        deadlines[a.parent.index()].record(nanos);
        if (a.buf.hasRemaining()) {
            fail(a.parent, what, ParentSet.FailureReason.SHORT_READ,
                    "returned " + a.buf.position() + " of " + length + " bytes", failures);
            return false;
        }
        if (!accept.test(a.buf.duplicate().flip())) {
            fail(a.parent, what, ParentSet.FailureReason.MISMATCH, "SHA-256 mismatch", failures);
            return false;
        }
        troubleSince.set(a.parent.index(), NONE);
        parents.recordSuccess(a.parent, length, nanos);
        return true;
    }

    /** A read given up on returned: with data, the parent is alive (and this slow); with an error, still in trouble. */
    private void onLateAnswer(final Attempt a) {
        if (a.answered()) {
            deadlines[a.parent.index()].record(a.endNanos - a.startNanos);
            troubleSince.set(a.parent.index(), NONE);
            parents.recordLateAnswer(a.parent);
        }
    }

    private void fail(final ParentSet.Parent parent, final String what, final ParentSet.FailureReason reason,
                      final String detail, final StringBuilder failures) {
        parents.recordFailure(parent, reason);
        markTrouble(parent, clock.nanoTime());
        LOG.warn("{} from parent {}: {} ({})", what, parent.name(), reason, detail);
        failures.append(' ').append(parent.name()).append('=').append(reason);
    }

    private void markTrouble(final ParentSet.Parent parent, final long since) {
        troubleSince.compareAndSet(parent.index(), NONE, since);
    }

    /**
     * Pings each parent in trouble (at once, then once per threshold while it answers pings) and
     * reports each one silent past its threshold, once per threshold.
     */
    private void checkSilence(final long now) {
        for (ParentSet.Parent p : parents.parents()) {
            int i = p.index();
            long since = troubleSince.get(i);
            if (since == NONE) {
                continue;
            }
            long quiet = now - since;
            if (p.probe() == null) {
                long threshold = deadlines[i].silentNanos();
                if (quiet >= threshold && claimReport(i, now, threshold)) {
                    LOG.warn("parent {} silent: no good answer for {} ms", p.name(), quiet / 1_000_000);
                    silence.silent(p, quiet);
                }
                continue;
            }
            long threshold = deadlines[i].pingedSilentNanos();
            if (unansweredSince.get(i) == since) {
                report(p, since, now, threshold);
                continue;
            }
            long pinged = pingedAt.get(i);
            boolean due = pinged == NONE || pinged - since < 0 || now - pinged >= threshold;
            if (due && pinging.compareAndSet(i, 0, 1)) {
                pingedAt.set(i, now);
                try {
                    threads.execute(() -> ping(p, since));
                } catch (RejectedExecutionException e) {
                    pinging.set(i, 0);
                    return; // closed: these parents were replaced, nobody to report to
                }
            }
        }
    }

    private boolean claimReport(final int i, final long now, final long threshold) {
        long last = reportedAt.get(i);
        return (last == NONE || now - last >= threshold) && reportedAt.compareAndSet(i, last, now);
    }

    /** Reports {@code p} if it is still in the trouble episode {@code since} and silent past {@code threshold}. */
    private void report(final ParentSet.Parent p, final long since, final long now, final long threshold) {
        int i = p.index();
        long quiet = now - since;
        if (troubleSince.get(i) == since && quiet >= threshold && claimReport(i, now, threshold)) {
            LOG.warn("parent {} silent: no good answer for {} ms and no answer to a ping in {} ms", p.name(),
                    quiet / 1_000_000, PROBE_TIMEOUT.toMillis());
            silence.silent(p, quiet);
        }
    }

    /**
     * Reads that go unanswered do not make a parent silent on their own: on a busy tree a healthy
     * parent's reads wait seconds for its own parents (a 20-host storm on 2 cores failed healthy
     * parents on such reports). So the parent is asked whether it answers at all, and only a parent
     * that does not is reported (here if its silence already passed the threshold, else by the next
     * {@link #checkSilence} past it).
     */
    private void ping(final ParentSet.Parent p, final long since) {
        int i = p.index();
        try {
            if (p.probe().answers(PROBE_TIMEOUT)) {
                LOG.info("parent {} slow ({} ms without a good answer) but answers a ping: not reported", p.name(),
                        (clock.nanoTime() - since) / 1_000_000);
            } else {
                unansweredSince.set(i, since);
                report(p, since, clock.nanoTime(), deadlines[i].pingedSilentNanos());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("probing parent {} failed: {}", p.name(), e.toString());
        } finally {
            pinging.set(i, 0);
        }
    }

    /** Stops starting reads; reads abandoned to stalled parents are left to finish. */
    @Override
    public void close() {
        threads.shutdown();
    }
}
