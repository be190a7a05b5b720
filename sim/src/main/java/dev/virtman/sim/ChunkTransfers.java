package dev.virtman.sim;

import static dev.virtman.sim.StormModel.ABSENT;
import static dev.virtman.sim.StormModel.NANOS;
import static dev.virtman.sim.StormModel.NO_PEER;
import static dev.virtman.sim.StormModel.READY;
import static dev.virtman.sim.StormModel.SOURCE;

import dev.virtman.block.cache.ParentHealth;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Chunk fetches between hosts, as the agents make them: a host's cache claims a run of missing
 * chunks (single flight), a {@link Routing} picks the parent or peer to ask, the request
 * crosses the network, the parent serves it through its own cache (fetching what it lacks
 * first), and the bytes cross the parent's out-link and the host's in-link. A parent that does
 * not answer within the attempt timeout is abandoned for the next one; when every round fails
 * the fetch gives up and its readers fail.
 */
final class ChunkTransfers {

    /**
     * One fetch by one host of a run of chunks (one upstream request; a single chunk is a run of
     * one): its current parent and where it is in the retry schedule.
     */
    static final class Attempt {
        final int host;
        final int[] run;
        int[] parentList;
        ParentHealth parentHealth;
        int[] order;
        int next;
        int round;
        int slot;
        int tries;
        int firstPeer = NO_PEER;
        double start;
        /** Bumped per try: a timer or a delivery of an earlier try finds it changed and is ignored. */
        int serial;
        /** The try whose timeout timer is set. */
        int timerArmedFor = -1;

        Attempt(final int host, final int[] run) {
            this.host = host;
            this.run = run;
        }
    }

    /** One try of an attempt at one parent: where the parent's read of the run has got to. */
    private static final class Request {
        final Attempt attempt;
        final int peer;
        final int serial;
        int pos;

        Request(final Attempt attempt, final int peer, final int serial) {
            this.attempt = attempt;
            this.peer = peer;
            this.serial = serial;
        }
    }

    private final StormModel m;
    private final Routing routing;
    private final VmReplay vms;
    /** Prefetch threads per host, or null without prefetch. */
    private PrefetchModel prefetch;
    /** Per host: the requests of children waiting at it for a chunk it is fetching. */
    private final List<Map<Integer, List<Request>>> waiting;

    ChunkTransfers(final StormModel model, final Routing routing, final VmReplay vms) {
        this.m = model;
        this.routing = routing;
        this.vms = vms;
        this.waiting = new ArrayList<>(model.hostCount);
        for (int h = 0; h < model.hostCount; h++) {
            waiting.add(null);
        }
    }

    void prefetch(final PrefetchModel p) {
        this.prefetch = p;
    }

    /**
     * The run {@code ChunkCache} claims for a miss at {@code chunks[from]} (absent at {@code h}):
     * it and the following chunks up to {@code last} of the same READ that are absent too (not
     * cached, not in flight), at most {@code MAX_RUN_BYTES}; fetched with one upstream request.
     */
    int[] claimRun(final int h, final int[] chunks, final int from, final int last) {
        int end = from + 1;
        while (end <= last && end - from < m.maxRunChunks && m.state[h][chunks[end]] == ABSENT) {
            end++;
        }
        return end == from + 1 ? new int[] {chunks[from]} : Arrays.copyOfRange(chunks, from, end);
    }

    /** Host {@code h} starts fetching the chunks it claimed (the routing decides from whom). */
    void startFetch(final int h, final int[] claimed) {
        routing.startFetch(h, claimed);
    }

    /** Sends {@code a} to the next parent the routing names, or to nobody when it paused or gave up. */
    void tryNext(final Attempt a) {
        if (m.dead[a.host]) {
            return;
        }
        if (a.run.length > 1 && a.tries > 0) {
            // ChunkFetcher.fetchRun asks only the first parent for a run; when that fails, each
            // chunk is fetched on its own with the usual fail-over and rounds.
            for (int c : a.run) {
                Attempt single = new Attempt(a.host, new int[] {c});
                routing.prepareSingle(single);
                tryNext(single);
            }
            return;
        }
        int peer = routing.nextPeer(a);
        if (peer == NO_PEER) {
            return;
        }
        a.tries++;
        a.start = m.loop.now();
        Request q = new Request(a, peer, ++a.serial);
        m.loop.after(m.net.latency(), () -> arrive(q));
    }

    /**
     * ChunkFetcher waits attemptTimeout for one parent, then abandons the read (its late bytes
     * still cross the links) and asks the next: a dead parent and a slow one look the same. The
     * timer is only set when the answer may come late (the parent must fetch first, is dead, or
     * its transfer ends after the deadline): one event fewer per request in the common case.
     */
    private void armTimeout(final Request q) {
        Attempt a = q.attempt;
        if (q.serial != a.serial || a.timerArmedFor == q.serial) {
            return; // stale, or already timed
        }
        int serial = q.serial;
        a.timerArmedFor = serial;
        m.loop.at(Math.max(deadline(a), m.loop.now()), () -> {
            if (a.serial == serial && !m.dead[a.host]) {
                a.serial++;
                attemptFailed(a);
            }
        });
    }

    private double deadline(final Attempt a) {
        return a.start + m.sc.fetch().attemptTimeout().toNanos() / NANOS;
    }

