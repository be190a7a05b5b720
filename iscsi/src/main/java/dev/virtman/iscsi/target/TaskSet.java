package dev.virtman.iscsi.target;

import dev.virtman.scsi.ScsiStatus;
import dev.virtman.scsi.SenseData;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The SCSI tasks of one session by Initiator Task Tag (RFC 7143 §3.2.2), and the single way a
 * task ends: {@link #finish} forgets its tag, opens the command window and queues its response.
 * Aborted tags are remembered for a while so their late Data-Out PDUs are dropped quietly.
 */
final class TaskSet {

    /** Aborted task tags remembered so their late Data-Out PDUs are dropped quietly. */
    private static final int RECENTLY_ABORTED_LIMIT = 1024;

    private final FullFeatureSession session;
    private final Map<Integer, ScsiTask> tasks = new ConcurrentHashMap<>();
    private final LinkedHashSet<Integer> recentlyAborted = new LinkedHashSet<>();

    TaskSet(final FullFeatureSession session) {
        this.session = session;
    }

    ScsiTask get(final int initiatorTaskTag) {
        return tasks.get(initiatorTaskTag);
    }

    boolean contains(final int initiatorTaskTag) {
        return tasks.containsKey(initiatorTaskTag);
    }

    void add(final ScsiTask task) {
        tasks.put(task.initiatorTaskTag, task);
    }

    /** Forgets a task that never ran and has nothing to answer (the caller rejects its PDU). */
    void discard(final ScsiTask task) {
        tasks.remove(task.initiatorTaskTag);
    }

    boolean isEmpty() {
        return tasks.isEmpty();
    }

    Collection<ScsiTask> all() {
        return tasks.values();
    }

    /** Futures completing as each task that is running now ends. */
    CompletableFuture<?>[] completions() {
        return tasks.values().stream().map(t -> t.done).toArray(CompletableFuture[]::new);
    }

    boolean recentlyAborted(final int initiatorTaskTag) {
        synchronized (recentlyAborted) {
            return recentlyAborted.contains(initiatorTaskTag);
        }
    }

    /** Marks a task aborted; if it has not started running it ends now, else when the executor returns. */
    void abort(final ScsiTask task) {
        synchronized (recentlyAborted) {
            recentlyAborted.add(task.initiatorTaskTag);
            if (recentlyAborted.size() > RECENTLY_ABORTED_LIMIT) {
                recentlyAborted.remove(recentlyAborted.iterator().next());
            }
        }
        boolean running;
        synchronized (task) {
            task.aborted = true;
            running = task.executing;
        }
        if (!running) {
            releaseWriteBudget(task);
            finish(task, List.of());
        }
    }

    /** Aborts every task (the connection closed). */
    void abortAll() {
        for (ScsiTask t : tasks.values()) {
            abort(t);
        }
    }

    void releaseWriteBudget(final ScsiTask task) {
        int units;
        synchronized (task) {
            units = task.budgetUnits;
            task.budgetUnits = 0;
        }
        session.context().budget().release(units);
    }

    /** Ends a task without running it, answering with {@code status}. */
    void finishWithStatus(final ScsiTask task, final ScsiStatus status, final SenseData sense) {
        releaseWriteBudget(task);
        int r2ts = task.transfer == null ? 0 : task.transfer.r2tCount();
        finish(task, List.of(ResponseBuilder.status(task, status.code(), sense == null ? null : sense.toBytes(), r2ts)));
    }

    /**
     * The single exit of a task: forget its tag (the initiator may reuse it once it sees the
     * response), open the window by one, queue the response PDUs.
     */
    void finish(final ScsiTask task, final List<ResponseWriter.Outbound> response) {
        tasks.remove(task.initiatorTaskTag, task);
        session.windowDone(task.immediate);
        if (!response.isEmpty()) {
            session.writer().sendAll(response);
        }
        task.done.complete(null);
    }
}
