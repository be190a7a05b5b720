package dev.virtman.iscsi.pdu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class PduRoundTripProperties {

    @Property(tries = 300)
    void encodeThenDecodeGivesThePduBack(
            @ForAll @Size(BasicHeaderSegment.LENGTH) final byte[] header,
            @ForAll @IntRange(min = 0, max = 20) final int ahsWords,
            @ForAll @Size(max = 3000) final byte[] data,
            @ForAll final boolean headerDigest,
            @ForAll final boolean dataDigest,
            @ForAll @IntRange(min = 1, max = 700) final int chunk) {
        ByteBuffer ahs = ByteBuffer.allocate(ahsWords * Integer.BYTES);
        if (ahsWords > 0) {
            ahs.putShort(0, (short) (ahsWords * Integer.BYTES - 3)); // one AHS filling the area
        }
        Pdu pdu = new Pdu(ByteBuffer.wrap(header.clone()), ahs, ByteBuffer.wrap(data));
        PduEncoder encoder = new PduEncoder();
        encoder.headerDigest(headerDigest);
        encoder.dataDigest(dataDigest);
        ByteBuffer wire = encoder.encodeToBuffer(pdu);
        assertThat(wire.remaining()).isEqualTo(encoder.encodedLength(pdu));

        PduDecoder decoder = new PduDecoder();
        decoder.maxDataSegmentLength(4096);
        decoder.headerDigest(headerDigest);
        decoder.dataDigest(dataDigest);
        Pdu got = null;
        while (got == null) {
            ByteBuffer piece = wire.slice(wire.position(), Math.min(chunk, wire.remaining()));
            wire.position(wire.position() + piece.remaining());
            DecodeResult r = decoder.decode(piece);
            if (r instanceof DecodeResult.Decoded d) {
                got = d.pdu();
            } else {
                assertThat(r).isInstanceOf(DecodeResult.NeedMoreInput.class);
                assertThat(wire.hasRemaining()).isTrue();
            }
        }
        assertThat(wire.hasRemaining()).isFalse();
        assertThat(got.bhs().duplicate().clear()).isEqualTo(pdu.bhs().duplicate().clear());
        assertThat(got.ahs()).isEqualTo(ahs.duplicate().clear());
        assertThat(got.data()).isEqualTo(ByteBuffer.wrap(data));
    }
}
