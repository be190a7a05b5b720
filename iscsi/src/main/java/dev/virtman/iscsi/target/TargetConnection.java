package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.LoginNegotiator;
import dev.virtman.iscsi.login.LoginResult;
import dev.virtman.iscsi.login.SessionParameters;
import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.DataOutHeader;
import dev.virtman.iscsi.pdu.DecodeError;
import dev.virtman.iscsi.pdu.DecodeResult;
import dev.virtman.iscsi.pdu.LoginRequestHeader;
import dev.virtman.iscsi.pdu.LogoutRequestHeader;
import dev.virtman.iscsi.pdu.LogoutResponseHeader;
import dev.virtman.iscsi.pdu.NopInHeader;
import dev.virtman.iscsi.pdu.NopOutHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduDecoder;
import dev.virtman.iscsi.pdu.PduEncoder;
import dev.virtman.iscsi.pdu.ReadyToTransferHeader;
import dev.virtman.iscsi.pdu.RejectHeader;
import dev.virtman.iscsi.pdu.RejectReason;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import dev.virtman.iscsi.pdu.SerialNumbers;
import dev.virtman.iscsi.pdu.TaskManagementFunction;
import dev.virtman.iscsi.pdu.TaskManagementRequestHeader;
import dev.virtman.iscsi.pdu.TaskManagementResponseHeader;
import dev.virtman.iscsi.pdu.TextAssembler;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import dev.virtman.iscsi.pdu.TextRequestHeader;
import dev.virtman.iscsi.pdu.TextResponseHeader;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One iSCSI connection on the target side, and (MaxConnections=1) its session. A single reader
 * (this runnable) decodes PDUs and acts on them in arrival order; SCSI commands run on worker
 * virtual threads because {@code ScsiCommandExecutor.execute} may block; every outgoing PDU goes
 * through the connection's {@link ResponseWriter}.
 *
 * <p>Phases: login ({@link LoginNegotiator}), full feature phase (normal or discovery session),
 * logged out, closed. Failures are contained: a malformed PDU gets a Reject (RFC 7143 §11.17) or,
 * when framing is lost, closes this connection only.
 */