    private void attemptFailed(final Attempt a) {
        m.failedAttempts++;
        if (a.parentHealth != null && routing.isCurrent(a)) {
            a.parentHealth.recordFailure(a.slot, m.nanos());
        }
        tryNext(a);
    }

    /** The request reaches the parent. */
    private void arrive(final Request q) {
        if (q.peer == SOURCE) {
            send(q);
        } else if (m.dead[q.peer]) {
            armTimeout(q); // never answers
        } else {
            serve(q);
        }
    }

    /**
     * The parent's target reads the requested chunks through its cache, in order: a cached chunk
     * is taken, one in flight is waited for, a missing one starts the parent's own run fetch
     * (single flight: every reader of it waits on one fetch). All there: the answer goes out.
     */
    private void serve(final Request q) {
        int p = q.peer;
        int[] run = q.attempt.run;
        while (q.pos < run.length) {
            int c = run[q.pos];
            byte s = m.state[p][c];
            if (s == READY) {
                q.pos++;
                continue;
            }
            armTimeout(q);
            Map<Integer, List<Request>> waiters = waiting.get(p);
            if (waiters == null) {
                waiters = new HashMap<>();
                waiting.set(p, waiters);
            }
            waiters.computeIfAbsent(c, k -> new ArrayList<>(2)).add(q);
            if (s == ABSENT) {
                startFetch(p, claimRun(p, run, q.pos, run.length - 1));
            }
            return;
        }
        send(q);
    }

    /** The parent holds the chunks: they go out on the parent's link as soon as that is free. */
    private void send(final Request q) {
        Link o = q.peer == SOURCE ? m.source : m.out[q.peer];
        long n = (long) q.attempt.run.length * m.chunkBytes;
        double outStart = o.reserve(m.loop.now(), n);
        if (q.peer == SOURCE) {
            m.sourceBytes += n; // served, even if the requester has given up on it by then
        }
        if (outStart <= m.loop.now()) {
            receive(q, o, outStart, n);
        } else {
            m.loop.at(outStart, () -> receive(q, o, outStart, n));
        }
    }

    private void receive(final Request q, final Link o, final double outStart, final long n) {
        Attempt a = q.attempt;
        if (q.peer != SOURCE && m.dead[q.peer]) {
            armTimeout(q);
            return;
        }
        double end = Link.receive(outStart, n, o, m.in[a.host]);
        if (m.cpu == null) {
            arrived(q, end + m.net.latency() + m.net.requestOverhead());
        } else {
            // The command's CPU work (served, sent, received, hashed, cached) on the shared
            // cores, queued behind what is already there when the bytes are in.
            m.loop.at(end + m.net.latency(),
                    () -> arrived(q, m.cpu.run(m.loop.now(), m.testbed.cost(n)) + m.net.requestOverhead()));
        }
    }

    private void arrived(final Request q, final double at) {
        if (at > deadline(q.attempt)) {
            armTimeout(q);
        }
        m.loop.at(at, () -> delivered(q));
    }

    private void delivered(final Request q) {
        Attempt a = q.attempt;
        int h = a.host;
        if (m.dead[h] || q.serial != a.serial) {
            return; // abandoned after a timeout
        }
        if (q.peer != SOURCE && m.dead[q.peer]) {
            armTimeout(q); // the parent died with the chunks on their way
            return;
        }
        a.serial++;
        m.requests++;
        m.fetches += a.run.length;
        m.maxFetch = Math.max(m.maxFetch, m.loop.now() - a.start);
        if (a.parentHealth != null && routing.isCurrent(a)) {
            a.parentHealth.recordSuccess(a.slot, m.nanos());
        }
        m.levelBytes[routing.depthOf(h)] += (long) a.run.length * m.chunkBytes;
        for (int c : a.run) {
            m.state[h][c] = READY;
            release(h, c, true);
        }
    }

    /**
     * Every round failed: ChunkFetcher throws, the cache's single flight fails every reader of
     * the chunk. A VM's read fails (the emulated VM ends with an error); a child's request gets
     * an error and the child asks its next parent; a prefetch thread moves on.
     */
    void giveUp(final Attempt a) {
        m.giveUps++;
        for (int c : a.run) {
            m.state[a.host][c] = ABSENT;
            release(a.host, c, false);
        }
    }

    /** Chunk {@code c} at {@code h} is verified and cached ({@code ok}) or failed: its readers go on. */
    private void release(final int h, final int c, final boolean ok) {
        Map<Integer, List<Request>> waiters = waiting.get(h);
        List<Request> children = waiters == null ? null : waiters.remove(c);
        if (children != null) {
            for (Request child : children) {
                if (ok) {
                    serve(child);
                } else if (child.serial == child.attempt.serial) {
                    child.attempt.serial++;
                    attemptFailed(child.attempt);
                }
            }
        }
        if (prefetch != null) {
            prefetch.released(h, c);
        }
        vms.released(h, c, ok);
    }

    /** Host {@code h} died: requests waiting at it never get an answer (their timers fail them). */
    void forgetWaiting(final int h) {
        Map<Integer, List<Request>> waiters = waiting.get(h);
        if (waiters != null) {
            waiters.clear();
        }
    }
}
