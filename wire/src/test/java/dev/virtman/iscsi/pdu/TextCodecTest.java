package dev.virtman.iscsi.pdu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextCodecTest {

    private static ByteBuffer text(final String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void roundTripsPairsInOrderWithRepeats() {
        List<TextParameter> params = List.of(
                new TextParameter("TargetName", "iqn.2026-11.dev.virtman:a"),
                new TextParameter("TargetAddress", "127.0.0.1:3260,1"),
                new TextParameter("TargetName", "iqn.2026-11.dev.virtman:b"),
                new TextParameter("X-empty", ""));
        ByteBuffer wire = TextCodec.encode(params);
        assertThat(wire.get(wire.limit() - 1)).isZero();
        assertThat(TextCodec.decode(wire)).isEqualTo(new TextCodec.ParseResult.Parsed(params));
    }

    @Test
    void ignoresPaddingNuls() {
        assertThat(TextCodec.decode(text("A=1\0\0\0\0B=2\0")))
                .isEqualTo(new TextCodec.ParseResult.Parsed(List.of(new TextParameter("A", "1"), new TextParameter("B", "2"))));
    }

    @Test
    void valueMayContainEquals() {
        assertThat(TextCodec.decode(text("CHAP_C=0x3d=\0")))
                .isEqualTo(new TextCodec.ParseResult.Parsed(List.of(new TextParameter("CHAP_C", "0x3d="))));
    }

    @Test
    void rejectsMalformedAndOversized() {
        assertThat(TextCodec.decode(text("novalue\0"))).isInstanceOf(TextCodec.ParseResult.Invalid.class);
        assertThat(TextCodec.decode(text("=x\0"))).isInstanceOf(TextCodec.ParseResult.Invalid.class);
        assertThat(TextCodec.decode(text("K".repeat(64) + "=1\0"))).isInstanceOf(TextCodec.ParseResult.Invalid.class);
        assertThat(TextCodec.decode(text("K=" + "v".repeat(8193) + "\0"))).isInstanceOf(TextCodec.ParseResult.Invalid.class);
        assertThat(TextCodec.decode(text("A=1\0".repeat(10)), 1000, 5)).isInstanceOf(TextCodec.ParseResult.Invalid.class);
        assertThat(TextCodec.decode(text("A=1\0".repeat(10)), 20, 100)).isInstanceOf(TextCodec.ParseResult.Invalid.class);
    }

    @Test
    void assemblerJoinsContinuedSegmentsWithinBound() {
        TextAssembler a = new TextAssembler(16);
        assertThat(a.append(text("Initiator"))).isTrue();
        assertThat(a.append(text("Name=x\0"))).isTrue();
        assertThat(a.append(text("toolong"))).isFalse();
        assertThat(TextCodec.decode(a.take()))
                .isEqualTo(new TextCodec.ParseResult.Parsed(List.of(new TextParameter("InitiatorName", "x"))));
        assertThat(a.length()).isZero();
    }
}