final class TargetConnection implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(TargetConnection.class);

    /** Bytes per socket read; the decoder copies across reads, so a PDU need not fit. */
    private static final int READ_BUFFER_SIZE = 128 * 1024;
    private static final int RESERVED_TAG = BasicHeaderSegment.RESERVED_TAG;
    /** Extended CDB AHS type (§11.2.2.3). */
    private static final int AHS_TYPE_EXTENDED_CDB = 1;
    private static final int AHS_LENGTH_FIELD = 2;
    private static final int AHS_HEADER_LENGTH = 3;
    private static final int AHS_ALIGNMENT = 4;
    /** Aborted task tags remembered so their late Data-Out PDUs are dropped quietly. */
    private static final int RECENTLY_ABORTED_LIMIT = 1024;
    /** How long logout and task management wait for running commands to finish. */
    private static final long DRAIN_TIMEOUT_SECONDS = 30;
    /** ASC/ASCQ "DATA PHASE ERROR" (SPC-4 Annex D). */
    private static final int ASC_DATA_PHASE_ERROR = 0x4b;
    /** ASC/ASCQ "INVALID FIELD IN CDB" for bidirectional commands, which we do not implement. */
    private static final int ASC_INVALID_FIELD_IN_CDB = 0x24;

    private enum Phase { LOGIN, FULL_FEATURE, LOGGED_OUT, CLOSED }

    private final TargetContext context;
    private final SocketChannel channel;
    private final PduDecoder decoder = new PduDecoder();
    private final PduEncoder encoder = new PduEncoder();
    private final ResponseWriter writer;
    private final LoginNegotiator login;
    private final Map<Integer, ScsiTask> tasks = new ConcurrentHashMap<>();
    private final LinkedHashSet<Integer> recentlyAborted = new LinkedHashSet<>();
    private final TextAssembler textIn = new TextAssembler();
    private final long acceptedNanos = System.nanoTime();
    private final AtomicBoolean sessionCounted = new AtomicBoolean();

    private volatile Phase phase = Phase.LOGIN;
    private volatile long loggedOutNanos;
    private volatile long lastReceiveNanos = acceptedNanos;
    private volatile long pingSentNanos;
    private volatile int pingTag = RESERVED_TAG;
    private CommandWindow window;
    private LoginResult session;
    private SessionParameters parameters;
    /** Written by the reader thread at login; read by {@link #servesTarget} from the server. */
    private volatile ExportedTarget target;
    private SessionRegistry.SessionKey sessionKey;
    private int nextTransferTag = 1;
    private ByteBuffer pendingTextOut;
    private int pendingTextTag = RESERVED_TAG;

    TargetConnection(final TargetContext context, final SocketChannel channel) {
        this.context = context;
        this.channel = channel;
        this.writer = new ResponseWriter(channel, encoder, context.tuning().maxQueuedOutputBytes(),
                n -> { }, this::onWriterClosed, context.pause());
        this.login = new LoginNegotiator(name -> {
            ExportedTarget t = context.targets().get(name);
            return t == null ? null : t.loginTarget();
        }, context.tuning().login(), context.sessions()::allocateTsih, context.random());
    }

    // ---------------------------------------------------------------- reading

    @Override
    public void run() {
        context.metrics().openConnections.incrementAndGet();
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Thread.ofVirtual().name("iscsi-writer").start(writer);
            readLoop();
        } catch (IOException e) {
            LOG.debug("connection read ended: {}", e.toString());
        } catch (RuntimeException e) {
            LOG.warn("connection failed", e);
        } finally {
            if (phase == Phase.LOGGED_OUT) {
                writer.closeAfterDrain(); // a Reject or Logout Response is still to go out
            } else {
                close();
            }
            context.metrics().openConnections.decrementAndGet();
        }
    }

    private void readLoop() throws IOException {
        ByteBuffer in = ByteBuffer.allocateDirect(READ_BUFFER_SIZE); // direct: no JDK bounce buffer per read
        while (phase != Phase.CLOSED) {
            context.pause().awaitRunning();
            if (channel.read(in) < 0) {
                return;
            }
            lastReceiveNanos = System.nanoTime();
            in.flip();
            while (phase != Phase.CLOSED) {
                DecodeResult r = decoder.decode(in);
                if (r instanceof DecodeResult.Decoded d) {
                    context.pause().awaitRunning();
                    handle(d.pdu());
                } else if (r instanceof DecodeResult.Malformed m) {
                    if (!onMalformed(m)) {
                        return;
                    }
                } else {
                    break;
                }
            }
            in.compact();
        }
    }

    /** Returns whether reading may go on. */
    private boolean onMalformed(final DecodeResult.Malformed m) {
        LOG.info("malformed PDU from {}: {}", remote(), m.error());
        if (phase == Phase.FULL_FEATURE && m.bhs() != null) {
            reject(m.error() == DecodeError.DATA_DIGEST_MISMATCH ? RejectReason.DATA_DIGEST_ERROR
                    : RejectReason.PROTOCOL_ERROR, m.bhs());
        }
        if (m.error().streamStillFramed()) {
            return true;
        }
        enterLoggedOut();
        writer.closeAfterDrain();
        return false;
    }

    private void handle(final Pdu pdu) {
        switch (phase) {
            case LOGIN -> onLogin(pdu);
            case FULL_FEATURE -> onFullFeature(pdu);
            default -> LOG.debug("ignoring {} after logout", pdu);
        }
    }

    // ---------------------------------------------------------------- login

    private void onLogin(final Pdu pdu) {
        if (pdu.opcode() != Opcode.LOGIN_REQUEST) {
            // §6.3: only Login Requests before the full feature phase; nothing to answer with
            LOG.info("{} sent {} during login; closing", remote(), pdu.opcode());
            close();
            return;
        }
        if (window == null) {
            LoginRequestHeader req = new LoginRequestHeader(pdu.bhs());
            window = new CommandWindow(req.cmdSN(), context.tuning().commandWindow());
            writer.window(window);
            writer.initialStatSN(context.random().nextInt());
        }
        LoginNegotiator.Step step = login.onRequest(pdu);
        switch (step) {
            case LoginNegotiator.Step.Continue c -> writer.send(new ResponseWriter.Outbound(c.response(),
                    ResponseWriter.Sequencing.STATUS));
            case LoginNegotiator.Step.Fail f -> {
                context.metrics().loginFailures.increment();
                enterLoggedOut();
                writer.send(new ResponseWriter.Outbound(f.response(), ResponseWriter.Sequencing.STATUS));
                writer.closeAfterDrain();
            }
            case LoginNegotiator.Step.Complete c -> completeLogin(c);
        }
    }

    private void completeLogin(final LoginNegotiator.Step.Complete c) {
        session = c.result();
        parameters = session.parameters();
        target = session.discovery() ? null : context.targets().get(session.target().iqn());
        if (!session.discovery() && target == null) {
            // The target was removed (a volume deleted) while this login was negotiating.
            LOG.info("{}: target {} went away during login; closing", remote(), session.target().iqn());
            close();
            return;
        }
        decoder.maxDataSegmentLength(parameters.targetMaxRecvDataSegmentLength());
        decoder.headerDigest(parameters.headerDigest());
        decoder.dataDigest(parameters.dataDigest());
        boolean headerDigest = parameters.headerDigest();
        boolean dataDigest = parameters.dataDigest();
        phase = Phase.FULL_FEATURE;
        if (!session.discovery()) {
            sessionKey = new SessionRegistry.SessionKey(session.initiatorName(), session.isid(), target.iqn());
            TargetConnection old = context.sessions().register(sessionKey, this);
            if (old != null) {
                LOG.info("session reinstatement for {}: closing the old connection", sessionKey);
                old.close();
            }
        }
        context.metrics().openSessions.incrementAndGet();
        sessionCounted.set(true);
        LOG.info("{} logged in: {} session{} from {}, {}", session.initiatorName(),
                session.discovery() ? "discovery" : "normal",
                session.discovery() ? "" : " to " + target.iqn(), remote(), parameters);
        // Digests start with the first PDU after the final login response (§13.1)
        writer.send(new ResponseWriter.Outbound(c.response(), ResponseWriter.Sequencing.STATUS, () -> {
            encoder.headerDigest(headerDigest);
            encoder.dataDigest(dataDigest);
        }));
    }

    // ---------------------------------------------------------------- full feature phase

    private void onFullFeature(final Pdu pdu) {
        Opcode op = pdu.opcode();
        if (op == null || !op.isInitiatorOpcode()) {
            reject(RejectReason.COMMAND_NOT_SUPPORTED, pdu.bhs());
            return;
        }
        switch (op) {
            case NOP_OUT -> onNopOut(pdu);
            case SCSI_COMMAND -> ordered(pdu);
            case TASK_MANAGEMENT_REQUEST, TEXT_REQUEST, LOGOUT_REQUEST -> ordered(pdu);
            case DATA_OUT -> onDataOut(pdu);
            case LOGIN_REQUEST -> reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            case SNACK_REQUEST -> reject(RejectReason.PROTOCOL_ERROR, pdu.bhs()); // ErrorRecoveryLevel 0
            default -> reject(RejectReason.COMMAND_NOT_SUPPORTED, pdu.bhs());
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
            case SCSI_COMMAND -> onScsiCommand(pdu, immediate);
            case TASK_MANAGEMENT_REQUEST -> onTaskManagement(pdu, immediate);
            case TEXT_REQUEST -> {
                onText(pdu);
                windowDone(immediate);
            }
            case LOGOUT_REQUEST -> onLogout(pdu, immediate);
            case NOP_OUT -> {
                answerNopOut(pdu);
                windowDone(immediate);
            }
            default -> throw new IllegalStateException(pdu.opcode().name());
        }
    }

    private void windowDone(final boolean immediate) {
        if (!immediate) {
            window.finished();
        }
    }

    // ---------------------------------------------------------------- NOP

    private void onNopOut(final Pdu pdu) {
        NopOutHeader h = new NopOutHeader(pdu.bhs());
        if (h.initiatorTaskTag() == RESERVED_TAG) {
            // An answer to our NOP-In (§11.18.3), or a ping that wants no answer; never advances CmdSN.
            if (h.targetTransferTag() != RESERVED_TAG && h.targetTransferTag() == pingTag) {
                pingTag = RESERVED_TAG;
            }
            return;
        }
        ordered(pdu);
    }

    private void answerNopOut(final Pdu pdu) {
        NopOutHeader req = new NopOutHeader(pdu.bhs());
        NopInHeader resp = NopInHeader.create().targetTransferTag(RESERVED_TAG);
        resp.initiatorTaskTag(req.initiatorTaskTag());
        resp.lun(req.lun());
        ByteBuffer ping = pdu.data();
        if (ping.remaining() > parameters.initiatorMaxRecvDataSegmentLength()) {
            ping = ping.slice(ping.position(), parameters.initiatorMaxRecvDataSegmentLength());
        }
        writer.send(new ResponseWriter.Outbound(Pdu.of(resp, ping), ResponseWriter.Sequencing.STATUS));
    }

    // ---------------------------------------------------------------- SCSI commands

    private void onScsiCommand(final Pdu pdu, final boolean immediate) {
        ScsiCommandHeader h = new ScsiCommandHeader(pdu.bhs());
        if (session.discovery()) {
            // §4.3: a discovery session carries only Text and Logout requests
            reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            windowDone(immediate);
            return;
        }
        int itt = h.initiatorTaskTag();
        ByteBuffer cdb = cdb(pdu);
        ByteBuffer data = pdu.data();
        int expected = h.expectedDataTransferLength();
        if (cdb == null || itt == RESERVED_TAG || expected < 0 || (data.hasRemaining() && !h.write())) {
            reject(RejectReason.INVALID_PDU_FIELD, pdu.bhs());
            windowDone(immediate);
            return;
        }
        if (tasks.containsKey(itt)) {
            reject(RejectReason.TASK_IN_PROGRESS, pdu.bhs());
            windowDone(immediate);
            return;
        }
        context.metrics().commands.increment();
        ScsiTask task = new ScsiTask(itt, h.lun(), cdb, expected, h.read(), h.write(), immediate, h.cmdSN());
        tasks.put(itt, task);
        if (h.read() && h.write()) {
            // bidirectional commands need a second buffer our executor contract does not have
            finishWithStatus(task, ResponseBuilder.STATUS_CHECK_CONDITION,
                    ResponseBuilder.sense(ResponseBuilder.SENSE_KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0));
            return;
        }
        if (!h.write() || expected == 0) {
            execute(task, null);
            return;
        }
        int immediateLength = data.remaining();
        int unsolicitedLimit = parameters.immediateData() ? WriteTransfer.unsolicitedLimit(expected, parameters) : 0;
        if (immediateLength > unsolicitedLimit || immediateLength > expected) {
            tasks.remove(itt);
            reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            windowDone(immediate);
            return;
        }
        context.metrics().bytesWritten.increment(immediateLength);
        int units = context.budget().unitsFor(expected);
        ByteBuffer buffer = null;
        if (context.budget().tryAcquire(units, 0)) {
            task.budgetUnits = units;
            buffer = ByteBuffer.allocate(expected);
        } else {
            LOG.debug("data budget exhausted; write ITT 0x{} will get BUSY", Integer.toHexString(itt));
        }
        task.transfer = new WriteTransfer(expected, data, parameters, buffer);
        continueWrite(task);
    }

    /** Sends the R2Ts the transfer allows now, or runs the command once all its data is in. */
    private void continueWrite(final ScsiTask task) {
        WriteTransfer t = task.transfer;
        if (t.complete()) {
            if (t.discarding()) {
                finishWithStatus(task, ResponseBuilder.STATUS_BUSY, null);
            } else {
                execute(task, t.buffer());
            }
            return;
        }
        List<WriteTransfer.R2tRequest> r2ts = t.nextR2Ts(this::allocateTransferTag);
        if (r2ts.isEmpty()) {
            return;
        }
        List<ResponseWriter.Outbound> out = new ArrayList<>(r2ts.size());
        for (WriteTransfer.R2tRequest r : r2ts) {
            ReadyToTransferHeader r2t = ReadyToTransferHeader.create()
                    .targetTransferTag(r.targetTransferTag())
                    .r2tSN(r.r2tSN())
                    .bufferOffset(r.bufferOffset())
                    .desiredDataTransferLength(r.length());
            r2t.initiatorTaskTag(task.initiatorTaskTag);
            r2t.lun(task.lun);
            out.add(new ResponseWriter.Outbound(Pdu.of(r2t), ResponseWriter.Sequencing.PEEK_STAT_SN));
        }
        writer.sendAll(out);
    }

    private int allocateTransferTag() {
        int tag = nextTransferTag++;
        if (tag == RESERVED_TAG) {
            tag = nextTransferTag++;
        }
        return tag;
    }

    private void onDataOut(final Pdu pdu) {
        DataOutHeader h = new DataOutHeader(pdu.bhs());
        ScsiTask task = tasks.get(h.initiatorTaskTag());
        if (task == null || task.transfer == null) {
            synchronized (recentlyAborted) {
                if (recentlyAborted.contains(h.initiatorTaskTag())) {
                    return; // late data of an aborted task: discard silently
                }
            }
            reject(RejectReason.INVALID_PDU_FIELD, pdu.bhs());
            return;
        }
        String error = task.transfer.accept(h.targetTransferTag(), h.dataSN(), h.bufferOffset(), h.finalFlag(),
                pdu.data());
        if (error != null) {
            LOG.info("ITT 0x{}: {}", Integer.toHexString(task.initiatorTaskTag), error);
            reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            // The task cannot complete; end it with CHECK CONDITION / DATA PHASE ERROR
            task.transfer = null;
            finishWithStatus(task, ResponseBuilder.STATUS_CHECK_CONDITION,
                    ResponseBuilder.sense(ResponseBuilder.SENSE_KEY_ABORTED_COMMAND, ASC_DATA_PHASE_ERROR, 0));
            return;
        }
        context.metrics().bytesWritten.increment(pdu.data().remaining());
        continueWrite(task);
    }

    /** The CDB: 16 bytes from the BHS, plus an extended-CDB AHS if present (§11.2.2.3). */
    private static ByteBuffer cdb(final Pdu pdu) {
        ByteBuffer ahs = pdu.ahs();
        byte[] base = new ScsiCommandHeader(pdu.bhs()).cdb();
        int i = ahs.position();
        while (i + AHS_HEADER_LENGTH <= ahs.limit()) {
            int length = ahs.getShort(i) & 0xffff;
            int type = ahs.get(i + AHS_LENGTH_FIELD) & 0xff;
            if (type == AHS_TYPE_EXTENDED_CDB) {
                int extra = length - 1; // the AHS-specific part begins with a reserved byte
                if (extra <= 0 || i + AHS_HEADER_LENGTH + 1 + extra > ahs.limit()) {
                    return null;
                }
                ByteBuffer cdb = ByteBuffer.allocate(base.length + extra);
                cdb.put(base).put(ahs.slice(i + AHS_HEADER_LENGTH + 1, extra));
                return cdb.flip();
            }
            i += (AHS_HEADER_LENGTH + length + AHS_ALIGNMENT - 1) & -AHS_ALIGNMENT;
        }
        return ByteBuffer.wrap(base);
    }

    /** Runs the task's command on a worker and queues its response. */
    private void execute(final ScsiTask task, final ByteBuffer dataOut) {
        context.workers().execute(() -> runTask(task, dataOut));
    }

    private void runTask(final ScsiTask task, final ByteBuffer dataOut) {
        int readUnits = task.read ? context.budget().unitsFor(task.expectedLength) : 0;
        if (!context.budget().acquire(readUnits)) {
            readUnits = 0;
        }
        synchronized (task) {
            if (task.aborted) {
                context.budget().release(readUnits);
                return;
            }
            task.executing = true;
        }
        ScsiResponse response;
        try {
            ScsiCommand command = new ScsiCommand(task.lun, task.cdb, task.expectedLength, dataOut);
            target.observer().beforeExecute(session.initiatorName(), command);
            response = target.executor().execute(command);
        } catch (RuntimeException e) {
            LOG.warn("executor failed for ITT 0x{}", Integer.toHexString(task.initiatorTaskTag), e);
            response = new ScsiResponse(ResponseBuilder.STATUS_CHECK_CONDITION, null,
                    ResponseBuilder.sense(ResponseBuilder.SENSE_KEY_ABORTED_COMMAND, 0, 0));
        }
        releaseWriteBudget(task);
        int units = readUnits;
        if (task.aborted || phase == Phase.CLOSED) {
            context.budget().release(units);
            finishTask(task, List.of());
            return;
        }
        int r2ts = task.transfer == null ? 0 : task.transfer.r2tCount();
        List<ResponseWriter.Outbound> out = ResponseBuilder.build(task, response, parameters, r2ts,
                () -> context.budget().release(units));
        long sent = 0;
        for (ResponseWriter.Outbound o : out) {
            if (o.pdu().opcode() == Opcode.DATA_IN) {
                sent += o.pdu().data().remaining();
            }
        }
        context.metrics().bytesRead.increment(sent);
        finishTask(task, out);
    }

    private void releaseWriteBudget(final ScsiTask task) {
        int units;
        synchronized (task) {
            units = task.budgetUnits;
            task.budgetUnits = 0;
        }
        context.budget().release(units);
    }

    /** Ends a task without running it, answering with {@code status}. */
    private void finishWithStatus(final ScsiTask task, final int status, final byte[] sense) {
        releaseWriteBudget(task);
        int r2ts = task.transfer == null ? 0 : task.transfer.r2tCount();
        finishTask(task, List.of(ResponseBuilder.status(task, status, sense, r2ts)));
    }

    /**
     * The single exit of a task: forget its tag (the initiator may reuse it once it sees the
     * response), open the window by one, queue the response PDUs.
     */
    private void finishTask(final ScsiTask task, final List<ResponseWriter.Outbound> response) {
        tasks.remove(task.initiatorTaskTag, task);
        windowDone(task.immediate);
        if (!response.isEmpty()) {
            writer.sendAll(response);
        }
        task.done.complete(null);
    }

    // ---------------------------------------------------------------- task management

    private void onTaskManagement(final Pdu pdu, final boolean immediate) {
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
                    } else if (t == null && !SerialNumbers.lessThan(req.refCmdSN(), window.expCmdSN())) {
                        // §11.5.1: a task the target has not seen yet counts as aborted
                        response = TaskManagementFunction.RESPONSE_COMPLETE;
                    } else {
                        response = TaskManagementFunction.RESPONSE_TASK_DOES_NOT_EXIST;
                    }
                }
                case TaskManagementFunction.ABORT_TASK_SET, TaskManagementFunction.CLEAR_TASK_SET,
                     TaskManagementFunction.LOGICAL_UNIT_RESET ->
                        tasks.values().stream().filter(t -> t.lun == req.lun()).forEach(affected::add);
                case TaskManagementFunction.TARGET_WARM_RESET -> affected.addAll(tasks.values());
                case TaskManagementFunction.TARGET_COLD_RESET -> {
                    affected.addAll(tasks.values());
                    closeAfter = true; // §11.5.1: a cold reset also drops the connection
                }
                case TaskManagementFunction.CLEAR_ACA -> response = TaskManagementFunction.RESPONSE_FUNCTION_NOT_SUPPORTED;
                case TaskManagementFunction.TASK_REASSIGN ->
                        response = TaskManagementFunction.RESPONSE_REASSIGNMENT_NOT_SUPPORTED;
                default -> response = TaskManagementFunction.RESPONSE_REJECTED;
            }
        }
        for (ScsiTask t : affected) {
            abort(t);
        }
        int finalResponse = response;
        boolean close = closeAfter;
        CompletableFuture<?>[] waits = affected.stream().map(t -> t.done).toArray(CompletableFuture[]::new);
        // Answer only once the aborted tasks have stopped, so no response of theirs follows ours (§4.2.3.?).
        CompletableFuture.allOf(waits).orTimeout(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS).whenComplete((v, e) -> {
            TaskManagementResponseHeader resp = TaskManagementResponseHeader.create().response(finalResponse);
            resp.initiatorTaskTag(req.initiatorTaskTag());
            windowDone(immediate);
            writer.send(new ResponseWriter.Outbound(Pdu.of(resp), ResponseWriter.Sequencing.STATUS));
            if (close) {
                enterLoggedOut();
                writer.closeAfterDrain();
            }
        });
    }

    /** Marks a task aborted; if it has not started running it ends now, else when the executor returns. */
    private void abort(final ScsiTask task) {
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
            finishTask(task, List.of());
        }
    }

    // ---------------------------------------------------------------- text

    private void onText(final Pdu pdu) {
        TextRequestHeader req = new TextRequestHeader(pdu.bhs());
        if (req.targetTransferTag() != RESERVED_TAG) {
            if (pendingTextOut == null || req.targetTransferTag() != pendingTextTag) {
                reject(RejectReason.INVALID_PDU_FIELD, pdu.bhs());
                return;
            }
            sendTextChunk(req);
            return;
        }
        pendingTextOut = null;
        if (!textIn.append(pdu.data())) {
            textIn.take();
            reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            return;
        }
        if (req.continueFlag()) {
            // §11.10.2: more text follows; answer empty so the initiator sends it
            TextResponseHeader resp = TextResponseHeader.create().targetTransferTag(allocateTransferTag());
            resp.finalFlag(false);
            resp.initiatorTaskTag(req.initiatorTaskTag());
            resp.lun(req.lun());
            writer.send(new ResponseWriter.Outbound(Pdu.of(resp), ResponseWriter.Sequencing.STATUS));
            return;
        }
        TextCodec.ParseResult parsed = TextCodec.decode(textIn.take());
        if (!(parsed instanceof TextCodec.ParseResult.Parsed p)) {
            reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            return;
        }
        List<TextParameter> answer = new ArrayList<>();
        for (TextParameter kv : p.parameters()) {
            if (kv.key().equals("SendTargets")) {
                answer.addAll(SendTargetsResponder.answer(kv.value(), session.discovery(), session.initiatorName(),
                        context.targets().all(),
                        target == null ? null : target.iqn(), advertisedPortal(),
                        context.tuning().login().targetPortalGroupTag()));
            } else {
                answer.add(new TextParameter(kv.key(), "NotUnderstood"));
            }
        }
        pendingTextOut = TextCodec.encode(answer);
        pendingTextTag = allocateTransferTag();
        sendTextChunk(req);
    }

    /** Sends the next piece of a Text Response, continuing (C bit) when it exceeds MaxRecvDataSegmentLength. */
    private void sendTextChunk(final TextRequestHeader req) {
        int max = parameters.initiatorMaxRecvDataSegmentLength();
        int n = Math.min(max, pendingTextOut.remaining());
        ByteBuffer chunk = pendingTextOut.slice(pendingTextOut.position(), n);
        pendingTextOut.position(pendingTextOut.position() + n);
        boolean more = pendingTextOut.hasRemaining();
        TextResponseHeader resp = TextResponseHeader.create().continueFlag(more)
                .targetTransferTag(more ? pendingTextTag : RESERVED_TAG);
        resp.finalFlag(!more);
        resp.initiatorTaskTag(req.initiatorTaskTag());
        resp.lun(req.lun());
        if (!more) {
            pendingTextOut = null;
            pendingTextTag = RESERVED_TAG;
        }
        writer.send(new ResponseWriter.Outbound(Pdu.of(resp, chunk), ResponseWriter.Sequencing.STATUS));
    }

    private InetSocketAddress advertisedPortal() {
        if (context.advertisedPortal() != null) {
            return context.advertisedPortal();
        }
        InetSocketAddress bound = context.boundPortal();
        if (!bound.getAddress().isAnyLocalAddress()) {
            return bound;
        }
        try {
            InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
            return new InetSocketAddress(local.getAddress(), bound.getPort());
        } catch (IOException e) {
            return bound;
        }
    }

    // ---------------------------------------------------------------- logout

    private void onLogout(final Pdu pdu, final boolean immediate) {
        LogoutRequestHeader req = new LogoutRequestHeader(pdu.bhs());
        int reason = req.reasonCode();
        int response;
        boolean closing;
        if (reason == LogoutRequestHeader.REASON_REMOVE_CONNECTION_FOR_RECOVERY) {
            response = LogoutResponseHeader.RESPONSE_RECOVERY_NOT_SUPPORTED; // ErrorRecoveryLevel 0
            closing = false;
        } else if (reason == LogoutRequestHeader.REASON_CLOSE_CONNECTION && req.cid() != session.cid()) {
            response = LogoutResponseHeader.RESPONSE_CID_NOT_FOUND;
            closing = false;
        } else if (reason > LogoutRequestHeader.REASON_REMOVE_CONNECTION_FOR_RECOVERY) {
            reject(RejectReason.INVALID_PDU_FIELD, pdu.bhs());
            windowDone(immediate);
            return;
        } else {
            response = LogoutResponseHeader.RESPONSE_CLOSED;
            closing = true;
        }
        if (closing) {
            enterLoggedOut();
        }
        CompletableFuture<?>[] running = tasks.values().stream().map(t -> t.done).toArray(CompletableFuture[]::new);
        // §6.5? the logout response follows the responses of the commands still running
        CompletableFuture.allOf(running).orTimeout(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS).whenComplete((v, e) -> {
            LogoutResponseHeader resp = LogoutResponseHeader.create().response(response).time2Wait(0).time2Retain(0);
            resp.initiatorTaskTag(req.initiatorTaskTag());
            windowDone(immediate);
            writer.send(new ResponseWriter.Outbound(Pdu.of(resp), ResponseWriter.Sequencing.STATUS));
            if (closing) {
                writer.closeAfterDrain();
            }
        });
    }

    // ---------------------------------------------------------------- reject, timers, close

    private void reject(final int reason, final ByteBuffer offendingBhs) {
        context.metrics().rejects.increment();
        RejectHeader h = RejectHeader.create().reason(reason);
        h.initiatorTaskTag(RESERVED_TAG);
        ByteBuffer copy = ByteBuffer.allocate(BasicHeaderSegment.LENGTH);
        copy.put(0, offendingBhs, 0, BasicHeaderSegment.LENGTH);
        writer.send(new ResponseWriter.Outbound(Pdu.of(h, copy), ResponseWriter.Sequencing.STATUS));
    }

    /** Called about once a second by the server: login timeout and idle-connection pings (§11.19). */
    void tick(final long now) {
        TargetTuning tuning = context.tuning();
        Phase p = phase;
        if (p == Phase.LOGIN && now - acceptedNanos > tuning.loginTimeout().toNanos()) {
            LOG.info("{}: login not finished within {}; closing", remote(), tuning.loginTimeout());
            close();
            return;
        }
        if (p == Phase.LOGGED_OUT && now - loggedOutNanos > tuning.nopInTimeout().toNanos()) {
            close(); // the peer does not read its last PDUs
            return;
        }
        if (p != Phase.FULL_FEATURE) {
            return;
        }
        if (pingTag != RESERVED_TAG) {
            if (now - pingSentNanos > tuning.nopInTimeout().toNanos()) {
                LOG.info("{}: no answer to NOP-In within {}; closing", remote(), tuning.nopInTimeout());
                close();
            }
            return;
        }
        if (now - lastReceiveNanos > tuning.nopInInterval().toNanos() && tasks.isEmpty()) {
            int tag = pingTagFor(now);
            NopInHeader ping = NopInHeader.create().targetTransferTag(tag);
            ping.initiatorTaskTag(RESERVED_TAG);
            pingSentNanos = now;
            pingTag = tag;
            writer.send(new ResponseWriter.Outbound(Pdu.of(ping), ResponseWriter.Sequencing.PEEK_STAT_SN));
        }
    }

    /** Ping tags come from the reader's tag space only by value; any tag but 0xffffffff works. */
    private static int pingTagFor(final long now) {
        int tag = (int) (now >>> 20) | 0x4000_0000;
        return tag == RESERVED_TAG ? 1 : tag;
    }

    /** Stops taking PDUs; the writer sends what is queued and then closes (bounded by {@link #tick}). */
    private void enterLoggedOut() {
        loggedOutNanos = System.nanoTime();
        phase = Phase.LOGGED_OUT;
    }

    /** Closes the connection now; running commands finish but their responses are dropped. */
    /** Whether this connection's session is a normal session to {@code iqn}. */
    /** The initiator name this connection logged in with, or null before login. */
    String initiatorName() {
        ExportedTarget t = target;
        LoginResult s = t == null ? null : session;
        return s == null ? null : s.initiatorName();
    }

    boolean servesTarget(final String iqn) {
        ExportedTarget t = target;
        return t != null && t.iqn().equals(iqn);
    }

    void close() {
        phase = Phase.CLOSED;
        writer.close();
    }

    private void onWriterClosed() {
        phase = Phase.CLOSED;
        for (ScsiTask t : tasks.values()) {
            abort(t);
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.toString());
        }
        if (session != null && sessionCounted.compareAndSet(true, false)) {
            if (sessionKey != null) {
                context.sessions().unregister(sessionKey, this);
            }
            context.metrics().openSessions.decrementAndGet();
        }
    }

    boolean isClosed() {
        return phase == Phase.CLOSED;
    }

    private String remote() {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

}
