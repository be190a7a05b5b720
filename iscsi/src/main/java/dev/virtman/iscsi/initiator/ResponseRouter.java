package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.AsyncMessageHeader;
import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.DataInHeader;
import dev.virtman.iscsi.pdu.NopInHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.RejectHeader;
import dev.virtman.iscsi.pdu.ScsiResponseHeader;
import dev.virtman.iscsi.pdu.SerialNumbers;
import dev.virtman.scsi.ScsiStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of an {@link IscsiSession}: one reader thread per connection routes every
 * PDU the target sends in full feature phase by its Initiator Task Tag (RFC 7143 §11.7, §11.4),
 * assembles Data-In into the waiting command's buffer, completes it from its status, answers
 * the target's NOP-In pings, and tracks ExpStatSN. A target that lies (data past the buffer, a
 * residual it cannot have, an opcode a target never sends) loses its connection: at
 * ErrorRecoveryLevel 0 the session recovers by reconnecting (§7.8).
 */
final class ResponseRouter {

    private static final Logger LOG = LoggerFactory.getLogger(ResponseRouter.class);

    /** Async events (§11.9.1): 1 = target asks for logout, 2/3 = target drops connection(s). */
    private static final int ASYNC_LOGOUT_REQUESTED = 1;
    private static final int ASYNC_DROP_CONNECTION = 2;
    private static final int ASYNC_DROP_ALL = 3;
    /** SenseLength prefix of a SCSI Response's data segment (§11.4.7.2). */
    private static final int SENSE_LENGTH_BYTES = 2;

    private final IscsiSession session;
    private final TaskTable tasks;
    private final CommandWindow window;
    private final SessionLiveness liveness;
    private final String targetName;
    private volatile int expStatSN;
    private volatile CompletableFuture<Void> logoutResponse;
    /** Who reads the current connection. */
    private volatile ReceiveTurn current;
    /** Platform threads inside {@link IscsiSession#await}. */
    private final AtomicInteger platformWaiters = new AtomicInteger();
    /** Commands whose answer the waiting caller read itself (see {@link ReceiveTurn}). */
    private final java.util.concurrent.atomic.LongAdder answeredInCaller = new java.util.concurrent.atomic.LongAdder();

    ResponseRouter(final IscsiSession session, final TaskTable tasks, final CommandWindow window,
                   final SessionLiveness liveness) {
        this.session = session;
        this.tasks = tasks;
        this.window = window;
        this.liveness = liveness;
        this.targetName = session.targetName();
    }

    /** The ExpStatSN our PDUs acknowledge. */
    int expStatSN() {
        return expStatSN;
    }

    /** A new login: the next status expected follows the login response's StatSN. */
    void loggedIn(final int statSN) {
        expStatSN = statSN + 1;
    }

