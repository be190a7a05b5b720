package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.SessionParameters;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * Collects the data of one write command (RFC 7143 §4.2.5, §11.7.1, §11.8): immediate data in the
 * command PDU, then an unsolicited Data-Out sequence up to FirstBurstLength when InitialR2T=No,
 * then solicited sequences, each answering one R2T of at most MaxBurstLength bytes, with at most
 * MaxOutstandingR2T R2Ts open. With DataPDUInOrder=Yes (the only value we negotiate, §13.18)
 * every sequence arrives with increasing contiguous offsets and DataSNs from 0, so each check is
 * "is this exactly the next PDU of its sequence".
 *
 * <p>Used only by the connection's reader thread. A transfer without a buffer consumes and
 * discards the unsolicited data of a command that is answered BUSY.
 */
final class WriteTransfer {

    /** One R2T to send. */
    record R2tRequest(int targetTransferTag, int r2tSN, int bufferOffset, int length) {
    }

    private static final class Burst {
        final int r2tSN;
        final int end;
        int nextOffset;
        int nextDataSN;

        Burst(final int r2tSN, final int offset, final int length) {
            this.r2tSN = r2tSN;
            this.nextOffset = offset;
            this.end = offset + length;
        }
    }

    private final int expectedLength;
    private final int unsolicitedEnd;
    private final int maxBurstLength;
    private final int maxOutstandingR2T;
    private final ByteBuffer buffer;
    private final Map<Integer, Burst> bursts = new LinkedHashMap<>();
    private int unsolicitedNext;
    private int unsolicitedDataSN;
    private boolean unsolicitedDone;
    private int solicitNext;
    private int nextR2TSN;
    private long received;

    /**
     * @param expectedLength  the command's Expected Data Transfer Length
     * @param immediate       the command PDU's data segment (already checked against the limits)
     * @param parameters      the session's negotiated parameters
     * @param buffer          where the data goes ({@code expectedLength} bytes), or {@code null} to discard
     */
    WriteTransfer(final int expectedLength, final ByteBuffer immediate, final SessionParameters parameters,
                  final ByteBuffer buffer) {
        this.expectedLength = expectedLength;
        int immediateLength = immediate.remaining();
        // §13.10/§13.14: with InitialR2T=No the initiator sends unsolicited data up to
        // min(FirstBurstLength, EDTL), immediate data included
        this.unsolicitedEnd = parameters.initialR2T() ? immediateLength
                : Math.max(immediateLength, Math.min(parameters.firstBurstLength(), expectedLength));
        this.maxBurstLength = parameters.maxBurstLength();
        this.maxOutstandingR2T = parameters.maxOutstandingR2T();
        this.buffer = buffer;
        if (buffer != null && immediateLength > 0) {
            buffer.put(0, immediate, immediate.position(), immediateLength);
        }
        this.received = immediateLength;
        this.unsolicitedNext = immediateLength;
        this.unsolicitedDone = unsolicitedEnd == immediateLength;
        this.solicitNext = unsolicitedEnd;
    }

    /** The most unsolicited data a command may carry (immediate + unsolicited Data-Out). */
    static int unsolicitedLimit(final int expectedLength, final SessionParameters p) {
        return Math.min(expectedLength, p.unsolicitedDataLimit());
    }

    /** Whether this transfer only discards (the command will be answered BUSY). */
    boolean discarding() {
        return buffer == null;
    }

    ByteBuffer buffer() {
        return buffer;
    }

    /** Number of R2Ts sent so far (for the SCSI Response's ExpDataSN, §11.4.6). */
    int r2tCount() {
        return nextR2TSN;
    }

    /**
     * Accepts one Data-Out PDU; returns {@code null} when it was the expected next PDU of its
     * sequence, else what is wrong with it (nothing is copied then).
     */
    String accept(final int targetTransferTag, final int dataSN, final int bufferOffset, final boolean finalPdu,
                  final ByteBuffer data) {
        int length = data.remaining();
        if (targetTransferTag == -1) {
            if (unsolicitedDone) {
                return "unsolicited Data-Out after the unsolicited sequence ended";
            }
            if (bufferOffset != unsolicitedNext || dataSN != unsolicitedDataSN) {
                return "unsolicited Data-Out out of order: offset " + bufferOffset + " DataSN " + dataSN
                        + ", expected " + unsolicitedNext + "/" + unsolicitedDataSN;
            }
            if ((long) bufferOffset + length > unsolicitedEnd) {
                return "unsolicited data beyond FirstBurstLength";
            }
            copy(bufferOffset, data);
            unsolicitedNext += length;
            unsolicitedDataSN++;
            if (finalPdu) {
                if (unsolicitedNext != unsolicitedEnd) {
                    return "unsolicited sequence ended after " + unsolicitedNext + " of " + unsolicitedEnd + " bytes";
                }
                unsolicitedDone = true;
            }
            return null;
        }
        Burst b = bursts.get(targetTransferTag);
        if (b == null) {
            return "Data-Out for unknown Target Transfer Tag 0x" + Integer.toHexString(targetTransferTag);
        }
        if (bufferOffset != b.nextOffset || dataSN != b.nextDataSN) {
            return "solicited Data-Out out of order: offset " + bufferOffset + " DataSN " + dataSN
                    + ", expected " + b.nextOffset + "/" + b.nextDataSN;
        }
        if ((long) bufferOffset + length > b.end) {
            return "Data-Out beyond the R2T's Desired Data Transfer Length";
        }
        copy(bufferOffset, data);
        b.nextOffset += length;
        b.nextDataSN++;
        if (finalPdu) {
            if (b.nextOffset != b.end) {
                return "solicited sequence ended short";
            }
            bursts.remove(targetTransferTag);
        }
        return null;
    }

    private void copy(final int offset, final ByteBuffer data) {
        if (buffer != null) {
            buffer.put(offset, data, data.position(), data.remaining());
        }
        received += data.remaining();
    }

    /** New R2Ts the target may send now, with tags from {@code tags}. */
    List<R2tRequest> nextR2Ts(final IntSupplier tags) {
        List<R2tRequest> out = new ArrayList<>(0);
        if (buffer == null) {
            return out;
        }
        while (bursts.size() < maxOutstandingR2T && solicitNext < expectedLength) {
            int length = Math.min(maxBurstLength, expectedLength - solicitNext);
            int tag = tags.getAsInt();
            int r2tSN = nextR2TSN++;
            bursts.put(tag, new Burst(r2tSN, solicitNext, length));
            out.add(new R2tRequest(tag, r2tSN, solicitNext, length));
            solicitNext += length;
        }
        return out;
    }

    /** Whether every byte the command needs has arrived (for a discarding transfer: the unsolicited part). */
    boolean complete() {
        if (buffer == null) {
            return unsolicitedDone;
        }
        return unsolicitedDone && bursts.isEmpty() && solicitNext >= expectedLength && received == expectedLength;
    }
}
