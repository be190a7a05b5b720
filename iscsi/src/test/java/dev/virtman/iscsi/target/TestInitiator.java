package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.Chap;
import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.DataInHeader;
import dev.virtman.iscsi.pdu.DataOutHeader;
import dev.virtman.iscsi.pdu.DecodeResult;
import dev.virtman.iscsi.pdu.LoginRequestHeader;
import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduDecoder;
import dev.virtman.iscsi.pdu.PduEncoder;
import dev.virtman.iscsi.pdu.ReadyToTransferHeader;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import dev.virtman.iscsi.pdu.ScsiResponseHeader;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately small iSCSI initiator for driving the target in tests: blocking socket, one
 * command at a time unless the test pipelines PDUs itself, PDUs built with the shared PDU layer.
 * It trusts nothing: every helper returns what came back so tests can assert on it.
 */
final class TestInitiator implements AutoCloseable {

    static final String INITIATOR_NAME = "iqn.2026-11.dev.virtman.test:initiator";

    private final SocketChannel channel;
    private final ReadableByteChannel in;
    private final PduDecoder decoder = new PduDecoder();
    private final PduEncoder encoder = new PduEncoder();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(1 << 20).flip();
    int cmdSN = 1;
    int expStatSN;
    int nextTag = 1;
    int maxCmdSN;
    /** The target's declared MaxRecvDataSegmentLength. */
    int targetMrdsl = 8192;
    int firstBurstLength = 65536;
    boolean initialR2T = true;
    boolean immediateData = true;

    TestInitiator(final InetSocketAddress target) throws IOException {
        channel = SocketChannel.open(target);
        channel.socket().setSoTimeout(10_000);
        in = Channels.newChannel(channel.socket().getInputStream());
        decoder.maxDataSegmentLength(BasicHeaderSegment.MAX_DATA_SEGMENT_LENGTH);
    }

