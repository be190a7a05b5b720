package dev.virtman.iscsi.login;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.iscsi.pdu.LoginRequestHeader;
import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LoginNegotiatorTest {

    private static final String IQN = "iqn.2026-11.dev.virtman:t";
    private final AtomicInteger tsih = new AtomicInteger(100);

    private LoginNegotiator negotiator(final ChapConfig chap) {
        LoginTarget target = new LoginTarget(IQN, chap, Set.of());
        return new LoginNegotiator(name -> name.equals(IQN) ? target : null, TargetLoginSettings.DEFAULTS,
                tsih::incrementAndGet, new SecureRandom());
    }

    private static Pdu request(final int csg, final int nsg, final boolean transit, final boolean cont,
                               final ByteBuffer text) {
        LoginRequestHeader h = LoginRequestHeader.create().transit(transit).continueFlag(cont).currentStage(csg)
                .nextStage(transit ? nsg : 0).isid(0x123456L).cid(0).cmdSN(5);
        h.initiatorTaskTag(9);
        return Pdu.of(h, text);
    }

    private static Map<String, String> keys(final Pdu p) {
        Map<String, String> m = new LinkedHashMap<>();
        ((TextCodec.ParseResult.Parsed) TextCodec.decode(p.data())).parameters().forEach(kv -> m.put(kv.key(), kv.value()));
        return m;
    }

    @Test
    void textContinuedAcrossPdusIsJoined() {
        LoginNegotiator n = negotiator(null);
        byte[] text = ("InitiatorName=iqn.2026-11.x:i\0TargetName=" + IQN + "\0AuthMethod=None\0")
                .getBytes(StandardCharsets.UTF_8);
        LoginNegotiator.Step first = n.onRequest(request(0, 1, false, true, ByteBuffer.wrap(text, 0, 20)));
        assertThat(first).isInstanceOf(LoginNegotiator.Step.Continue.class);
        assertThat(first.response().data().remaining()).isZero();
        LoginNegotiator.Step second = n.onRequest(request(0, 1, true, false,
                ByteBuffer.wrap(text, 20, text.length - 20)));
        LoginResponseHeader h = new LoginResponseHeader(second.response().bhs());
        assertThat(h.statusClass()).isZero();
        assertThat(h.transit()).isTrue();
        assertThat(h.currentStage()).isZero();
        assertThat(h.nextStage()).isEqualTo(1);
        assertThat(keys(second.response())).containsEntry("AuthMethod", "None").containsEntry("TargetPortalGroupTag", "1");
        LoginNegotiator.Step last = n.onRequest(request(1, 3, true, false, TextCodec.encode(List.of(
                new TextParameter("MaxRecvDataSegmentLength", "32768")))));
        assertThat(last).isInstanceOfSatisfying(LoginNegotiator.Step.Complete.class, c -> {
            assertThat(c.result().tsih()).isEqualTo(101);
            assertThat(c.result().parameters().initiatorMaxRecvDataSegmentLength()).isEqualTo(32768);
            assertThat(new LoginResponseHeader(c.response().bhs()).tsih()).isEqualTo(101);
        });
    }

    @Test
    void doesNotLeaveSecurityStageBeforeChapSucceeds() {
        ChapConfig chap = ChapConfig.oneWay("u", "secret-secret-1");
        LoginNegotiator n = negotiator(chap);
        LoginNegotiator.Step s = n.onRequest(request(0, 1, true, false, TextCodec.encode(List.of(
                new TextParameter("InitiatorName", "iqn.2026-11.x:i"), new TextParameter("TargetName", IQN),
                new TextParameter("AuthMethod", "CHAP,None")))));
        LoginResponseHeader h = new LoginResponseHeader(s.response().bhs());
        assertThat(h.statusClass()).isZero();
        assertThat(h.transit()).isFalse(); // asked to transit, but CHAP has not happened
        assertThat(keys(s.response())).containsEntry("AuthMethod", "CHAP");

        s = n.onRequest(request(0, 1, false, false, TextCodec.encode(List.of(new TextParameter("CHAP_A", "7,5")))));
        Map<String, String> k = keys(s.response());
        assertThat(k).containsEntry("CHAP_A", "5").containsKeys("CHAP_I", "CHAP_C");
        byte[] challenge = Chap.decodeBinary(k.get("CHAP_C"));
        assertThat(challenge).hasSize(Chap.CHALLENGE_LENGTH);
        byte[] response = Chap.response(Integer.parseInt(k.get("CHAP_I")), "secret-secret-1", challenge);

        s = n.onRequest(request(0, 3, true, false, TextCodec.encode(List.of(new TextParameter("CHAP_N", "u"),
                new TextParameter("CHAP_R", Chap.encodeHex(response))))));
        assertThat(s).isInstanceOf(LoginNegotiator.Step.Complete.class);
    }

    /**
     * open-iscsi's CHAP login as it goes on the wire: InitiatorAlias (an "any stage" key) in the
     * first security PDU, CHAP, then the operational stage. It fails the login when a
     * security-stage response carries an operational key ("can't accept MaxRecvDataSegmentLength
     * in security stage"), so the target declares its limits only in the operational stage.
     */
    @Test
    void noOperationalDeclarationInTheSecurityStage() {
        LoginNegotiator n = negotiator(ChapConfig.oneWay("u", "secret-secret-1"));
        LoginNegotiator.Step s = n.onRequest(request(0, 1, false, false, TextCodec.encode(List.of(
                new TextParameter("InitiatorName", "iqn.2026-11.x:i"), new TextParameter("InitiatorAlias", "node1"),
                new TextParameter("TargetName", IQN), new TextParameter("SessionType", "Normal"),
                new TextParameter("AuthMethod", "CHAP")))));
        assertThat(keys(s.response())).containsEntry("AuthMethod", "CHAP").doesNotContainKey("MaxRecvDataSegmentLength");
        Map<String, String> k = keys(n.onRequest(request(0, 1, false, false,
                TextCodec.encode(List.of(new TextParameter("CHAP_A", "5"))))).response());
        assertThat(k).doesNotContainKey("MaxRecvDataSegmentLength");
        byte[] response = Chap.response(Integer.parseInt(k.get("CHAP_I")), "secret-secret-1", Chap.decodeBinary(k.get("CHAP_C")));
        s = n.onRequest(request(0, 1, true, false, TextCodec.encode(List.of(new TextParameter("CHAP_N", "u"),
                new TextParameter("CHAP_R", Chap.encodeHex(response))))));
        LoginResponseHeader transit = new LoginResponseHeader(s.response().bhs());
        assertThat(transit.transit()).isTrue();
        assertThat(transit.currentStage()).as("CSG echoes the request's, though the target transits").isZero();
        assertThat(transit.nextStage()).isEqualTo(1);
        assertThat(keys(s.response())).doesNotContainKey("MaxRecvDataSegmentLength");
        s = n.onRequest(request(1, 3, true, false, TextCodec.encode(List.of(
                new TextParameter("MaxRecvDataSegmentLength", "262144")))));
        assertThat(s).isInstanceOf(LoginNegotiator.Step.Complete.class);
        assertThat(keys(s.response())).containsKey("MaxRecvDataSegmentLength");
    }

    @Test
    void reflectedMutualChallengeFails() {
        ChapConfig chap = new ChapConfig("u", "secret-secret-1", "t", "other-secret-2");
        LoginNegotiator n = negotiator(chap);
        n.onRequest(request(0, 1, false, false, TextCodec.encode(List.of(
                new TextParameter("InitiatorName", "iqn.2026-11.x:i"), new TextParameter("TargetName", IQN),
                new TextParameter("AuthMethod", "CHAP")))));
        Map<String, String> k = keys(n.onRequest(request(0, 1, false, false,
                TextCodec.encode(List.of(new TextParameter("CHAP_A", "5"))))).response());
        byte[] challenge = Chap.decodeBinary(k.get("CHAP_C"));
        byte[] response = Chap.response(Integer.parseInt(k.get("CHAP_I")), "secret-secret-1", challenge);
        LoginNegotiator.Step s = n.onRequest(request(0, 1, true, false, TextCodec.encode(List.of(
                new TextParameter("CHAP_N", "u"), new TextParameter("CHAP_R", Chap.encodeHex(response)),
                new TextParameter("CHAP_I", "1"), new TextParameter("CHAP_C", k.get("CHAP_C"))))));
        assertThat(s).isInstanceOfSatisfying(LoginNegotiator.Step.Fail.class,
                f -> assertThat(f.status()).isEqualTo(LoginStatus.AUTHENTICATION_FAILURE));
    }

    @Test
    void rejectsNonZeroTsihAndBadVersion() {
        LoginRequestHeader h = LoginRequestHeader.create().currentStage(0).tsih(7);
        assertThat(negotiator(null).onRequest(Pdu.of(h))).isInstanceOfSatisfying(LoginNegotiator.Step.Fail.class,
                f -> assertThat(f.status()).isEqualTo(LoginStatus.SESSION_DOES_NOT_EXIST));
        LoginRequestHeader v = LoginRequestHeader.create().currentStage(0).versionMin(1);
        assertThat(negotiator(null).onRequest(Pdu.of(v))).isInstanceOfSatisfying(LoginNegotiator.Step.Fail.class,
                f -> assertThat(f.status()).isEqualTo(LoginStatus.UNSUPPORTED_VERSION));
    }

    @Test
    void binaryValuesDecode() {
        assertThat(Chap.decodeBinary("0x0a0B")).containsExactly(0x0a, 0x0b);
        assertThat(Chap.decodeBinary("0xabc")).containsExactly(0x0a, 0xbc);
        assertThat(Chap.decodeBinary("0bAQI=")).containsExactly(1, 2);
        assertThat(Chap.decodeBinary("0xzz")).isNull();
        assertThat(Chap.decodeBinary("12")).isNull();
    }
}
