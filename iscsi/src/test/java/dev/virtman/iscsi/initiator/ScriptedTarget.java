package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.DataInHeader;
import dev.virtman.iscsi.pdu.DecodeResult;
import dev.virtman.iscsi.pdu.LoginRequestHeader;
import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduDecoder;
import dev.virtman.iscsi.pdu.PduEncoder;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import dev.virtman.iscsi.pdu.ScsiResponseHeader;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal, deliberately dishonest iSCSI target for unit tests: it logs anyone in (no
 * security, defaults for everything) and answers each SCSI command with whatever the test's
 * {@link Responder} writes, so tests can stage what a broken or lying parent does.
 */
final class ScriptedTarget implements AutoCloseable {

    /** Window the fake target grants beyond the command it just received. */
    static final int WINDOW = 32;

    /** Writes the target's answer to one SCSI command. */
    interface Responder {
        void respond(ScsiCommandHeader command, Wire wire) throws IOException;
    }

    /** The target's side of one connection. */
    static final class Wire {
        private final OutputStream out;
        private final PduEncoder encoder = new PduEncoder();
        private int statSN = 1;

        Wire(final OutputStream out) {
            this.out = out;
        }

        synchronized void send(final Pdu pdu) throws IOException {
            ByteBuffer b = encoder.encodeToBuffer(pdu);
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            out.flush();
        }

        /** A Data-In PDU for {@code command} at {@code bufferOffset}; with status GOOD when {@code last}. */
        void dataIn(final ScsiCommandHeader command, final int dataSN, final int bufferOffset, final byte[] payload,
                    final boolean last) throws IOException {
            DataInHeader h = DataInHeader.create();
            h.initiatorTaskTag(command.initiatorTaskTag());
            h.targetTransferTag(-1).dataSN(dataSN).bufferOffset(bufferOffset)
                    .expCmdSN(command.cmdSN() + 1).maxCmdSN(command.cmdSN() + WINDOW);
            if (last) {
                h.finalFlag(true);
                h.statusPresent(true).status(0).statSN(statSN++);
            }
            send(Pdu.of(h, ByteBuffer.wrap(payload)));
        }

        /** All of a command's data in one Data-In with GOOD status, reporting an honest residual underflow. */
        void dataInAll(final ScsiCommandHeader command, final byte[] payload) throws IOException {
            int expected = command.expectedDataTransferLength();
            byte[] sent = payload.length > expected ? java.util.Arrays.copyOf(payload, expected) : payload;
            DataInHeader h = DataInHeader.create();
            h.initiatorTaskTag(command.initiatorTaskTag());
            h.finalFlag(true);
            h.targetTransferTag(-1).dataSN(0).bufferOffset(0).statusPresent(true).status(0).statSN(statSN++)
                    .expCmdSN(command.cmdSN() + 1).maxCmdSN(command.cmdSN() + WINDOW);
            if (sent.length < expected) {
                h.residualUnderflow(true).residualCount(expected - sent.length);
            }
            send(Pdu.of(h, ByteBuffer.wrap(sent)));
        }

        /** A SCSI Response with {@code status} and optional sense bytes. */
        void response(final ScsiCommandHeader command, final int status, final byte[] sense) throws IOException {
            ScsiResponseHeader h = ScsiResponseHeader.create();
            h.initiatorTaskTag(command.initiatorTaskTag());
            h.status(status).statSN(statSN++).expCmdSN(command.cmdSN() + 1).maxCmdSN(command.cmdSN() + WINDOW);
            ByteBuffer data = ByteBuffer.allocate(0);
            if (sense != null) {
                data = ByteBuffer.allocate(2 + sense.length).putShort((short) sense.length).put(sense).flip();
            }
            send(Pdu.of(h, data));
        }
    }

    private final ServerSocket listener;
    private final Responder responder;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final AtomicInteger logins = new AtomicInteger();
    final AtomicInteger commands = new AtomicInteger();

    ScriptedTarget(final Responder responder) throws IOException {
        this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        this.responder = responder;
        Thread.ofPlatform().daemon().name("scripted-target").start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                sockets.add(s);
                Thread.ofPlatform().daemon().name("scripted-conn").start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(final Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            Wire wire = new Wire(s.getOutputStream());
            PduDecoder decoder = new PduDecoder();
            decoder.maxDataSegmentLength(1 << 20);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).flip();
            while (true) {
                DecodeResult r = decoder.decode(buf);
                if (r instanceof DecodeResult.Decoded d) {
                    handle(d.pdu(), wire);
                    continue;
                }
                if (r instanceof DecodeResult.Malformed) {
                    return;
                }
                buf.compact();
                int n = in.read(buf.array(), buf.position(), buf.remaining());
                if (n < 0) {
                    return;
                }
                buf.position(buf.position() + n).flip();
            }
        } catch (IOException e) {
            // the initiator hung up: fine
        }
    }

    private void handle(final Pdu pdu, final Wire wire) throws IOException {
        if (pdu.opcode() == Opcode.LOGIN_REQUEST) {
            LoginRequestHeader req = new LoginRequestHeader(pdu.bhs());
            LoginResponseHeader h = LoginResponseHeader.create();
            boolean operational = req.currentStage() == InitiatorLogin.STAGE_OPERATIONAL;
            h.transit(true).currentStage(req.currentStage())
                    .nextStage(operational ? InitiatorLogin.STAGE_FULL_FEATURE : InitiatorLogin.STAGE_OPERATIONAL)
                    .isid(req.isid()).tsih(operational ? 1 : 0).statSN(0)
                    .expCmdSN(req.cmdSN()).maxCmdSN(req.cmdSN() + WINDOW);
            h.initiatorTaskTag(req.initiatorTaskTag());
            List<TextParameter> keys = operational
                    ? List.of(new TextParameter("HeaderDigest", "None"), new TextParameter("DataDigest", "None"),
                            new TextParameter("ErrorRecoveryLevel", "0"))
                    : List.of(new TextParameter("AuthMethod", "None"));
            if (operational) {
                logins.incrementAndGet();
            }
            wire.send(Pdu.of(h, TextCodec.encode(keys)));
        } else if (pdu.opcode() == Opcode.SCSI_COMMAND) {
            commands.incrementAndGet();
            responder.respond(new ScsiCommandHeader(pdu.bhs()), wire);
        }
        // NOP-Out, Logout: ignored (the initiator copes with silence)
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
