package dev.virtman.iscsi.pdu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class PduDecoderTest {

    private static Pdu scsiRead(final int itt, final int dataLength) {
        ScsiCommandHeader h = ScsiCommandHeader.create()
                .read(true)
                .expectedDataTransferLength(4096)
                .cmdSN(7)
                .expStatSN(3)
                .cdb(new byte[] {0x28, 0, 0, 0, 0, 1, 0, 0, 8, 0});
        h.initiatorTaskTag(itt);
        h.lun(1L << 48);
        byte[] data = new byte[dataLength];
        for (int i = 0; i < dataLength; i++) {
            data[i] = (byte) (i * 31 + itt);
        }
        return Pdu.of(h, ByteBuffer.wrap(data));
    }

    /** Feeds {@code wire} in pieces of {@code chunk} bytes, collecting every decoded PDU. */
    private static List<Pdu> feed(final PduDecoder decoder, final ByteBuffer wire, final int chunk) {
        List<Pdu> out = new ArrayList<>();
        while (wire.hasRemaining()) {
            int n = Math.min(chunk, wire.remaining());
            ByteBuffer piece = wire.slice(wire.position(), n);
            wire.position(wire.position() + n);
            while (true) {
                DecodeResult r = decoder.decode(piece);
                if (r instanceof DecodeResult.Decoded d) {
                    out.add(d.pdu());
                } else if (r instanceof DecodeResult.NeedMoreInput) {
                    assertThat(piece.hasRemaining()).isFalse();
                    break;
                } else {
                    throw new AssertionError("unexpected " + r);
                }
            }
        }
        return out;
    }

    private static ByteBuffer concat(final PduEncoder encoder, final Pdu... pdus) {
        List<ByteBuffer> parts = new ArrayList<>();
        for (Pdu p : pdus) {
            encoder.encode(p, parts);
        }
        int total = parts.stream().mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer all = ByteBuffer.allocate(total);
        parts.forEach(all::put);
        return all.flip();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 48, 4096})
    void decodesPdusFedInPieces(final int chunk) {
        for (boolean digests : new boolean[] {false, true}) {
            PduEncoder encoder = new PduEncoder();
            encoder.headerDigest(digests);
            encoder.dataDigest(digests);
            PduDecoder decoder = new PduDecoder();
            decoder.headerDigest(digests);
            decoder.dataDigest(digests);

            Pdu a = scsiRead(1, 0);
            Pdu b = scsiRead(2, 13); // needs 3 bytes of padding
            Pdu c = scsiRead(3, 8192);
            List<Pdu> got = feed(decoder, concat(encoder, a, b, c), chunk);

            assertThat(got).hasSize(3);
            assertThat(got.get(0).data().remaining()).isZero();
            assertThat(got.get(1).data()).isEqualTo(b.data());
            assertThat(got.get(2).data()).isEqualTo(c.data());
            ScsiCommandHeader h = new ScsiCommandHeader(got.get(1).bhs());
            assertThat(h.opcode()).isEqualTo(Opcode.SCSI_COMMAND);
            assertThat(h.initiatorTaskTag()).isEqualTo(2);
            assertThat(h.read()).isTrue();
            assertThat(h.write()).isFalse();
            assertThat(h.cmdSN()).isEqualTo(7);
            assertThat(h.lun()).isEqualTo(1L << 48);
            assertThat(h.dataSegmentLength()).isEqualTo(13);
            assertThat(h.cdb()[0]).isEqualTo((byte) 0x28);
            assertThat(decoder.state()).isEqualTo(PduDecoder.State.READ_BHS);
        }
    }

    @Test
    void boundsDataSegmentLengthBeforeAllocating() {
        PduDecoder decoder = new PduDecoder();
        decoder.maxDataSegmentLength(8192);
        ByteBuffer bhs = ScsiCommandHeader.create().buffer();
        new BasicHeaderSegment(bhs).dataSegmentLength(BasicHeaderSegment.MAX_DATA_SEGMENT_LENGTH);

        DecodeResult r = decoder.decode(bhs.duplicate());

        assertThat(r).isInstanceOfSatisfying(DecodeResult.Malformed.class, m -> {
            assertThat(m.error()).isEqualTo(DecodeError.DATA_SEGMENT_TOO_LONG);
            assertThat(m.bhs().get(0)).isEqualTo(bhs.get(0));
        });
        assertThat(decoder.state()).isEqualTo(PduDecoder.State.FAILED);
        // stays failed: the stream is no longer framed
        assertThat(decoder.decode(ByteBuffer.allocate(100))).isInstanceOf(DecodeResult.Malformed.class);
    }

    @Test
    void rejectsOversizedAhs() {
        ByteBuffer bhs = ScsiCommandHeader.create().buffer();
        bhs.put(BasicHeaderSegment.TOTAL_AHS_LENGTH_OFFSET, (byte) 0xff);
        DecodeResult r = new PduDecoder().decode(bhs);
        assertThat(((DecodeResult.Malformed) r).error()).isEqualTo(DecodeError.AHS_TOO_LONG);
    }

    @Test
    void rejectsAhsWhoseLengthRunsPastTheArea() {
        ByteBuffer bhs = ScsiCommandHeader.create().buffer();
        bhs.put(BasicHeaderSegment.TOTAL_AHS_LENGTH_OFFSET, (byte) 1);
        ByteBuffer wire = ByteBuffer.allocate(52).put(bhs).putShort((short) 200).put((byte) 1).put((byte) 0).flip();
        DecodeResult r = new PduDecoder().decode(wire);
        assertThat(((DecodeResult.Malformed) r).error()).isEqualTo(DecodeError.AHS_MALFORMED);
    }

    @Test
    void keepsAhs() {
        ScsiCommandHeader h = ScsiCommandHeader.create();
        ByteBuffer ahs = ByteBuffer.allocate(8).putShort((short) 5).put((byte) 1).put(new byte[] {1, 2, 3, 4, 5}).flip();
        ByteBuffer wire = new PduEncoder().encodeToBuffer(new Pdu(h.buffer(), ahs, ByteBuffer.wrap(new byte[] {9})));
        Pdu got = ((DecodeResult.Decoded) new PduDecoder().decode(wire)).pdu();
        assertThat(got.ahs()).isEqualTo(ahs.rewind());
        assertThat(got.header().totalAhsLengthBytes()).isEqualTo(8);
        assertThat(got.data().get(0)).isEqualTo((byte) 9);
    }

    @Test
    void headerDigestMismatchIsFatal() {
        PduEncoder encoder = new PduEncoder();
        encoder.headerDigest(true);
        ByteBuffer wire = encoder.encodeToBuffer(scsiRead(1, 0));
        wire.put(20, (byte) (wire.get(20) ^ 1));
        PduDecoder decoder = new PduDecoder();
        decoder.headerDigest(true);

        DecodeResult r = decoder.decode(wire);

        assertThat(r).isInstanceOfSatisfying(DecodeResult.Malformed.class, m -> {
            assertThat(m.error()).isEqualTo(DecodeError.HEADER_DIGEST_MISMATCH);
            assertThat(m.error().streamStillFramed()).isFalse();
        });
    }

    @Test
    void dataDigestMismatchLeavesStreamFramed() {
        PduEncoder encoder = new PduEncoder();
        encoder.dataDigest(true);
        ByteBuffer wire = concat(encoder, scsiRead(1, 100), scsiRead(2, 10));
        wire.put(60, (byte) (wire.get(60) ^ 0x40)); // inside the first data segment
        PduDecoder decoder = new PduDecoder();
        decoder.dataDigest(true);

        DecodeResult first = decoder.decode(wire);
        DecodeResult second = decoder.decode(wire);

        assertThat(((DecodeResult.Malformed) first).error()).isEqualTo(DecodeError.DATA_DIGEST_MISMATCH);
        assertThat(((DecodeResult.Malformed) first).bhs().getInt(16)).isEqualTo(1);
        assertThat(((DecodeResult.Decoded) second).pdu().header().initiatorTaskTag()).isEqualTo(2);
    }

    @Test
    void digestIsCrc32cLittleEndianOnTheWire() {
        // RFC 3720 B.4 test vector: 32 bytes of zeros -> CRC32C 0x8a9136aa, sent as aa 36 91 8a.
        ByteBuffer wire = ByteBuffer.allocate(4);
        Crc32cDigest.put(wire, Crc32cDigest.compute(ByteBuffer.allocate(32)));
        assertThat(wire.array()).containsExactly(0xaa, 0x36, 0x91, 0x8a);
    }

    @Test
    void headerViewsAccessTheirFields() {
        LoginRequestHeader login = LoginRequestHeader.create()
                .transit(true).currentStage(1).nextStage(3).versionMax(0).versionMin(0)
                .isid(0x0002_3d00_0001L).tsih(0x1234).cid(7).cmdSN(42);
        assertThat(login.immediate()).isTrue();
        assertThat(login.opcode()).isEqualTo(Opcode.LOGIN_REQUEST);
        assertThat(login.transit()).isTrue();
        assertThat(login.continueFlag()).isFalse();
        assertThat(login.currentStage()).isEqualTo(1);
        assertThat(login.nextStage()).isEqualTo(3);
        assertThat(login.isid()).isEqualTo(0x0002_3d00_0001L);
        assertThat(login.tsih()).isEqualTo(0x1234);
        assertThat(login.buffer().get(1)).isEqualTo((byte) 0x87);

        DataInHeader in = DataInHeader.create().statusPresent(true).residualUnderflow(true).status(2).dataSN(5);
        in.finalFlag(true);
        assertThat(in.buffer().get(1)).isEqualTo((byte) 0x83);
        assertThat(in.status()).isEqualTo(2);

        TaskManagementRequestHeader tmf = TaskManagementRequestHeader.create().function(TaskManagementFunction.LOGICAL_UNIT_RESET);
        assertThat(tmf.buffer().get(1)).isEqualTo((byte) 0x85);
        assertThat(tmf.function()).isEqualTo(5);
    }

    @Test
    void serialNumbersWrap() {
        assertThat(SerialNumbers.lessThan(0xffffffff, 0)).isTrue();
        assertThat(SerialNumbers.lessThan(0, 0xffffffff)).isFalse();
        assertThat(SerialNumbers.inWindow(2, 0xfffffff0, 10)).isTrue();
        assertThat(SerialNumbers.inWindow(11, 0xfffffff0, 10)).isFalse();
    }
}