    /** Completes when a Logout Response arrives. */
    CompletableFuture<Void> expectLogoutResponse() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        logoutResponse = done;
        readerResumes();
        return done;
    }

    /** Starts the reader of {@code c} (the connection of {@code readerEpoch}). */
    void start(final InitiatorConnection c, final int readerEpoch) {
        ReceiveTurn turn = new ReceiveTurn(c, readerEpoch);
        current = turn;
        // The initiator's name in the thread's name lets a profile or a CPU meter tell sessions apart
        // (the storm bench counts its emulated VMs' receive cost apart from the agents').
        Thread reader = new Thread(() -> readLoop(turn),
                "iscsi-reader-" + session.options().initiatorName() + ">" + targetName);
        reader.setDaemon(true);
        reader.start();
    }

    private void readLoop(final ReceiveTurn turn) {
        InitiatorConnection c = turn.connection();
        try {
            while (true) {
                turn.readerTakes(Thread.currentThread());
                boolean standAside = false;
                try {
                    while (!standAside) {
                        receiveOne(turn);
                        // A platform thread waited for what was just completed, and nothing else is
                        // outstanding: let that thread read its next answer itself (ReceiveTurn).
                        standAside = platformWaiters.get() > 0 && tasks.size() == 0;
                    }
                } catch (IOException | RuntimeException e) {
                    turn.readerLeaves();
                    throw e;
                }
                turn.readerStandsAside();
            }
        } catch (IOException e) {
            session.connectionLost(c, e);
        } catch (RuntimeException e) {
            LOG.error("bug in the iSCSI reader for {}", targetName, e);
            session.connectionLost(c, new IscsiException("internal error in the reader: " + e, e));
        }
    }

    /** Reads and dispatches one PDU; the caller holds {@code turn}. */
    private void receiveOne(final ReceiveTurn turn) throws IOException {
        Pdu pdu = turn.connection().receive();
        liveness.received(System.nanoTime());
        dispatch(turn.connection(), turn.epoch(), pdu);
    }

    /**
     * Called by a thread about to wait for {@code command} (see {@link ReceiveTurn}): if the
     * reader stands aside, reads and dispatches PDUs on this thread until {@code command} is
     * done or the connection fails. False if this thread did not read (someone else does).
     */
    boolean receiveUntilDone(final CompletableFuture<?> command) {
        ReceiveTurn turn = current;
        if (turn == null || !turn.callerTakes()) {
            return false;
        }
        try {
            while (!command.isDone()) {
                receiveOne(turn);
            }
            answeredInCaller.increment();
        } catch (IOException e) {
            session.connectionLost(turn.connection(), e);
        } catch (RuntimeException e) {
            LOG.error("bug in the iSCSI receive for {}", targetName, e);
            session.connectionLost(turn.connection(), new IscsiException("internal error in the reader: " + e, e));
        } finally {
            turn.callerReleases(tasks.size() > 0);
        }
        return true;
    }

    /** Commands whose answer the thread waiting for it read itself, rather than the reader. */
    long answeredInCaller() {
        return answeredInCaller.sum();
    }

    /** A platform thread starts (+1) or stops (-1) waiting in {@link IscsiSession#await}. */
    void platformWaiting(final int delta) {
        platformWaiters.addAndGet(delta);
    }

    /** Something is expected that no caller may read (a ping's answer, a Logout Response): the reader reads. */
    void readerResumes() {
        ReceiveTurn turn = current;
        if (turn != null) {
            turn.resume();
        }
    }

    /** The session's timer tick (see {@link ReceiveTurn#tick}). */
    void tick() {
        ReceiveTurn turn = current;
        if (turn != null) {
            turn.tick();
        }
    }

    private void dispatch(final InitiatorConnection c, final int readerEpoch, final Pdu pdu) throws IOException {
        Opcode op = pdu.opcode();
        if (op == null) {
            throw new IscsiException(String.format("target sent undefined opcode 0x%02x", pdu.header().opcodeCode()));
        }
        switch (op) {
            case DATA_IN -> onDataIn(readerEpoch, new DataInHeader(pdu.bhs()), pdu.data());
            case SCSI_RESPONSE -> onScsiResponse(readerEpoch, new ScsiResponseHeader(pdu.bhs()), pdu.data());
            case NOP_IN -> onNopIn(c, new NopInHeader(pdu.bhs()));
            case REJECT -> onReject(new RejectHeader(pdu.bhs()), pdu.data());
            case ASYNC_MESSAGE -> onAsyncMessage(c, new AsyncMessageHeader(pdu.bhs()));
            case LOGOUT_RESPONSE -> {
                CompletableFuture<Void> f = logoutResponse;
                if (f != null) {
                    f.complete(null);
                }
            }
            default -> throw new IscsiException("target sent unexpected " + op + " in full feature phase");
        }
    }

    private void onDataIn(final int readerEpoch, final DataInHeader h, final ByteBuffer data) throws IscsiException {
        window.update(h.expCmdSN(), h.maxCmdSN());
        PendingCommand command = tasks.get(h.initiatorTaskTag());
        if (command == null) {
            LOG.debug("Data-In for unknown task 0x{}", Integer.toHexString(h.initiatorTaskTag()));
            return;
        }
        try {
            if (!command.acceptData(readerEpoch, h.dataSN(), h.bufferOffset(), data)) {
                return;
            }
        } catch (IscsiException e) {
            IscsiException failure = new IscsiException(command + ": " + e.getMessage(), e);
            command.fail(failure);
            throw failure; // a lying target: end this connection too (§7.8: ERL 0 recovers by session)
        }
        if (h.statusPresent()) {
            advanceStatSN(h.statSN());
            finish(readerEpoch, command, h.status(), h.residualUnderflow(), h.residualOverflow(), h.residualCount(), null);
        }
    }

    private void onScsiResponse(final int readerEpoch, final ScsiResponseHeader h, final ByteBuffer data)
            throws IscsiException {
        window.update(h.expCmdSN(), h.maxCmdSN());
        advanceStatSN(h.statSN());
        PendingCommand command = tasks.get(h.initiatorTaskTag());
        if (command == null || !command.answerableIn(readerEpoch)) {
            return;
        }
        if (h.response() != ScsiResponseHeader.RESPONSE_COMPLETED) {
            // §11.4.3: "target failure" — the command did not complete at the target
            command.fail(new IscsiException(command + ": target reported iSCSI response 0x"
                    + Integer.toHexString(h.response())));
            return;
        }
        ByteBuffer sense = null;
        if (data.remaining() >= SENSE_LENGTH_BYTES) {
            int senseLength = data.getShort(data.position()) & 0xffff;
            int available = Math.min(senseLength, data.remaining() - SENSE_LENGTH_BYTES);
            sense = data.slice(data.position() + SENSE_LENGTH_BYTES, available);
        }
        finish(readerEpoch, command, h.status(), h.residualUnderflow(), h.residualOverflow(), h.residualCount(), sense);
    }

    /** Completes a command from its status (final Data-In with S bit, or SCSI Response). */
    private void finish(final int readerEpoch, final PendingCommand command, final int status, final boolean underflow,
                        final boolean overflow, final int residual, final ByteBuffer sense) throws IscsiException {
        if (!command.answerableIn(readerEpoch)) {
            return;
        }
        if (status == ScsiStatus.CHECK_CONDITION.code()) {
            command.fail(ScsiCheckConditionException.fromSense(command.label,
                    sense == null ? ByteBuffer.allocate(0) : sense));
            return;
        }
        if (status != ScsiStatus.GOOD.code()) {
            command.fail(ScsiStatusException.of(command.label, status));
            return;
        }
        int expected = command.expectedLength();
        long residualBytes = Integer.toUnsignedLong(residual);
        if (underflow && residualBytes > expected) {
            IscsiException e = new IscsiException(command + ": residual underflow of " + residualBytes
                    + " bytes exceeds the expected transfer length " + expected);
            command.fail(e);
            throw e;
        }
        int transferred = underflow ? expected - (int) residualBytes : expected;
        int received = command.received();
        if (received != transferred) {
            IscsiException e = new IscsiException(command + ": target reported " + transferred
                    + " bytes transferred but sent " + received);
            command.fail(e);
            throw e;
        }
        command.succeed(transferred);
    }

    private void onNopIn(final InitiatorConnection c, final NopInHeader h) {
        window.update(h.expCmdSN(), h.maxCmdSN());
        if (h.initiatorTaskTag() != BasicHeaderSegment.RESERVED_TAG) {
            advanceStatSN(h.statSN()); // an answer to our ping carries a StatSN (§11.19.3)
            liveness.answered(h.initiatorTaskTag());
        }
        if (h.targetTransferTag() != BasicHeaderSegment.RESERVED_TAG) {
            // §11.19.2: the target pings us; echo its TTT and LUN in an immediate NOP-Out
            session.sendImmediate(c, session.nopOut(BasicHeaderSegment.RESERVED_TAG, h.targetTransferTag(), h.lun()));
            liveness.targetPinged();
        }
    }

    private void onReject(final RejectHeader h, final ByteBuffer data) {
        window.update(h.expCmdSN(), h.maxCmdSN());
        if (data.remaining() < BasicHeaderSegment.LENGTH) {
            LOG.warn("{}: Reject (reason 0x{}) without the rejected header", targetName, Integer.toHexString(h.reason()));
            return;
        }
        int tag = data.getInt(data.position() + BasicHeaderSegment.INITIATOR_TASK_TAG_OFFSET);
        PendingCommand command = tasks.get(tag);
        String why = "target rejected the PDU, reason 0x" + Integer.toHexString(h.reason());
        if (command != null) {
            command.fail(new IscsiException(command + ": " + why));
        } else {
            LOG.warn("{}: {} (task 0x{})", targetName, why, Integer.toHexString(tag));
        }
    }

    private void onAsyncMessage(final InitiatorConnection c, final AsyncMessageHeader h) {
        window.update(h.expCmdSN(), h.maxCmdSN());
        advanceStatSN(h.statSN());
        int event = h.asyncEvent();
        if (event == ASYNC_LOGOUT_REQUESTED || event == ASYNC_DROP_CONNECTION || event == ASYNC_DROP_ALL) {
            // We cannot keep this connection; recover onto a fresh one (reissue covers the rest).
            session.connectionLost(c, new IscsiException("target asked us to leave (async event " + event + ")"));
        } else {
            LOG.info("{}: async event {} ignored", targetName, event);
        }
    }

    private void advanceStatSN(final int statSN) {
        int next = statSN + 1;
        if (SerialNumbers.greaterThan(next, expStatSN)) {
            expStatSN = next;
        }
    }
}
