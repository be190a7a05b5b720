package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.LogoutRequestHeader;
import dev.virtman.iscsi.pdu.NopOutHeader;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import dev.virtman.scsi.ScsiCdbs;
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
 *       to the waiting future and assembles Data-In into the caller's buffer
 *       ({@link ResponseRouter}).</li>
 *   <li><b>Liveness.</b> A timer pings an idle connection with NOP-Out and declares it dead when
 *       a ping or any command goes unanswered too long ({@link SessionLiveness}); target NOP-Ins
 *       are answered.</li>
 *   <li><b>Recovery.</b> A dead connection fails no command: a recovery thread reconnects with
 *       backoff, logs in again with the same ISID and TSIH 0 (the target reinstates the session,
 *       ending the old one), and reissues every outstanding command. Only when that does not
 *       succeed within {@link InitiatorOptions#recoveryTimeout()} do commands fail, with an
 *       {@link IscsiException}; the next submit then tries again ({@link SessionRecovery}).</li>
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
    private static final Duration LOGOUT_WAIT = Duration.ofSeconds(2);
    private static final long MIN_TICK_MILLIS = 20;
    private static final long MAX_TICK_MILLIS = 500;
    /** How often a platform thread waiting in {@link #await} checks whether it may read its answer itself. */
    private static final long RECEIVE_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String host;
    private final int port;
    private final String targetName;
    private final InitiatorOptions options;
    private final long isid;
    private final TaskTable tasks = new TaskTable();
    private final CommandWindow window = new CommandWindow();
    /** Orders CmdSN assignment with sending: CmdSNs must reach the wire in increasing order. */
    private final ReentrantLock commandLock = new ReentrantLock();
    final SessionLiveness liveness; // package-private: tests await its ping counts
    private final ResponseRouter router;
    private final SessionRecovery recovery;
    private final Object stateLock = new Object();
    /** This session's tick on the shared {@link LivenessTimer}; set once logged in. */
    private volatile ScheduledFuture<?> ticker;

    private volatile State state = State.FAILED;
    private volatile InitiatorConnection connection;
    private volatile int epoch;
    private volatile NegotiatedParameters parameters;
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
        this.liveness = new SessionLiveness(this, tasks, options);
        this.router = new ResponseRouter(this, tasks, window, liveness);
        this.recovery = new SessionRecovery(this, host, port, options, isid, LOGIN_CMD_SN);
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
        session.ticker = LivenessTimer.every(tick, () -> {
            session.liveness.tick();
            session.router.tick();
        });
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
        return recovery.recoveries();
    }

    public String targetName() {
        return targetName;
    }

    public InitiatorOptions options() {
        return options;
    }

    /** Commands whose answer the thread waiting in {@link #await} read itself (no hand-off from the reader). */
    long answeredInCaller() {
        return router.answeredInCaller();
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
        CompletableFuture<Integer> result = submitToAwait(lun, cdb, dataIn, label);
        router.readerResumes(); // the caller may never call await: the reader must read its answer
        return result;
    }

    /** As {@link #submit}, for a caller that will {@link #await} the result (and may read the answer itself). */
    CompletableFuture<Integer> submitToAwait(final int lun, final byte[] cdb, final ByteBuffer dataIn,
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
        return RetryingExecution.execute(this, lun, cdb, dataIn, label);
    }

    /** Waits for a submitted command, bounded by the worst case the session itself guarantees. */
    public int await(final CompletableFuture<Integer> future) throws IOException {
        Duration bound = options.commandTimeout().plus(options.recoveryTimeout())
                .multipliedBy(options.maxReissues() + 2L);
        long deadline = System.nanoTime() + bound.toNanos();
        boolean platform = !Thread.currentThread().isVirtual();
        if (platform) {
            router.platformWaiting(1);
        }
        try {
            while (!future.isDone()) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                // Read the answer on this thread if the reader stands aside (ReceiveTurn); else
                // make sure the reader reads, and look again now and then (the reader may have
                // stood aside just as this command went out).
                if (platform && router.receiveUntilDone(future)) {
                    continue;
                }
                router.readerResumes();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException();
                }
                try {
                    future.get(Math.min(left, platform ? RECEIVE_RETRY_NANOS : left), TimeUnit.NANOSECONDS);
                } catch (TimeoutException stillWaiting) {
                    // loop: deadline, interrupt and the reader's turn again
                }
            }
            return future.get();
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
        } finally {
            if (platform) {
                router.platformWaiting(-1);
            }
        }
    }

    public void testUnitReady(final int lun) throws IOException {
        execute(lun, ScsiCdbs.testUnitReady(), null, "TEST UNIT READY");
    }

    public InquiryInfo inquiry(final int lun) throws IOException {
        return UnitQueries.inquiry(this, lun);
    }

    /** One VPD page (SPC-4 §7.8), as much of it as the target sent. */
    public ByteBuffer vpdPage(final int lun, final int page) throws IOException {
        return UnitQueries.vpdPage(this, lun, page);
    }

    /** The Block Limits VPD page, or {@link BlockLimitsPage#NOT_REPORTED} if the unit has none. */
    public BlockLimitsPage blockLimits(final int lun) throws IOException {
        return UnitQueries.blockLimits(this, lun);
    }

    /** READ CAPACITY(16), falling back to READ CAPACITY(10) for units that do not know it (SBC-3 §5.16). */
    public Capacity readCapacity(final int lun) throws IOException {
        return UnitQueries.readCapacity(this, lun);
    }

    /** REPORT LUNS (SPC-4 §6.33), sent to LUN 0. */
    public List<Integer> reportLuns() throws IOException {
        return UnitQueries.reportLuns(this);
    }

    /** Submits READ(16) of {@code blocks} blocks at {@code lba} into {@code dst} (its remaining bytes). */
    public CompletableFuture<Integer> read(final int lun, final long lba, final int blocks, final ByteBuffer dst) {
        return submit(lun, ScsiCdbs.read16(lba, blocks), dst, "READ(16) lba " + lba + " x" + blocks);
    }

    /** As {@link #read}, for a caller that will {@link #await} the result. */
    CompletableFuture<Integer> readToAwait(final int lun, final long lba, final int blocks, final ByteBuffer dst) {
        return submitToAwait(lun, ScsiCdbs.read16(lba, blocks), dst, "READ(16) lba " + lba + " x" + blocks);
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
                .expectedDataTransferLength(command.expectedLength()).cmdSN(cmdSN).expStatSN(router.expStatSN())
                .cdb(command.cdb);
        h.lun(command.lunField);
        h.initiatorTaskTag(command.taskTag);
        return Pdu.of(h);
    }

    /** Sends an immediate PDU (NOP-Out) without blocking the calling thread (reader or timer). */
    void sendImmediate(final InitiatorConnection c, final Pdu pdu) {
        router.readerResumes(); // its answer (a ping's) is for no waiting caller
        Thread.startVirtualThread(() -> {
            try {
                c.send(pdu);
            } catch (IOException e) {
                connectionLost(c, e);
            }
        });
    }

    Pdu nopOut(final int taskTag, final int targetTransferTag, final long lunField) {
        NopOutHeader h = NopOutHeader.create();
        h.immediate(true);
        h.initiatorTaskTag(taskTag);
        h.targetTransferTag(targetTransferTag).cmdSN(window.current()).expStatSN(router.expStatSN());
        h.lun(lunField);
        return Pdu.of(h);
    }

    /**
     * Whether the target sends anything within {@code timeout} from now, pinging it with a NOP-Out
     * (RFC 7143 §11.18) unless a ping is already out. Tells a busy target from a silent one: a busy
     * target's reader answers a ping at once even while its commands wait, a silent one (stopped,
     * cut off) answers nothing. False at once while the session is not logged in.
     */
    public boolean answers(final Duration timeout) throws InterruptedException {
        return liveness.answers(timeout);
    }

    /** The current connection while logged in, else null. */
    InitiatorConnection loggedInConnection() {
        InitiatorConnection c = connection;
        return state != State.LOGGED_IN ? null : c;
    }

    /** Counts connections: a command sent in an earlier epoch is reissued, its late answers ignored. */
    int epoch() {
        return epoch;
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
            router.loggedIn(p.statSN());
            liveness.reset(System.nanoTime());
            e = window.reset(p.expCmdSN(), p.maxCmdSN());
            epoch = e;
            connection = c;
            state = State.LOGGED_IN;
        }
        router.start(c, e);
    }

    /** Declares {@code c} dead; the first caller for the current connection starts recovery. */
    void connectionLost(final InitiatorConnection c, final IOException cause) {
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
            recoveryThread = recovery.start();
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

    /** Why the connection was lost, or why the last recovery failed. */
    IOException lastFailure() {
        synchronized (stateLock) {
            return lastFailure;
        }
    }

    /** Recovery gave up: the session is FAILED and the commands that waited for it fail. */
    void recoveryFailed(final IscsiException failure) {
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
    }

    /** Makes {@code c} current and sends every outstanding command again, in submission order. */
    void reissueOn(final InitiatorConnection c, final NegotiatedParameters p) throws IOException {
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

    /** Logs out (RFC 7143 §11.14, reason "close the session"), closes the connection, fails what is left. */
    @Override
    public void close() {
        InitiatorConnection c;
        State previous;
        Thread recovering;
        synchronized (stateLock) {
            previous = state;
            if (previous == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            c = connection;
            recovering = recoveryThread;
        }
        ScheduledFuture<?> t = ticker;
        if (t != null) {
            t.cancel(false);
        }
        if (recovering != null) {
            recovering.interrupt();
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
        CompletableFuture<Void> done = router.expectLogoutResponse();
        LogoutRequestHeader h = LogoutRequestHeader.create();
        h.immediate(true);
        h.reasonCode(LogoutRequestHeader.REASON_CLOSE_SESSION).cid(0).cmdSN(window.current()).expStatSN(router.expStatSN());
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

    @Override
    public String toString() {
        return "IscsiSession[" + targetName + " at " + host + ":" + port + ", " + state + "]";
    }
}
