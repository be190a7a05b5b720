package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.LoginNegotiator;
import dev.virtman.iscsi.login.LoginStatus;
import dev.virtman.iscsi.login.LoginResult;
import dev.virtman.iscsi.login.SessionParameters;
import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.DecodeError;
import dev.virtman.iscsi.pdu.DecodeResult;
import dev.virtman.iscsi.pdu.LoginRequestHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduDecoder;
import dev.virtman.iscsi.pdu.PduEncoder;
import dev.virtman.iscsi.pdu.RejectHeader;
import dev.virtman.iscsi.pdu.RejectReason;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One iSCSI connection on the target side, and (MaxConnections=1) its session. A single reader
 * (this runnable) decodes PDUs and acts on them in arrival order; SCSI commands run on worker
 * virtual threads because {@code ScsiCommandExecutor.execute} may block; every outgoing PDU goes
 * through the connection's {@link ResponseWriter}.
 *
 * <p>Phases: login ({@link LoginNegotiator}, here), full feature phase (normal or discovery
 * session: {@link FullFeaturePhase} and its handlers), logged out, closed. This class owns the
 * phase, the timers of the login and logged-out phases, and closing. Failures are contained: a
 * malformed PDU gets a Reject (RFC 7143 §11.17) or, when framing is lost, closes this connection
 * only.
 */
final class TargetConnection implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(TargetConnection.class);

    /** Bytes per socket read; the decoder copies across reads, so a PDU need not fit. */
    private static final int READ_BUFFER_SIZE = 128 * 1024;

    private enum Phase { LOGIN, FULL_FEATURE, LOGGED_OUT, CLOSED }

    private final TargetContext context;
    private final SocketChannel channel;
    private final PduDecoder decoder = new PduDecoder();
    private final PduEncoder encoder = new PduEncoder();
    private final ResponseWriter writer;
    private final LoginNegotiator login;
    private final long acceptedNanos = System.nanoTime();
    private final AtomicBoolean sessionCounted = new AtomicBoolean();

    private volatile Phase phase = Phase.LOGIN;
    private volatile long loggedOutNanos;
    private volatile long lastReceiveNanos = acceptedNanos;
    private CommandWindow window;
    private LoginResult session;
    /** Written by the reader thread at login; read by {@link #servesTarget} from the server. */
    private volatile ExportedTarget target;
    private SessionRegistry.SessionKey sessionKey;
    /** Set by the reader at login; read by the server's tick and the writer's close. */
    private volatile FullFeaturePhase fullFeature;

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
            // A platform thread: a socket that a virtual thread reads or writes is switched to
            // non-blocking mode for good, and then every read of this (platform) reader that finds
            // nothing costs a failed read, a poll and a second read (ResponseWriter.sendAll).
            Thread.ofPlatform().daemon().name("iscsi-writer").start(writer);
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
            case FULL_FEATURE -> fullFeature.onPdu(pdu);
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
                if (f.status().equals(LoginStatus.AUTHORIZATION_FAILURE)) {
                    context.refusals().refused(ConnectionRefusals.Cap.NOT_AUTHORIZED, remoteAddress(),
                            context.tuning().maxConnectionsPerAddress());
                }
                enterLoggedOut();
                writer.send(new ResponseWriter.Outbound(f.response(), ResponseWriter.Sequencing.STATUS));
                writer.closeAfterDrain();
            }
            case LoginNegotiator.Step.Complete c -> completeLogin(c);
        }
    }

    private void completeLogin(final LoginNegotiator.Step.Complete c) {
        session = c.result();
        SessionParameters parameters = session.parameters();
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
        fullFeature = new FullFeaturePhase(new FullFeatureSession(context, this, writer, window, session, parameters,
                target));
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

    // ---------------------------------------------------------------- reject, timers, close

    void reject(final int reason, final ByteBuffer offendingBhs) {
        context.metrics().rejects.increment();
        RejectHeader h = RejectHeader.create().reason(reason);
        h.initiatorTaskTag(BasicHeaderSegment.RESERVED_TAG);
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
        FullFeaturePhase f = fullFeature;
        if (f != null) {
            f.tick(now, lastReceiveNanos);
        }
    }

    /** Stops taking PDUs; the writer sends what is queued and then closes (bounded by {@link #tick}). */
    void enterLoggedOut() {
        loggedOutNanos = System.nanoTime();
        phase = Phase.LOGGED_OUT;
    }

    /** The initiator name this connection logged in with, or null before login. */
    String initiatorName() {
        ExportedTarget t = target;
        LoginResult s = t == null ? null : session;
        return s == null ? null : s.initiatorName();
    }

    /** Whether this connection's session is a normal session to {@code iqn}. */
    boolean servesTarget(final String iqn) {
        ExportedTarget t = target;
        return t != null && t.iqn().equals(iqn);
    }

    /** Closes the connection now; running commands finish but their responses are dropped. */
    void close() {
        phase = Phase.CLOSED;
        writer.close();
    }

    private void onWriterClosed() {
        phase = Phase.CLOSED;
        FullFeaturePhase f = fullFeature;
        if (f != null) {
            f.abortAll();
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

    InetSocketAddress localAddress() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    /** The initiator's IP address (loopback once the socket is gone: only a refusal tally reads it). */
    java.net.InetAddress remoteAddress() {
        try {
            return channel.getRemoteAddress() instanceof InetSocketAddress a ? a.getAddress()
                    : java.net.InetAddress.getLoopbackAddress();
        } catch (IOException e) {
            return java.net.InetAddress.getLoopbackAddress();
        }
    }

    String remote() {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

}
