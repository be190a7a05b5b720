package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.AsyncMessageHeader;
import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.DataInHeader;
import dev.virtman.iscsi.pdu.LogoutRequestHeader;
import dev.virtman.iscsi.pdu.NopInHeader;
import dev.virtman.iscsi.pdu.NopOutHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.RejectHeader;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import dev.virtman.iscsi.pdu.ScsiResponseHeader;
import dev.virtman.iscsi.pdu.SerialNumbers;
import dev.virtman.scsi.InquiryData;
import dev.virtman.scsi.SenseKey;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A normal iSCSI session to one target over one connection, in full feature phase, with
 * ErrorRecoveryLevel 0 recovery (RFC 7143 §7.1.5, §6.3.5):
 *
 * <ul>
 *   <li><b>Pipelining.</b> Any number of threads {@link #submit} commands; each gets an Initiator
 *       Task Tag and, in submission order, a CmdSN inside the target's window (submitters block
 *       while it is closed). One reader thread per connection routes every response by its tag
 *       to the waiting future and assembles Data-In into the caller's buffer.</li>
 *   <li><b>Liveness.</b> A timer pings an idle connection with NOP-Out and declares it dead when
 *       a ping or any command goes unanswered too long; target NOP-Ins are answered.</li>
 *   <li><b>Recovery.</b> A dead connection fails no command: a recovery thread reconnects with
 *       backoff, logs in again with the same ISID and TSIH 0 (the target reinstates the session,
 *       ending the old one), and reissues every outstanding command. Only when that does not
 *       succeed within {@link InitiatorOptions#recoveryTimeout()} do commands fail, with an
 *       {@link IscsiException}; the next submit then tries again.</li>
 * </ul>
 */
public final class IscsiSession implements AutoCloseable {

    /** Where the session is. */
    public enum State { LOGGED_IN, RECOVERING, FAILED, CLOSED }

    private static final Logger LOG = LoggerFactory.getLogger(IscsiSession.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** ISID type 10b "random" (RFC 7143 §11.12.5): top two bits of the 48-bit ISID. */
    private static final long ISID_TYPE_RANDOM = 0x80L << 40;
    private static final int ISID_RANDOM_BITS = 24;
    private static final int ISID_QUALIFIER_BITS = 16;
    /** CmdSN of the login request; numbering afterwards follows the target's ExpCmdSN. */
    private static final int LOGIN_CMD_SN = 1;
    /** SIMPLE task attribute (§11.3.1.2). */
    private static final int TASK_ATTRIBUTE_SIMPLE = 1;
    /** Status byte GOOD (SAM-5 §5.3). */
    private static final int STATUS_GOOD = 0x00;
    private static final int STATUS_CHECK_CONDITION = 0x02;
    /** Async events (§11.9.1): 1 = target asks for logout, 2/3 = target drops connection(s). */
    private static final int ASYNC_LOGOUT_REQUESTED = 1;
    private static final int ASYNC_DROP_CONNECTION = 2;
    private static final int ASYNC_DROP_ALL = 3;
    /** SenseLength prefix of a SCSI Response's data segment (§11.4.7.2). */
    private static final int SENSE_LENGTH_BYTES = 2;
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    private static final Duration LOGOUT_WAIT = Duration.ofSeconds(2);
    private static final long MIN_TICK_MILLIS = 20;
    private static final long MAX_TICK_MILLIS = 500;
    private static final int UNIT_ATTENTION_RETRIES = 3;
    private static final int BUSY_RETRIES = 20;
    private static final Duration BUSY_BACKOFF = Duration.ofMillis(50);
    private static final int INQUIRY_ALLOCATION = 255;
    private static final int REPORT_LUNS_ALLOCATION = 8 + 8 * 256;

    private final String host;
    private final int port;
    private final String targetName;
    private final InitiatorOptions options;
    private final long isid;
    private final TaskTable tasks = new TaskTable();
    private final CommandWindow window = new CommandWindow();
    /** Orders CmdSN assignment with sending: CmdSNs must reach the wire in increasing order. */
    private final ReentrantLock commandLock = new ReentrantLock();
    private final Object stateLock = new Object();
    /** This session's tick on the shared {@link LivenessTimer}; set once logged in. */
    private volatile ScheduledFuture<?> ticker;
    private final AtomicInteger recoveries = new AtomicInteger();

    private volatile State state = State.FAILED;
    private volatile InitiatorConnection connection;
    private volatile int epoch;
    private volatile NegotiatedParameters parameters;
    private volatile int expStatSN;
    private volatile long lastReceiveNanos;
    private volatile int pingTag = BasicHeaderSegment.RESERVED_TAG;
    private volatile long pingSentNanos;
    private volatile CompletableFuture<Void> logoutResponse;
    private Thread recoveryThread;
    private IOException lastFailure;

    private IscsiSession(final String host, final int port, final String targetName, final InitiatorOptions options) {
        this.host = host;
        this.port = port;
        this.targetName = targetName;
        this.options = options;
        this.isid = ISID_TYPE_RANDOM
                | (long) RANDOM.nextInt(1 << ISID_RANDOM_BITS) << ISID_QUALIFIER_BITS
                | RANDOM.nextInt(1 << ISID_QUALIFIER_BITS);
    }

    /**
     * Connects and logs in to {@code targetName} at {@code host:port}. Unlike recovery, the first
     * login is tried once: a wrong name or password is reported at once.
     */
    public static IscsiSession open(final String host, final int port, final String targetName,
                                    final InitiatorOptions options) throws IOException {
        IscsiSession session = new IscsiSession(host, port, targetName, options);
        InitiatorConnection c = InitiatorConnection.open(host, port, options.connectTimeout());
        try {
            NegotiatedParameters p = new InitiatorLogin(c, options, targetName, session.isid, LOGIN_CMD_SN).login();
            session.install(c, p);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        long tick = Math.clamp(Math.min(options.keepAliveInterval().toMillis(), options.commandTimeout().toMillis()) / 4,
                MIN_TICK_MILLIS, MAX_TICK_MILLIS);
        session.ticker = LivenessTimer.every(tick, session::tick);
        LOG.info("logged in to {} at {}:{} (TSIH {}, {})", targetName, host, port, session.parameters.tsih(),
                session.parameters);
        return session;
    }

    public State state() {
        return state;
    }

    /** The parameters of the current (or last) login. */
    public NegotiatedParameters parameters() {
        return parameters;
    }

    /** How many times the session was re-established after losing its connection. */
    public int recoveries() {
        return recoveries.get();
    }

    public String targetName() {
        return targetName;
    }

    public InitiatorOptions options() {
        return options;
    }

    /** Commands submitted and not yet complete. */
    public int outstanding() {
        return tasks.size();
    }

    // ---------------------------------------------------------------- commands

    /**
     * Queues one SCSI command and returns at once with its future (or after waiting for the
     * command window to open). The future completes with the number of bytes the target
     * transferred into {@code dataIn} (written from its position on; the position is not moved),
     * or fails with an {@link IscsiException}, a {@link ScsiStatusException} or a
     * {@link ScsiCheckConditionException}.
     *
     * @param dataIn where Data-In goes; its remaining bytes are the Expected Data Transfer Length.
     *               {@code null} for a command without data
     */
    public CompletableFuture<Integer> submit(final int lun, final byte[] cdb, final ByteBuffer dataIn,
                                             final String label) {
        if (cdb.length == 0 || cdb.length > ScsiCommandHeader.CDB_LENGTH) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("CDB of " + cdb.length
                    + " bytes (1.." + ScsiCommandHeader.CDB_LENGTH + " supported)"));
        }
        if (dataIn != null && dataIn.isReadOnly()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("Data-In buffer is read-only"));
        }
        if (state == State.CLOSED) {
            return CompletableFuture.failedFuture(new IscsiException("session to " + targetName + " is closed"));
        }
        int expected = dataIn == null ? 0 : dataIn.remaining();
        PendingCommand command = new PendingCommand(tasks.allocateTag(), tasks.nextSequence(),
                LunAddressing.encode(lun), cdb, dataIn, expected, label);
        tasks.add(command);
        command.result.whenComplete((r, e) -> tasks.remove(command));
        State s = state;
        if (s == State.FAILED) {
            recoverFromFailed();
        } else if (s == State.CLOSED) {
            command.fail(new IscsiException("session to " + targetName + " is closed"));
        } else {
            send(command);
        }
        return command.result;
    }

    /**
     * Runs one command and waits for it, retrying what SAM-5 says a retry fixes: UNIT ATTENTION
     * (reported once after the target reinstated our session, §5.14) and BUSY / TASK SET FULL.
     * Returns the bytes transferred.
     */
    public int execute(final int lun, final byte[] cdb, final ByteBuffer dataIn, final String label)
            throws IOException {
        int unitAttentions = 0;
        int busy = 0;
        while (true) {
            try {
                return await(submit(lun, cdb, dataIn, label));
            } catch (ScsiCheckConditionException e) {
                if (!e.isUnitAttention() || ++unitAttentions > UNIT_ATTENTION_RETRIES) {
                    throw e;
                }
                LOG.debug("{}: retrying after {}", label, e.getMessage());
            } catch (ScsiStatusException e) {
                if (!e.isTransient() || ++busy > BUSY_RETRIES) {
                    throw e;
                }
                sleep(BUSY_BACKOFF.multipliedBy(busy));
            }
        }
    }

    /** Waits for a submitted command, bounded by the worst case the session itself guarantees. */
    public int await(final CompletableFuture<Integer> future) throws IOException {
        Duration bound = options.commandTimeout().plus(options.recoveryTimeout())
                .multipliedBy(options.maxReissues() + 2L);
        try {
            return future.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IscsiException("command failed", cause);
        } catch (TimeoutException e) {
            throw new IscsiException("command did not complete within " + bound.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for an iSCSI command");
        }
    }

    public void testUnitReady(final int lun) throws IOException {
        execute(lun, ScsiCdbs.testUnitReady(), null, "TEST UNIT READY");
    }

    public InquiryInfo inquiry(final int lun) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(INQUIRY_ALLOCATION);
        int n = execute(lun, ScsiCdbs.inquiry(-1, INQUIRY_ALLOCATION), b, "INQUIRY");
        return InquiryInfo.parse(b.limit(n));
    }

    /** One VPD page (SPC-4 §7.8), as much of it as the target sent. */
    public ByteBuffer vpdPage(final int lun, final int page) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(INQUIRY_ALLOCATION);
        int n = execute(lun, ScsiCdbs.inquiry(page, INQUIRY_ALLOCATION), b, "INQUIRY VPD " + Integer.toHexString(page));
        return b.limit(n);
    }

    /** The Block Limits VPD page, or {@link BlockLimitsPage#NOT_REPORTED} if the unit has none. */
    public BlockLimitsPage blockLimits(final int lun) throws IOException {
        try {
            return BlockLimitsPage.parse(vpdPage(lun, InquiryData.PAGE_BLOCK_LIMITS));
        } catch (ScsiCheckConditionException e) {
            if (e.senseKey() == SenseKey.ILLEGAL_REQUEST.code()) {
                return BlockLimitsPage.NOT_REPORTED;
            }
            throw e;
        }
    }

    /** READ CAPACITY(16), falling back to READ CAPACITY(10) for units that do not know it (SBC-3 §5.16). */
    public Capacity readCapacity(final int lun) throws IOException {
        try {
            ByteBuffer b = ByteBuffer.allocate(Capacity.LENGTH_16);
            int n = execute(lun, ScsiCdbs.readCapacity16(Capacity.LENGTH_16), b, "READ CAPACITY(16)");
            return parse(() -> Capacity.parse16(b.limit(n)));
        } catch (ScsiCheckConditionException e) {
            if (e.senseKey() != SenseKey.ILLEGAL_REQUEST.code()) {
                throw e;
            }
        }
        ByteBuffer b = ByteBuffer.allocate(Capacity.LENGTH_10);
        int n = execute(lun, ScsiCdbs.readCapacity10(), b, "READ CAPACITY(10)");
        Capacity c = parse(() -> Capacity.parse10(b.limit(n)));
        if (c.lastLba() == Capacity.LBA_10_SATURATED) {
            throw new IscsiException("unit is larger than READ CAPACITY(10) can express but rejects READ CAPACITY(16)");
        }
        return c;
    }

    /** REPORT LUNS (SPC-4 §6.33), sent to LUN 0. */
    public List<Integer> reportLuns() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(REPORT_LUNS_ALLOCATION);
        int n = execute(0, ScsiCdbs.reportLuns(REPORT_LUNS_ALLOCATION), b, "REPORT LUNS");
        return parse(() -> LunAddressing.parseReportLuns(b.limit(n)));
    }

    /** Submits READ(16) of {@code blocks} blocks at {@code lba} into {@code dst} (its remaining bytes). */
    public CompletableFuture<Integer> read(final int lun, final long lba, final int blocks, final ByteBuffer dst) {
        return submit(lun, ScsiCdbs.read16(lba, blocks), dst, "READ(16) lba " + lba + " x" + blocks);
    }

    private interface Parser<T> {
        T parse();
    }

    private static <T> T parse(final Parser<T> parser) throws IscsiException {
        try {
            return parser.parse();
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new IscsiException("target returned unusable data: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- sending

    /** Sends {@code command} on the current connection unless recovery will (or already did). */
    private void send(final PendingCommand command) {
        commandLock.lock();
        InitiatorConnection c = connection;
        try {
            int e = epoch;
            if (state != State.LOGGED_IN || c == null || command.isDone() || command.sentIn(e)) {
                return;
            }
            long deadline = System.nanoTime() + options.commandTimeout().toNanos();
            long sn = window.acquire(e, deadline);
            if (sn == CommandWindow.NOT_ACQUIRED) {
                if (epoch == e && state == State.LOGGED_IN) {
                    connectionLost(c, new IscsiException("the target kept its command window closed for "
                            + options.commandTimeout().toMillis() + " ms"));
                }
                return;
            }
            command.sent(e, (int) sn, deadline);
            c.send(commandPdu(command, (int) sn));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            command.fail(new InterruptedIOException("interrupted while waiting for the iSCSI command window"));
        } catch (IOException io) {
            connectionLost(c, io);
        } finally {
            commandLock.unlock();
        }
    }

    private Pdu commandPdu(final PendingCommand command, final int cmdSN) {
        ScsiCommandHeader h = ScsiCommandHeader.create();
        h.read(command.expectedLength() > 0).taskAttributes(TASK_ATTRIBUTE_SIMPLE)
                .expectedDataTransferLength(command.expectedLength()).cmdSN(cmdSN).expStatSN(expStatSN)
                .cdb(command.cdb);
        h.lun(command.lunField);
        h.initiatorTaskTag(command.taskTag);
        return Pdu.of(h);
    }

    /** Sends an immediate PDU (NOP-Out) without blocking the calling thread (reader or timer). */
    private void sendImmediate(final InitiatorConnection c, final Pdu pdu) {
        Thread.startVirtualThread(() -> {
            try {
                c.send(pdu);
            } catch (IOException e) {
                connectionLost(c, e);
            }
        });
    }

    private Pdu nopOut(final int taskTag, final int targetTransferTag, final long lunField) {
        NopOutHeader h = NopOutHeader.create();
        h.immediate(true);
        h.initiatorTaskTag(taskTag);
        h.targetTransferTag(targetTransferTag).cmdSN(window.current()).expStatSN(expStatSN);
        h.lun(lunField);
        return Pdu.of(h);
    }

    // ---------------------------------------------------------------- receiving

    private void readLoop(final InitiatorConnection c, final int readerEpoch) {
        try {
            while (true) {
                Pdu pdu = c.receive();
                lastReceiveNanos = System.nanoTime();
                dispatch(c, readerEpoch, pdu);
            }
        } catch (IOException e) {
            connectionLost(c, e);
        } catch (RuntimeException e) {
            LOG.error("bug in the iSCSI reader for {}", targetName, e);
            connectionLost(c, new IscsiException("internal error in the reader: " + e, e));
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
        if (status == STATUS_CHECK_CONDITION) {
            command.fail(ScsiCheckConditionException.fromSense(command.label,
                    sense == null ? ByteBuffer.allocate(0) : sense));
            return;
        }
        if (status != STATUS_GOOD) {
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
            if (h.initiatorTaskTag() == pingTag) {
                pingTag = BasicHeaderSegment.RESERVED_TAG;
            }
        }
        if (h.targetTransferTag() != BasicHeaderSegment.RESERVED_TAG) {
            // §11.19.2: the target pings us; echo its TTT and LUN in an immediate NOP-Out
            sendImmediate(c, nopOut(BasicHeaderSegment.RESERVED_TAG, h.targetTransferTag(), h.lun()));
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
            connectionLost(c, new IscsiException("target asked us to leave (async event " + event + ")"));
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

    // ---------------------------------------------------------------- liveness

    /** How often {@link #answers} looks whether anything arrived. */
    private static final long ANSWER_POLL_MILLIS = 5;

    /**
     * Whether the target sends anything within {@code timeout} from now, pinging it with a NOP-Out
     * (RFC 7143 §11.18) unless a ping is already out. Tells a busy target from a silent one: a busy
     * target's reader answers a ping at once even while its commands wait, a silent one (stopped,
     * cut off) answers nothing. False at once while the session is not logged in.
     */
    public boolean answers(final Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        InitiatorConnection c = connection;
        if (state != State.LOGGED_IN || c == null) {
            return false;
        }
        if (pingTag == BasicHeaderSegment.RESERVED_TAG) {
            int tag = tasks.allocateTag();
            pingSentNanos = start;
            pingTag = tag;
            sendImmediate(c, nopOut(tag, BasicHeaderSegment.RESERVED_TAG, 0L));
        }
        long deadline = start + timeout.toNanos();
        while (lastReceiveNanos - start < 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(ANSWER_POLL_MILLIS);
        }
        return true;
    }

    private void tick() {
        try {
            InitiatorConnection c = connection;
            if (state != State.LOGGED_IN || c == null) {
                return;
            }
            int e = epoch;
            long now = System.nanoTime();
            for (PendingCommand command : tasks.inSubmissionOrder()) {
                if (command.sentIn(e) && now - command.deadlineNanos() > 0) {
                    connectionLost(c, new IscsiException(command + " got no response within "
                            + options.commandTimeout().toMillis() + " ms"));
                    return;
                }
            }
            if (pingTag != BasicHeaderSegment.RESERVED_TAG) {
                if (now - pingSentNanos > options.keepAliveTimeout().toNanos()) {
                    connectionLost(c, new IscsiException("keep-alive NOP-Out unanswered for "
                            + options.keepAliveTimeout().toMillis() + " ms"));
                }
            } else if (now - lastReceiveNanos > options.keepAliveInterval().toNanos()) {
                int tag = tasks.allocateTag();
                pingSentNanos = now;
                pingTag = tag;
                sendImmediate(c, nopOut(tag, BasicHeaderSegment.RESERVED_TAG, 0L));
            }
        } catch (RuntimeException e) {
            LOG.error("bug in the iSCSI timer for {}", targetName, e);
        }
    }

    // ---------------------------------------------------------------- recovery

    /** Installs a logged-in connection and starts its reader. Called with no reader running. */
    private void install(final InitiatorConnection c, final NegotiatedParameters p) throws IOException {
        c.apply(p);
        c.readTimeout(Duration.ZERO);
        int e;
        synchronized (stateLock) {
            if (state == State.CLOSED) {
                c.close();
                throw new IscsiException("session closed");
            }
            parameters = p;
            expStatSN = p.statSN() + 1;
            lastReceiveNanos = System.nanoTime();
            pingTag = BasicHeaderSegment.RESERVED_TAG;
            e = window.reset(p.expCmdSN(), p.maxCmdSN());
            epoch = e;
            connection = c;
            state = State.LOGGED_IN;
        }
        // The initiator's name in the thread's name lets a profile or a CPU meter tell sessions apart
        // (the storm bench counts its emulated VMs' receive cost separately from the agents').
        Thread reader = new Thread(() -> readLoop(c, e), "iscsi-reader-" + options.initiatorName() + ">" + targetName);
        reader.setDaemon(true);
        reader.start();
    }

    /** Declares {@code c} dead; the first caller for the current connection starts recovery. */
    private void connectionLost(final InitiatorConnection c, final IOException cause) {
        synchronized (stateLock) {
            if (c != connection || state != State.LOGGED_IN) {
                c.close();
                return;
            }
            connection = null;
            state = State.RECOVERING;
            lastFailure = cause;
        }
        window.abort();
        c.close();
        LOG.warn("connection to {} at {}:{} lost ({}); recovering {} outstanding commands", targetName, host, port,
                cause.getMessage(), tasks.size());
        startRecoveryThread();
    }

    /** Starts a recovery thread; the caller has just moved the session into RECOVERING. */
    private void startRecoveryThread() {
        synchronized (stateLock) {
            Thread t = new Thread(this::recover, "iscsi-recovery-" + targetName);
            t.setDaemon(true);
            recoveryThread = t;
            t.start();
        }
    }

    /** A submit found the session FAILED: try to re-establish it for the new command. */
    private void recoverFromFailed() {
        synchronized (stateLock) {
            if (state != State.FAILED) {
                return;
            }
            state = State.RECOVERING;
        }
        startRecoveryThread();
    }

    /** Reconnects with backoff until the recovery deadline (RFC 7143 §6.3.5 session reinstatement). */
    private void recover() {
        long start = System.nanoTime();
        long deadline = start + options.recoveryTimeout().toNanos();
        Duration backoff = FIRST_BACKOFF;
        IOException last;
        synchronized (stateLock) {
            last = lastFailure;
        }
        int attempt = 0;
        while (state == State.RECOVERING) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                break;
            }
            attempt++;
            InitiatorConnection c = null;
            try {
                Duration left = Duration.ofNanos(remaining);
                c = InitiatorConnection.open(host, port, min(options.connectTimeout(), left));
                InitiatorOptions bounded = options.withTimeouts(options.connectTimeout(),
                        min(options.loginTimeout(), Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()))),
                        options.commandTimeout(), options.recoveryTimeout());
                NegotiatedParameters p = new InitiatorLogin(c, bounded, targetName, isid, LOGIN_CMD_SN).login();
                reissueOn(c, p);
                recoveries.incrementAndGet();
                LOG.info("session to {} recovered on attempt {} after {} ms (TSIH {})", targetName, attempt,
                        (System.nanoTime() - start) / 1_000_000, p.tsih());
                return;
            } catch (IOException e) {
                last = e;
                if (c != null) {
                    c.close();
                }
                LOG.debug("recovery attempt {} for {} failed: {}", attempt, targetName, e.getMessage());
            } catch (RuntimeException e) {
                last = new IscsiException("internal error during recovery: " + e, e);
                if (c != null) {
                    c.close();
                }
                LOG.error("bug during recovery of {}", targetName, e);
            }
            long wait = Math.min(backoff.toNanos(), deadline - System.nanoTime());
            if (wait > 0 && !sleepNanos(wait)) {
                break;
            }
            backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
        }
        IscsiException failure = new IscsiException("lost the session to " + targetName + " at " + host + ":" + port
                + "; reconnecting failed (" + attempt + " attempts in " + (System.nanoTime() - start) / 1_000_000
                + " ms)" + (last != null ? ": " + last.getMessage() : ""), last);
        long mark;
        synchronized (stateLock) {
            if (state == State.RECOVERING) {
                state = State.FAILED;
            }
            lastFailure = failure;
            // Commands submitted from here on see FAILED and start a new recovery; the older
            // ones (which may have seen RECOVERING and left sending to us) fail now.
            mark = tasks.peekSequence();
        }
        for (PendingCommand command : tasks.inSubmissionOrder()) {
            if (command.sequence < mark) {
                command.fail(failure);
            }
        }
        LOG.warn("{}", failure.getMessage());
    }

    /** Makes {@code c} current and sends every outstanding command again, in submission order. */
    private void reissueOn(final InitiatorConnection c, final NegotiatedParameters p) throws IOException {
        commandLock.lock();
        try {
            install(c, p);
            for (PendingCommand command : tasks.inSubmissionOrder()) {
                if (command.isDone()) {
                    continue;
                }
                if (!command.prepareReissue(options.maxReissues())) {
                    command.fail(new IscsiException(command + " failed: reissued " + command.reissues()
                            + " times after lost connections"));
                    continue;
                }
                send(command);
            }
        } finally {
            commandLock.unlock();
        }
    }

    // ---------------------------------------------------------------- close

    /** Logs out (RFC 7143 §11.14, reason "close the session"), closes the connection, fails what is left. */
    @Override
    public void close() {
        InitiatorConnection c;
        State previous;
        Thread recovery;
        synchronized (stateLock) {
            previous = state;
            if (previous == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            c = connection;
            recovery = recoveryThread;
        }
        ScheduledFuture<?> t = ticker;
        if (t != null) {
            t.cancel(false);
        }
        if (recovery != null) {
            recovery.interrupt();
        }
        if (previous == State.LOGGED_IN && c != null) {
            logout(c);
        }
        window.abort();
        if (c != null) {
            c.close();
        }
        IscsiException closed = new IscsiException("session to " + targetName + " closed");
        for (PendingCommand command : tasks.inSubmissionOrder()) {
            command.fail(closed);
        }
    }

    private void logout(final InitiatorConnection c) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        logoutResponse = done;
        LogoutRequestHeader h = LogoutRequestHeader.create();
        h.immediate(true);
        h.reasonCode(LogoutRequestHeader.REASON_CLOSE_SESSION).cid(0).cmdSN(window.current()).expStatSN(expStatSN);
        h.initiatorTaskTag(tasks.allocateTag());
        try {
            c.send(Pdu.of(h));
            done.get(LOGOUT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException | ExecutionException | TimeoutException e) {
            LOG.debug("logout from {} not confirmed: {}", targetName, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Duration min(final Duration a, final Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static void sleep(final Duration d) throws InterruptedIOException {
        if (!sleepNanos(d.toNanos())) {
            throw new InterruptedIOException("interrupted");
        }
    }

    private static boolean sleepNanos(final long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public String toString() {
        return "IscsiSession[" + targetName + " at " + host + ":" + port + ", " + state + "]";
    }
}
