package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.SerialNumbers;
import dev.virtman.iscsi.pdu.TaskManagementFunction;
import dev.virtman.iscsi.pdu.TaskManagementRequestHeader;
import dev.virtman.iscsi.pdu.TaskManagementResponseHeader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Task management functions (RFC 7143 §11.5): aborts the tasks a function names and answers
 * only once they have stopped, so no response of theirs follows ours. A cold reset also drops
 * the connection.
 */
final class TaskManagement {

    /** How long task management waits for running commands to finish. */
    private static final long DRAIN_TIMEOUT_SECONDS = 30;

    private final FullFeatureSession session;
    private final TaskSet tasks;

    TaskManagement(final FullFeatureSession session, final TaskSet tasks) {
        this.session = session;
        this.tasks = tasks;
    }

    void onRequest(final Pdu pdu, final boolean immediate) {
        TaskManagementRequestHeader req = new TaskManagementRequestHeader(pdu.bhs());
        int function = req.function();
        List<ScsiTask> affected = new ArrayList<>();
        int response = TaskManagementFunction.RESPONSE_COMPLETE;
        boolean closeAfter = false;
        if (session.discovery()) {
            response = TaskManagementFunction.RESPONSE_REJECTED;
        } else {
            switch (function) {
                case TaskManagementFunction.ABORT_TASK -> {
                    ScsiTask t = tasks.get(req.referencedTaskTag());
                    if (t != null && t.lun == req.lun()) {
                        affected.add(t);
                    } else if (t == null && !SerialNumbers.lessThan(req.refCmdSN(), session.window().expCmdSN())) {
                        // §11.5.1: a task the target has not seen yet counts as aborted
                        response = TaskManagementFunction.RESPONSE_COMPLETE;
                    } else {
                        response = TaskManagementFunction.RESPONSE_TASK_DOES_NOT_EXIST;
                    }
                }
                case TaskManagementFunction.ABORT_TASK_SET, TaskManagementFunction.CLEAR_TASK_SET,
                     TaskManagementFunction.LOGICAL_UNIT_RESET ->
                        tasks.all().stream().filter(t -> t.lun == req.lun()).forEach(affected::add);
                case TaskManagementFunction.TARGET_WARM_RESET -> affected.addAll(tasks.all());
                case TaskManagementFunction.TARGET_COLD_RESET -> {
                    affected.addAll(tasks.all());
                    closeAfter = true; // §11.5.1: a cold reset also drops the connection
                }
                case TaskManagementFunction.CLEAR_ACA -> response = TaskManagementFunction.RESPONSE_FUNCTION_NOT_SUPPORTED;
                case TaskManagementFunction.TASK_REASSIGN ->
                        response = TaskManagementFunction.RESPONSE_REASSIGNMENT_NOT_SUPPORTED;
                default -> response = TaskManagementFunction.RESPONSE_REJECTED;
            }
        }
        for (ScsiTask t : affected) {
            tasks.abort(t);
            session.context().metrics().tasksAborted.increment();
        }
        int finalResponse = response;
        boolean close = closeAfter;
        CompletableFuture<?>[] waits = affected.stream().map(t -> t.done).toArray(CompletableFuture[]::new);
        // Answer only once the aborted tasks have stopped, so no response of theirs follows ours (§4.2.3.?).
        CompletableFuture.allOf(waits).orTimeout(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS).whenComplete((v, e) -> {
            TaskManagementResponseHeader resp = TaskManagementResponseHeader.create().response(finalResponse);
            resp.initiatorTaskTag(req.initiatorTaskTag());
            session.windowDone(immediate);
            session.send(new ResponseWriter.Outbound(Pdu.of(resp), ResponseWriter.Sequencing.STATUS));
            if (close) {
                session.connection().enterLoggedOut();
                session.writer().closeAfterDrain();
            }
        });
    }
}
