package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the target of an {@link IscsiSession} is still there (RFC 7143 §11.18): a timer tick
 * pings an idle connection with a NOP-Out and declares the connection dead when the ping or any
 * command goes unanswered too long; {@link #answers} tells a busy target from a silent one.
 */
final class SessionLiveness {

    private static final Logger LOG = LoggerFactory.getLogger(SessionLiveness.class);
    private static final int RESERVED_TAG = BasicHeaderSegment.RESERVED_TAG;
    /** How often {@link #answers} looks whether anything arrived. */
    private static final long ANSWER_POLL_MILLIS = 5;

    private final IscsiSession session;
    private final TaskTable tasks;
    private final InitiatorOptions options;
    private volatile long lastReceiveNanos;
    private volatile int pingTag = RESERVED_TAG;
    private volatile long pingSentNanos;
    /** Our NOP-Out pings the target answered, and the target's NOP-In pings we echoed (tests await them). */
    private final AtomicLong pingsAnswered = new AtomicLong();
    private final AtomicLong targetPingsEchoed = new AtomicLong();

    SessionLiveness(final IscsiSession session, final TaskTable tasks, final InitiatorOptions options) {
        this.session = session;
        this.tasks = tasks;
        this.options = options;
    }

    /** A new connection: nothing is outstanding and it counts as just heard from. */
    void reset(final long now) {
        lastReceiveNanos = now;
        pingTag = RESERVED_TAG;
    }

    /** The reader got a PDU. */
    void received(final long now) {
        lastReceiveNanos = now;
    }

    /** The target answered the NOP-Out with tag {@code tag}. */
    void answered(final int tag) {
        if (tag == pingTag) {
            pingTag = RESERVED_TAG;
            pingsAnswered.incrementAndGet();
        }
    }

    /** The target pinged us with a NOP-In, which the router echoes. */
    void targetPinged() {
        targetPingsEchoed.incrementAndGet();
    }

    /** How many of our NOP-Out pings the target answered. */
    long pingsAnswered() {
        return pingsAnswered.get();
    }

    /** How many NOP-In pings of the target we echoed. */
    long targetPingsEchoed() {
        return targetPingsEchoed.get();
    }

    /**
     * Whether the target sends anything within {@code timeout} from now, pinging it with a NOP-Out
     * unless a ping is already out. False at once while the session is not logged in.
     */
    boolean answers(final Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        InitiatorConnection c = session.loggedInConnection();
        if (c == null) {
            return false;
        }
        if (pingTag == RESERVED_TAG) {
            int tag = tasks.allocateTag();
            pingSentNanos = start;
            pingTag = tag;
            session.sendImmediate(c, session.nopOut(tag, RESERVED_TAG, 0L));
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

    /** The timer's tick: command deadlines, then the keep-alive ping. */
    void tick() {
        try {
            InitiatorConnection c = session.loggedInConnection();
            if (c == null) {
                return;
            }
            int e = session.epoch();
            long now = System.nanoTime();
            for (PendingCommand command : tasks.inSubmissionOrder()) {
                if (command.sentIn(e) && now - command.deadlineNanos() > 0) {
                    session.connectionLost(c, new IscsiException(command + " got no response within "
                            + options.commandTimeout().toMillis() + " ms"));
                    return;
                }
            }
            if (pingTag != RESERVED_TAG) {
                if (now - pingSentNanos > options.keepAliveTimeout().toNanos()) {
                    session.connectionLost(c, new IscsiException("keep-alive NOP-Out unanswered for "
                            + options.keepAliveTimeout().toMillis() + " ms"));
                }
            } else if (now - lastReceiveNanos > options.keepAliveInterval().toNanos()) {
                int tag = tasks.allocateTag();
                pingSentNanos = now;
                pingTag = tag;
                session.sendImmediate(c, session.nopOut(tag, RESERVED_TAG, 0L));
            }
        } catch (RuntimeException e) {
            LOG.error("bug in the iSCSI timer for {}", session.targetName(), e);
        }
    }
}
