package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.RejectReason;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full feature phase of one connection (RFC 7143 §6.3): orders command PDUs by CmdSN
 * (§4.2.2.1) and hands each to the handler of its kind: {@link ScsiCommands} (with its write
 * transfers), {@link TaskManagement}, {@link TextExchange}, {@link LogoutExchange} and
 * {@link KeepAlive}. Anything else gets a Reject. Reader thread, except {@link #tick} and
 * {@link #abortAll}.
 */
final class FullFeaturePhase {

    private static final Logger LOG = LoggerFactory.getLogger(FullFeaturePhase.class);

    private final FullFeatureSession session;
    private final CommandWindow window;
    private final TaskSet tasks;
    private final ScsiCommands scsi;
    private final TaskManagement taskManagement;
    private final TextExchange text;
    private final LogoutExchange logout;
    private final KeepAlive keepAlive;

    FullFeaturePhase(final FullFeatureSession session) {
        this.session = session;
        this.window = session.window();
        this.tasks = new TaskSet(session);
        TransferTags transferTags = new TransferTags();
        this.scsi = new ScsiCommands(session, tasks, transferTags);
        this.taskManagement = new TaskManagement(session, tasks);
        this.text = new TextExchange(session, transferTags);
        this.logout = new LogoutExchange(session, tasks);
        this.keepAlive = new KeepAlive(session, tasks);
    }

    void onPdu(final Pdu pdu) {
        Opcode op = pdu.opcode();
        if (op == null || !op.isInitiatorOpcode()) {
            session.reject(RejectReason.COMMAND_NOT_SUPPORTED, pdu.bhs());
            return;
        }
        switch (op) {
            case NOP_OUT -> {
                if (keepAlive.onNopOut(pdu)) {
                    ordered(pdu);
                }
            }
            case SCSI_COMMAND -> ordered(pdu);
            case TASK_MANAGEMENT_REQUEST, TEXT_REQUEST, LOGOUT_REQUEST -> ordered(pdu);
            case DATA_OUT -> scsi.onDataOut(pdu);
            case LOGIN_REQUEST -> session.reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            case SNACK_REQUEST -> session.reject(RejectReason.PROTOCOL_ERROR, pdu.bhs()); // ErrorRecoveryLevel 0
            default -> session.reject(RejectReason.COMMAND_NOT_SUPPORTED, pdu.bhs());
        }
    }

    /** Applies CmdSN ordering (§4.2.2.1) to a command PDU, then dispatches it and any it released. */
    private void ordered(final Pdu pdu) {
        BasicHeaderSegment h = pdu.header();
        if (h.immediate()) {
            dispatch(pdu, true);
            return;
        }
        int cmdSN = pdu.bhs().getInt(ScsiCommandHeader.CMD_SN_OFFSET); // same offset in every command PDU
        switch (window.admit(cmdSN, pdu)) {
            case DELIVER -> {
                dispatch(pdu, false);
                for (Pdu next : window.releaseHeld()) {
                    dispatch(next, false);
                }
            }
            case HELD -> LOG.debug("holding CmdSN {} until ExpCmdSN {} arrives", cmdSN, window.expCmdSN());
            case DROP -> LOG.debug("dropping CmdSN {} outside window [{}, {}]", cmdSN, window.expCmdSN(),
                    window.maxCmdSN());
            default -> throw new IllegalStateException();
        }
    }

    /** Runs one in-order (or immediate) command PDU. Non-immediate ones count in the window until finished. */
    private void dispatch(final Pdu pdu, final boolean immediate) {
        switch (pdu.opcode()) {
            case SCSI_COMMAND -> scsi.onCommand(pdu, immediate);
            case TASK_MANAGEMENT_REQUEST -> taskManagement.onRequest(pdu, immediate);
            case TEXT_REQUEST -> {
                text.onRequest(pdu);
                session.windowDone(immediate);
            }
            case LOGOUT_REQUEST -> logout.onRequest(pdu, immediate);
            case NOP_OUT -> {
                keepAlive.answer(pdu);
                session.windowDone(immediate);
            }
            default -> throw new IllegalStateException(pdu.opcode().name());
        }
    }

    /** The server's tick in this phase: keep-alive pings. */
    void tick(final long now, final long lastReceiveNanos) {
        keepAlive.tick(now, lastReceiveNanos);
    }

    /** The connection closed: running tasks finish without a response. */
    void abortAll() {
        tasks.abortAll();
    }
}
