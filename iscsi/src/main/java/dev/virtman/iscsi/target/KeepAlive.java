package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.NopInHeader;
import dev.virtman.iscsi.pdu.NopOutHeader;
import dev.virtman.iscsi.pdu.Pdu;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NOP exchanges (RFC 7143 §11.18, §11.19): answers an initiator's NOP-Out ping, and pings an
 * idle initiator with a NOP-In, closing the connection when the answer does not come within
 * the NOP-In timeout. The reader calls {@link #onNopOut}; the server's once-a-second tick calls
 * {@link #tick}.
 */
final class KeepAlive {

    private static final Logger LOG = LoggerFactory.getLogger(KeepAlive.class);
    private static final int RESERVED_TAG = BasicHeaderSegment.RESERVED_TAG;

    private final FullFeatureSession session;
    private final TaskSet tasks;
    private volatile long pingSentNanos;
    private volatile int pingTag = RESERVED_TAG;

    KeepAlive(final FullFeatureSession session, final TaskSet tasks) {
        this.session = session;
        this.tasks = tasks;
    }

    /** Returns whether the NOP-Out is a command for CmdSN ordering; else it was an answer and is consumed. */
    boolean onNopOut(final Pdu pdu) {
        NopOutHeader h = new NopOutHeader(pdu.bhs());
        if (h.initiatorTaskTag() == RESERVED_TAG) {
            // An answer to our NOP-In (§11.18.3), or a ping that wants no answer; never advances CmdSN.
            if (h.targetTransferTag() != RESERVED_TAG && h.targetTransferTag() == pingTag) {
                pingTag = RESERVED_TAG;
            }
            return false;
        }
        return true;
    }

    /** Answers an initiator's ping with a NOP-In echoing its data (§11.19). */
    void answer(final Pdu pdu) {
        NopOutHeader req = new NopOutHeader(pdu.bhs());
        NopInHeader resp = NopInHeader.create().targetTransferTag(RESERVED_TAG);
        resp.initiatorTaskTag(req.initiatorTaskTag());
        resp.lun(req.lun());
        ByteBuffer ping = pdu.data();
        int max = session.parameters().initiatorMaxRecvDataSegmentLength();
        if (ping.remaining() > max) {
            ping = ping.slice(ping.position(), max);
        }
        session.send(new ResponseWriter.Outbound(Pdu.of(resp, ping), ResponseWriter.Sequencing.STATUS));
    }

    /** Pings an idle connection, or closes it when the last ping went unanswered too long. */
    void tick(final long now, final long lastReceiveNanos) {
        TargetTuning tuning = session.context().tuning();
        if (pingTag != RESERVED_TAG) {
            if (now - pingSentNanos > tuning.nopInTimeout().toNanos()) {
                LOG.info("{}: no answer to NOP-In within {}; closing", session.connection().remote(),
                        tuning.nopInTimeout());
                session.connection().close();
            }
            return;
        }
        if (now - lastReceiveNanos > tuning.nopInInterval().toNanos() && tasks.isEmpty()) {
            int tag = pingTagFor(now);
            NopInHeader ping = NopInHeader.create().targetTransferTag(tag);
            ping.initiatorTaskTag(RESERVED_TAG);
            pingSentNanos = now;
            pingTag = tag;
            session.send(new ResponseWriter.Outbound(Pdu.of(ping), ResponseWriter.Sequencing.PEEK_STAT_SN));
        }
    }

    /** Ping tags come from the reader's tag space only by value; any tag but 0xffffffff works. */
    private static int pingTagFor(final long now) {
        int tag = (int) (now >>> 20) | 0x4000_0000;
        return tag == RESERVED_TAG ? 1 : tag;
    }
}