    /** Sends raw bytes (for malformed-input tests). */
    void sendRaw(final ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    void send(final Pdu pdu) throws IOException {
        sendRaw(encoder.encodeToBuffer(pdu));
    }

    /** The next PDU, or {@code null} when the target closed the connection. Throws on timeout. */
    Pdu receive() throws IOException {
        while (true) {
            DecodeResult r = decoder.decode(readBuffer);
            if (r instanceof DecodeResult.Decoded d) {
                Pdu p = d.pdu();
                trackStatus(p);
                return p;
            }
            if (r instanceof DecodeResult.Malformed m) {
                throw new IOException("target sent a malformed PDU: " + m.error());
            }
            readBuffer.compact();
            int n;
            try {
                n = in.read(readBuffer);
            } catch (SocketTimeoutException e) {
                readBuffer.flip();
                throw e;
            }
            readBuffer.flip();
            if (n < 0) {
                return null;
            }
        }
    }

    /** Whether the target closes the connection within the socket timeout, ignoring PDUs it sends first. */
    boolean closedByTarget() throws IOException {
        try {
            while (true) {
                if (receive() == null) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private void trackStatus(final Pdu p) {
        ByteBuffer bhs = p.bhs();
        Opcode op = p.opcode();
        boolean status = op == Opcode.SCSI_RESPONSE || op == Opcode.LOGIN_RESPONSE || op == Opcode.TEXT_RESPONSE
                || op == Opcode.LOGOUT_RESPONSE || op == Opcode.TASK_MANAGEMENT_RESPONSE || op == Opcode.REJECT
                || (op == Opcode.NOP_IN && p.header().initiatorTaskTag() != -1)
                || (op == Opcode.DATA_IN && new DataInHeader(bhs).statusPresent());
        if (status) {
            expStatSN = bhs.getInt(ScsiResponseHeader.STAT_SN_OFFSET) + 1;
        }
        if (op != null && !op.isInitiatorOpcode()) {
            maxCmdSN = bhs.getInt(ScsiResponseHeader.MAX_CMD_SN_OFFSET);
        }
    }

    /** One login request; returns the response. */
    Pdu loginStep(final int csg, final int nsg, final boolean transit, final List<TextParameter> keys)
            throws IOException {
        LoginRequestHeader h = LoginRequestHeader.create().transit(transit).currentStage(csg).nextStage(transit ? nsg : 0)
                .isid(0x80_1234_5678L).cid(1).cmdSN(cmdSN).expStatSN(expStatSN);
        h.initiatorTaskTag(nextTag++);
        send(Pdu.of(h, TextCodec.encode(keys)));
        return receive();
    }

    static Map<String, String> keys(final Pdu response) {
        Map<String, String> out = new LinkedHashMap<>();
        TextCodec.ParseResult r = TextCodec.decode(response.data());
        for (TextParameter p : ((TextCodec.ParseResult.Parsed) r).parameters()) {
            out.put(p.key(), p.value());
        }
        return out;
    }

    /**
     * Logs in to {@code targetName} (null: discovery) without authentication, negotiating
     * {@code operational} keys; returns the final response (status may be a failure).
     */
    Pdu login(final String targetName, final List<TextParameter> operational) throws IOException {
        List<TextParameter> security = new ArrayList<>();
        security.add(new TextParameter("InitiatorName", INITIATOR_NAME));
        if (targetName == null) {
            security.add(new TextParameter("SessionType", "Discovery"));
        } else {
            security.add(new TextParameter("TargetName", targetName));
        }
        security.add(new TextParameter("AuthMethod", "None"));
        Pdu r = loginStep(0, 1, true, security);
        if (r == null || new LoginResponseHeader(r.bhs()).statusClass() != 0) {
            return r;
        }
        return operational(operational);
    }

    /** Logs in with CHAP (one-way, or mutual when {@code mutualSecret} is non-null). */
    Pdu loginChap(final String targetName, final String user, final String secret, final String mutualSecret)
            throws IOException {
        Pdu r = loginStep(0, 1, false, List.of(new TextParameter("InitiatorName", INITIATOR_NAME),
                new TextParameter("TargetName", targetName), new TextParameter("AuthMethod", "CHAP,None")));
        if (new LoginResponseHeader(r.bhs()).statusClass() != 0) {
            return r;
        }
        r = loginStep(0, 1, false, List.of(new TextParameter("CHAP_A", "5")));
        if (new LoginResponseHeader(r.bhs()).statusClass() != 0) {
            return r;
        }
        Map<String, String> k = keys(r);
        int id = Integer.parseInt(k.get("CHAP_I"));
        byte[] challenge = Chap.decodeBinary(k.get("CHAP_C"));
        List<TextParameter> answer = new ArrayList<>();
        answer.add(new TextParameter("CHAP_N", user));
        answer.add(new TextParameter("CHAP_R", Chap.encodeHex(Chap.response(id, secret, challenge))));
        byte[] myChallenge = new byte[16];
        new java.util.Random(7).nextBytes(myChallenge);
        if (mutualSecret != null) {
            answer.add(new TextParameter("CHAP_I", "77"));
            answer.add(new TextParameter("CHAP_C", Chap.encodeHex(myChallenge)));
        }
        r = loginStep(0, 1, true, answer);
        LoginResponseHeader h = new LoginResponseHeader(r.bhs());
        if (h.statusClass() != 0) {
            return r;
        }
        if (mutualSecret != null) {
            Map<String, String> mk = keys(r);
            byte[] expected = Chap.response(77, mutualSecret, myChallenge);
            if (!java.util.Arrays.equals(expected, Chap.decodeBinary(mk.get("CHAP_R")))) {
                throw new IOException("target failed mutual CHAP");
            }
        }
        return operational(List.of());
    }

    private Pdu operational(final List<TextParameter> operational) throws IOException {
        List<TextParameter> keys = new ArrayList<>(operational);
        if (keys.stream().noneMatch(p -> p.key().equals("MaxRecvDataSegmentLength"))) {
            keys.add(new TextParameter("MaxRecvDataSegmentLength", "65536"));
        }
        Pdu r = loginStep(1, 3, true, keys);
        if (r == null) {
            return null;
        }
        Map<String, String> k = keys(r);
        if (k.containsKey("MaxRecvDataSegmentLength")) {
            targetMrdsl = Integer.parseInt(k.get("MaxRecvDataSegmentLength"));
        }
        if (k.containsKey("FirstBurstLength") && !k.get("FirstBurstLength").equals("Irrelevant")) {
            firstBurstLength = Integer.parseInt(k.get("FirstBurstLength"));
        }
        if (k.containsKey("InitialR2T")) {
            initialR2T = k.get("InitialR2T").equals("Yes");
        }
        if (k.containsKey("ImmediateData")) {
            immediateData = k.get("ImmediateData").equals("Yes");
        }
        boolean hd = "CRC32C".equals(k.get("HeaderDigest"));
        boolean dd = "CRC32C".equals(k.get("DataDigest"));
        encoder.headerDigest(hd);
        encoder.dataDigest(dd);
        decoder.headerDigest(hd);
        decoder.dataDigest(dd);
        return r;
    }

    /** A SCSI Command PDU (not sent); advances CmdSN. */
    ScsiCommandHeader command(final long lun, final byte[] cdb, final int edtl, final boolean read, final boolean write) {
        ScsiCommandHeader h = ScsiCommandHeader.create().read(read).write(write).taskAttributes(1)
                .expectedDataTransferLength(edtl).cmdSN(cmdSN++).expStatSN(expStatSN).cdb(cdb);
        h.initiatorTaskTag(nextTag++);
        h.lun(lun);
        return h;
    }

    /** Result of a command: the status, sense and data the target returned. */
    record Result(int status, byte[] sense, ByteBuffer data, ScsiResponseHeader response, DataInHeader lastDataIn,
                  int dataInPdus) {
        boolean residualUnderflow() {
            return response != null ? response.residualUnderflow() : lastDataIn.residualUnderflow();
        }

        int residualCount() {
            return response != null ? response.residualCount() : lastDataIn.residualCount();
        }
    }

    /** Sends a read-type command and collects its Data-In and status. */
    Result read(final long lun, final byte[] cdb, final int edtl) throws IOException {
        ScsiCommandHeader h = command(lun, cdb, edtl, true, false);
        send(Pdu.of(h));
        return collect(h.initiatorTaskTag(), edtl, List.of());
    }

    /** Sends a write-type command with {@code data}, honouring immediate data, unsolicited data and R2Ts. */
    Result write(final long lun, final byte[] cdb, final ByteBuffer data) throws IOException {
        int edtl = data.remaining();
        ScsiCommandHeader h = command(lun, cdb, edtl, false, true);
        int unsolicited = initialR2T && !immediateData ? 0 : Math.min(edtl, firstBurstLength);
        int immediate = immediateData ? Math.min(unsolicited, targetMrdsl) : 0;
        send(Pdu.of(h, data.slice(0, immediate)));
        int offset = immediate;
        int dataSN = 0;
        if (!initialR2T) {
            while (offset < unsolicited) {
                int n = Math.min(targetMrdsl, unsolicited - offset);
                DataOutHeader d = DataOutHeader.create().targetTransferTag(-1).dataSN(dataSN++).bufferOffset(offset)
                        .expStatSN(expStatSN);
                d.initiatorTaskTag(h.initiatorTaskTag());
                d.lun(lun);
                d.finalFlag(offset + n == unsolicited);
                send(Pdu.of(d, data.slice(offset, n)));
                offset += n;
            }
        }
        return collect(h.initiatorTaskTag(), 0, List.of(data));
    }

    private Result collect(final int itt, final int edtl, final List<ByteBuffer> writeData) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(edtl);
        int highest = 0;
        int pdus = 0;
        DataInHeader last = null;
        while (true) {
            Pdu p = receive();
            if (p == null) {
                throw new IOException("connection closed while waiting for ITT " + itt);
            }
            switch (p.opcode()) {
                case DATA_IN -> {
                    DataInHeader d = new DataInHeader(p.bhs());
                    got.put(d.bufferOffset(), p.data(), p.data().position(), p.data().remaining());
                    highest = Math.max(highest, d.bufferOffset() + p.data().remaining());
                    pdus++;
                    if (d.statusPresent()) {
                        return new Result(d.status(), null, got.limit(highest), null, d, pdus);
                    }
                    last = d;
                }
                case READY_TO_TRANSFER -> {
                    ReadyToTransferHeader r2t = new ReadyToTransferHeader(p.bhs());
                    ByteBuffer data = writeData.get(0);
                    int off = r2t.bufferOffset();
                    int end = off + r2t.desiredDataTransferLength();
                    int dataSN = 0;
                    while (off < end) {
                        int n = Math.min(targetMrdsl, end - off);
                        DataOutHeader d = DataOutHeader.create().targetTransferTag(r2t.targetTransferTag())
                                .dataSN(dataSN++).bufferOffset(off).expStatSN(expStatSN);
                        d.initiatorTaskTag(itt);
                        d.lun(r2t.lun());
                        d.finalFlag(off + n == end);
                        send(Pdu.of(d, data.slice(off, n)));
                        off += n;
                    }
                }
                case SCSI_RESPONSE -> {
                    ScsiResponseHeader r = new ScsiResponseHeader(p.bhs());
                    byte[] sense = null;
                    if (p.data().remaining() >= 2) {
                        int len = p.data().getShort(p.data().position()) & 0xffff;
                        sense = new byte[len];
                        p.data().get(p.data().position() + 2, sense);
                    }
                    return new Result(r.status(), sense, got.limit(highest), r, last, pdus);
                }
                default -> throw new IOException("unexpected " + p);
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    static boolean isReservedTag(final int tag) {
        return tag == BasicHeaderSegment.RESERVED_TAG;
    }
}
