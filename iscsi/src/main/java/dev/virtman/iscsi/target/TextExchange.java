package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.RejectReason;
import dev.virtman.iscsi.pdu.TextAssembler;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import dev.virtman.iscsi.pdu.TextRequestHeader;
import dev.virtman.iscsi.pdu.TextResponseHeader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Text requests (RFC 7143 §11.10, §11.11): gathers a request continued over several PDUs,
 * answers SendTargets (and NotUnderstood to any other key), and sends an answer longer than
 * the initiator's MaxRecvDataSegmentLength in pieces, each fetched by a Text Request carrying
 * our Target Transfer Tag. Reader thread only.
 */
final class TextExchange {

    private static final int RESERVED_TAG = BasicHeaderSegment.RESERVED_TAG;

    private final FullFeatureSession session;
    private final TransferTags transferTags;
    private final TextAssembler textIn = new TextAssembler();
    private ByteBuffer pendingTextOut;
    private int pendingTextTag = RESERVED_TAG;

    TextExchange(final FullFeatureSession session, final TransferTags transferTags) {
        this.session = session;
        this.transferTags = transferTags;
    }

    void onRequest(final Pdu pdu) {
        TextRequestHeader req = new TextRequestHeader(pdu.bhs());
        if (req.targetTransferTag() != RESERVED_TAG) {
            if (pendingTextOut == null || req.targetTransferTag() != pendingTextTag) {
                session.reject(RejectReason.INVALID_PDU_FIELD, pdu.bhs());
                return;
            }
            sendTextChunk(req);
            return;
        }
        pendingTextOut = null;
        if (!textIn.append(pdu.data())) {
            textIn.take();
            session.reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            return;
        }
        if (req.continueFlag()) {
            // §11.10.2: more text follows; answer empty so the initiator sends it
            TextResponseHeader resp = TextResponseHeader.create().targetTransferTag(transferTags.allocate());
            resp.finalFlag(false);
            resp.initiatorTaskTag(req.initiatorTaskTag());
            resp.lun(req.lun());
            session.send(new ResponseWriter.Outbound(Pdu.of(resp), ResponseWriter.Sequencing.STATUS));
            return;
        }
        TextCodec.ParseResult parsed = TextCodec.decode(textIn.take());
        if (!(parsed instanceof TextCodec.ParseResult.Parsed p)) {
            session.reject(RejectReason.PROTOCOL_ERROR, pdu.bhs());
            return;
        }
        TargetContext context = session.context();
        ExportedTarget target = session.target();
        List<TextParameter> answer = new ArrayList<>();
        for (TextParameter kv : p.parameters()) {
            if (kv.key().equals("SendTargets")) {
                answer.addAll(SendTargetsResponder.answer(kv.value(), session.discovery(),
                        session.login().initiatorName(), context.targets().all(),
                        target == null ? null : target.iqn(), advertisedPortal(),
                        context.tuning().login().targetPortalGroupTag()));
            } else {
                answer.add(new TextParameter(kv.key(), "NotUnderstood"));
            }
        }
        pendingTextOut = TextCodec.encode(answer);
        pendingTextTag = transferTags.allocate();
        sendTextChunk(req);
    }

    /** Sends the next piece of a Text Response, continuing (C bit) when it exceeds MaxRecvDataSegmentLength. */
    private void sendTextChunk(final TextRequestHeader req) {
        int max = session.parameters().initiatorMaxRecvDataSegmentLength();
        int n = Math.min(max, pendingTextOut.remaining());
        ByteBuffer chunk = pendingTextOut.slice(pendingTextOut.position(), n);
        pendingTextOut.position(pendingTextOut.position() + n);
        boolean more = pendingTextOut.hasRemaining();
        TextResponseHeader resp = TextResponseHeader.create().continueFlag(more)
                .targetTransferTag(more ? pendingTextTag : RESERVED_TAG);
        resp.finalFlag(!more);
        resp.initiatorTaskTag(req.initiatorTaskTag());
        resp.lun(req.lun());
        if (!more) {
            pendingTextOut = null;
            pendingTextTag = RESERVED_TAG;
        }
        session.send(new ResponseWriter.Outbound(Pdu.of(resp, chunk), ResponseWriter.Sequencing.STATUS));
    }

    /** The portal SendTargets names: the configured one, else the address this connection reached. */
    private InetSocketAddress advertisedPortal() {
        TargetContext context = session.context();
        if (context.advertisedPortal() != null) {
            return context.advertisedPortal();
        }
        InetSocketAddress bound = context.boundPortal();
        if (!bound.getAddress().isAnyLocalAddress()) {
            return bound;
        }
        try {
            InetSocketAddress local = session.connection().localAddress();
            return new InetSocketAddress(local.getAddress(), bound.getPort());
        } catch (IOException e) {
            return bound;
        }
    }
}
