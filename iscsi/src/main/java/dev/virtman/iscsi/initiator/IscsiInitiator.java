package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.LogoutRequestHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.TextAssembler;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import dev.virtman.iscsi.pdu.TextRequestHeader;
import dev.virtman.iscsi.pdu.TextResponseHeader;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VirtMan's iSCSI initiator: the entry point for discovery and for opening sessions and block
 * devices. Holds only the options; every session is independent.
 */
public final class IscsiInitiator {

    /** SendTargets=All asks for every target the portal's network entity offers (RFC 7143 §12.3). */
    static final String SEND_TARGETS = "SendTargets";
    static final String ALL = "All";
    static final String TARGET_NAME = "TargetName";
    static final String TARGET_ADDRESS = "TargetAddress";
    /** Bound on Text continuation rounds of one SendTargets exchange. */
    static final int MAX_TEXT_ROUNDS = 64;
    private static final int DISCOVERY_TASK_TAG = 1;
    private static final int LOGIN_CMD_SN = 1;

    private final InitiatorOptions options;

    public IscsiInitiator(final InitiatorOptions options) {
        this.options = options;
    }

    public InitiatorOptions options() {
        return options;
    }

    /** Logs in to {@code targetName} at {@code host:port}. */
    public IscsiSession openSession(final String host, final int port, final String targetName) throws IOException {
        return IscsiSession.open(host, port, targetName, options);
    }

    /** Opens the URL's LUN as a block device (URL credentials mean one-way CHAP). */
    public IscsiBlockDevice openBlockDevice(final IscsiUrl url) throws IOException {
        return IscsiBlockDevice.open(url, options);
    }

    /**
     * Runs a discovery session (SessionType=Discovery, RFC 7143 §12.3) against {@code host:port}:
     * login, Text request SendTargets=All (following C-bit continuations), logout.
     */
    public List<DiscoveredTarget> discover(final String host, final int port) throws IOException {
        long isid = RandomIsid.next();
        try (InitiatorConnection c = InitiatorConnection.open(host, port, options.connectTimeout())) {
            NegotiatedParameters p = new InitiatorLogin(c, options, null, isid, LOGIN_CMD_SN).login();
            c.readTimeout(options.loginTimeout()); // bounds the SendTargets exchange below (short-lived session)
            c.apply(p);
            int cmdSN = p.expCmdSN();
            int expStatSN = p.statSN() + 1;
            TextAssembler text = new TextAssembler();
            int ttt = dev.virtman.iscsi.pdu.BasicHeaderSegment.RESERVED_TAG;
            List<TextParameter> request = List.of(new TextParameter(SEND_TARGETS, ALL));
            try {
                for (int round = 0; ; round++) {
                    if (round >= MAX_TEXT_ROUNDS) {
                        throw new IscsiException("SendTargets response from " + host + ":" + port + " never ended");
                    }
                    TextRequestHeader h = TextRequestHeader.create();
                    h.targetTransferTag(ttt).cmdSN(cmdSN++).expStatSN(expStatSN);
                    h.initiatorTaskTag(DISCOVERY_TASK_TAG);
                    c.send(Pdu.of(h, TextCodec.encode(request)));
                    Pdu pdu = c.receive();
                    if (pdu.opcode() != Opcode.TEXT_RESPONSE) {
                        throw new IscsiException("discovery at " + host + ":" + port + " answered SendTargets with "
                                + pdu.opcode());
                    }
                    TextResponseHeader r = new TextResponseHeader(pdu.bhs());
                    expStatSN = r.statSN() + 1;
                    if (!text.append(pdu.data())) {
                        throw new IscsiException("SendTargets response longer than " + TextCodec.DEFAULT_MAX_TEXT_LENGTH);
                    }
                    if (!r.continueFlag() && r.finalFlag()) {
                        break;
                    }
                    // §11.10.4: ask for the rest with an empty request echoing the target's TTT
                    ttt = r.targetTransferTag();
                    request = List.of();
                }
            } catch (SocketTimeoutException e) {
                throw new IscsiException("SendTargets at " + host + ":" + port + " timed out", e);
            }
            TextCodec.ParseResult parsed = TextCodec.decode(text.take());
            if (parsed instanceof TextCodec.ParseResult.Invalid invalid) {
                throw new IscsiException("malformed SendTargets response: " + invalid.reason());
            }
            logout(c, cmdSN, expStatSN);
            return targets(((TextCodec.ParseResult.Parsed) parsed).parameters());
        }
    }

    /** Groups TargetAddress values under the TargetName they follow (§12.3). */
    static List<DiscoveredTarget> targets(final List<TextParameter> keys) {
        Map<String, List<String>> byName = new LinkedHashMap<>();
        List<String> current = null;
        for (TextParameter p : keys) {
            if (TARGET_NAME.equals(p.key())) {
                current = byName.computeIfAbsent(p.value(), k -> new ArrayList<>());
            } else if (TARGET_ADDRESS.equals(p.key()) && current != null) {
                current.add(p.value());
            }
        }
        List<DiscoveredTarget> out = new ArrayList<>();
        byName.forEach((name, addresses) -> out.add(new DiscoveredTarget(name, addresses)));
        return List.copyOf(out);
    }

    private static void logout(final InitiatorConnection c, final int cmdSN, final int expStatSN) {
        LogoutRequestHeader h = LogoutRequestHeader.create();
        h.immediate(true);
        h.reasonCode(LogoutRequestHeader.REASON_CLOSE_SESSION).cid(0).cmdSN(cmdSN).expStatSN(expStatSN);
        h.initiatorTaskTag(DISCOVERY_TASK_TAG + 1);
        try {
            c.send(Pdu.of(h));
            c.receive(); // the Logout Response; its content changes nothing for us
        } catch (IOException e) {
            // the discovery already succeeded; a target that just drops the connection is fine
        }
    }
}
