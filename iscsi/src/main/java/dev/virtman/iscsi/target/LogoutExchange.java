package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.LogoutRequestHeader;
import dev.virtman.iscsi.pdu.LogoutResponseHeader;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.RejectReason;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Logout (RFC 7143 §11.14, §11.15): closing the session or this connection stops reading at
 * once; the Logout Response follows the responses of the commands still running, then the
 * connection closes. Connection recovery is refused (ErrorRecoveryLevel 0).
 */
final class LogoutExchange {

    /** How long logout waits for running commands to finish. */
    private static final long DRAIN_TIMEOUT_SECONDS = 30;

    private final FullFeatureSession session;
    private final TaskSet tasks;

    LogoutExchange(final FullFeatureSession session, final TaskSet tasks) {
        this.session = session;
        this.tasks = tasks;
    }

    void onRequest(final Pdu pdu, final boolean immediate) {
        LogoutRequestHeader req = new LogoutRequestHeader(pdu.bhs());
        int reason = req.reasonCode();
        int response;
        boolean closing;
        if (reason == LogoutRequestHeader.REASON_REMOVE_CONNECTION_FOR_RECOVERY) {
            response = LogoutResponseHeader.RESPONSE_RECOVERY_NOT_SUPPORTED; // ErrorRecoveryLevel 0
            closing = false;
        } else if (reason == LogoutRequestHeader.REASON_CLOSE_CONNECTION && req.cid() != session.login().cid()) {
            response = LogoutResponseHeader.RESPONSE_CID_NOT_FOUND;
            closing = false;
        } else if (reason > LogoutRequestHeader.REASON_REMOVE_CONNECTION_FOR_RECOVERY) {
            session.reject(RejectReason.INVALID_PDU_FIELD, pdu.bhs());
            session.windowDone(immediate);
            return;
        } else {
            response = LogoutResponseHeader.RESPONSE_CLOSED;
            closing = true;
        }
        if (closing) {
            session.connection().enterLoggedOut();
        }
        CompletableFuture<?>[] running = tasks.completions();
        // §6.5? the logout response follows the responses of the commands still running
        CompletableFuture.allOf(running).orTimeout(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS).whenComplete((v, e) -> {
            LogoutResponseHeader resp = LogoutResponseHeader.create().response(response).time2Wait(0).time2Retain(0);
            resp.initiatorTaskTag(req.initiatorTaskTag());
            session.windowDone(immediate);
            session.send(new ResponseWriter.Outbound(Pdu.of(resp), ResponseWriter.Sequencing.STATUS));
            if (closing) {
                session.writer().closeAfterDrain();
            }
        });
    }
}
