package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.SessionParameters;
import dev.virtman.iscsi.pdu.DataInHeader;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.ScsiResponseHeader;
import dev.virtman.scsi.ScsiResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a {@link ScsiResponse} into the PDUs that carry it (RFC 7143 §11.4, §11.7.2):
 *
 * <ul>
 *   <li>read data as Data-In PDUs of at most the initiator's MaxRecvDataSegmentLength, with the F
 *       bit closing each Data-In sequence of at most MaxBurstLength bytes (§13.13) and DataSN
 *       counting from 0;</li>
 *   <li>status phase-collapsed into the last Data-In (S bit, §11.7.4) when there is data and no
 *       sense, otherwise a separate SCSI Response carrying SenseLength and sense (§11.4.7);</li>
 *   <li>residuals (§11.4.5): overflow when the command produced more than the Expected Data
 *       Transfer Length, underflow when it produced less.</li>
 * </ul>
 * Data segments are slices of the executor's buffer, never copies.
 */
final class ResponseBuilder {

    /** SenseLength, the two bytes before the sense data in a SCSI Response's data segment (§11.4.7.2). */
    private static final int SENSE_LENGTH_FIELD = 2;

    private ResponseBuilder() {
    }

    /**
     * The PDUs answering {@code task}; {@code onDone} is attached to the last one.
     *
     * @param r2tCount R2Ts sent for the task (write commands), for ExpDataSN
     */
    static List<ResponseWriter.Outbound> build(final ScsiTask task, final ScsiResponse response,
                                               final SessionParameters p, final int r2tCount, final Runnable onDone) {
        ByteBuffer data = response.dataIn() == null ? null : response.dataIn().duplicate();
        int produced = data == null ? 0 : data.remaining();
        int sendable = task.read ? Math.min(produced, task.expectedLength) : 0;
        boolean overflow = false;
        boolean underflow = false;
        int residual = 0;
        if (task.read) {
            if (produced > task.expectedLength) {
                overflow = true;
                residual = produced - task.expectedLength;
            } else if (produced < task.expectedLength) {
                underflow = true;
                residual = task.expectedLength - produced;
            }
        } else if (task.write && response.dataOutTransferLength() >= 0) {
            // §11.4.5.2: compare the SCSI-Presented Data Transfer Length with the EDTL
            long spdtl = response.dataOutTransferLength();
            if (spdtl > task.expectedLength) {
                overflow = true;
                residual = (int) Math.min(Integer.MAX_VALUE, spdtl - task.expectedLength);
            } else if (spdtl < task.expectedLength) {
                underflow = true;
                residual = (int) (task.expectedLength - spdtl);
            }
        } else if (!task.write && produced > 0) {
            // data the initiator did not ask for (R bit clear): all of it is overflow
            overflow = true;
            residual = produced;
        }
        byte[] sense = response.senseData();
        boolean hasSense = sense != null && sense.length > 0;
        boolean collapse = sendable > 0 && !hasSense;

        List<ResponseWriter.Outbound> out = new ArrayList<>();
        int segmentMax = p.initiatorMaxRecvDataSegmentLength();
        int burst = p.maxBurstLength();
        int dataSN = 0;
        int offset = 0;
        while (offset < sendable) {
            int burstEnd = Math.min(sendable, (offset / burst + 1) * burst);
            int length = Math.min(segmentMax, burstEnd - offset);
            boolean last = offset + length == sendable;
            DataInHeader h = DataInHeader.create().dataSN(dataSN++).bufferOffset(offset).targetTransferTag(-1);
            h.initiatorTaskTag(task.initiatorTaskTag);
            h.lun(task.lun);
            h.finalFlag(offset + length == burstEnd);
            ResponseWriter.Sequencing seq = ResponseWriter.Sequencing.WINDOW_ONLY;
            if (last && collapse) {
                h.statusPresent(true).status(response.status())
                        .residualOverflow(overflow).residualUnderflow(underflow).residualCount(residual);
                seq = ResponseWriter.Sequencing.STATUS;
            }
            ByteBuffer slice = data.slice(data.position() + offset, length);
            out.add(new ResponseWriter.Outbound(Pdu.of(h, slice), seq, last && collapse ? onDone : null));
            offset += length;
        }
        if (!collapse) {
            ScsiResponseHeader h = ScsiResponseHeader.create()
                    .response(ScsiResponseHeader.RESPONSE_COMPLETED)
                    .status(response.status())
                    .residualOverflow(overflow)
                    .residualUnderflow(underflow)
                    .residualCount(residual)
                    .expDataSN(task.read ? dataSN : r2tCount);
            h.initiatorTaskTag(task.initiatorTaskTag);
            ByteBuffer senseSegment = ByteBuffer.allocate(0);
            if (hasSense) {
                senseSegment = ByteBuffer.allocate(SENSE_LENGTH_FIELD + sense.length);
                senseSegment.putShort((short) sense.length).put(sense).flip();
            }
            out.add(new ResponseWriter.Outbound(Pdu.of(h, senseSegment), ResponseWriter.Sequencing.STATUS, onDone));
        }
        return out;
    }

    /** A SCSI Response with only a status (and optional sense), e.g. BUSY or a data-phase error. */
    static ResponseWriter.Outbound status(final ScsiTask task, final int status, final byte[] sense,
                                          final int r2tCount) {
        return build(task, new ScsiResponse(status, null, sense), SessionParameters.RFC_DEFAULTS, r2tCount, null).get(0);
    }
}
