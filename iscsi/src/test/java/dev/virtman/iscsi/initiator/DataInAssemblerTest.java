package dev.virtman.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DataInAssemblerTest {

    private static ByteBuffer bytes(final int n, final int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    @Test
    void placesInOrderPayloadsRelativeToTheBufferPosition() throws Exception {
        byte[] backing = new byte[20];
        ByteBuffer dst = ByteBuffer.wrap(backing).position(4);
        DataInAssembler a = new DataInAssembler(dst, 12);
        a.accept(0, 0, bytes(8, 1));
        a.accept(1, 8, bytes(4, 2));
        assertThat(a.received()).isEqualTo(12);
        assertThat(Arrays.copyOfRange(backing, 0, 4)).containsOnly(0);
        assertThat(Arrays.copyOfRange(backing, 4, 12)).containsOnly(1);
        assertThat(Arrays.copyOfRange(backing, 12, 16)).containsOnly(2);
        assertThat(Arrays.copyOfRange(backing, 16, 20)).containsOnly(0);
    }

    @Test
    void aBufferOffsetBeyondTheBufferIsAnErrorNotAnOverflow() {
        byte[] backing = new byte[16];
        DataInAssembler a = new DataInAssembler(ByteBuffer.wrap(backing, 0, 8).slice(), 8);
        assertThatThrownBy(() -> a.accept(0, 1 << 30, bytes(8, 9)))
                .isInstanceOf(IscsiException.class).hasMessageContaining("BufferOffset");
        assertThatThrownBy(() -> a.accept(0, -8, bytes(8, 9))).isInstanceOf(IscsiException.class);
        assertThat(backing).containsOnly(0);
    }

    @Test
    void morePayloadThanExpectedIsRejected() throws Exception {
        byte[] backing = new byte[16];
        DataInAssembler a = new DataInAssembler(ByteBuffer.wrap(backing), 8);
        a.accept(0, 0, bytes(6, 1));
        assertThatThrownBy(() -> a.accept(1, 6, bytes(4, 2)))
                .isInstanceOf(IscsiException.class).hasMessageContaining("overruns");
        assertThat(Arrays.copyOfRange(backing, 6, 16)).containsOnly(0);
    }

    @Test
    void gapsOverlapsAndDataSnJumpsAreRejected() throws Exception {
        DataInAssembler a = new DataInAssembler(ByteBuffer.allocate(16), 16);
        a.accept(0, 0, bytes(4, 1));
        assertThatThrownBy(() -> a.accept(1, 8, bytes(4, 1))).hasMessageContaining("BufferOffset");
        assertThatThrownBy(() -> a.accept(1, 0, bytes(4, 1))).hasMessageContaining("BufferOffset");
        assertThatThrownBy(() -> a.accept(2, 4, bytes(4, 1))).hasMessageContaining("DataSN");
        a.accept(1, 4, bytes(4, 1));
        assertThat(a.received()).isEqualTo(8);
    }

    @Test
    void resetStartsOverForAReissue() throws Exception {
        DataInAssembler a = new DataInAssembler(ByteBuffer.allocate(8), 8);
        a.accept(0, 0, bytes(8, 1));
        a.reset();
        assertThat(a.received()).isZero();
        a.accept(0, 0, bytes(8, 2));
        assertThat(a.received()).isEqualTo(8);
    }

    @Test
    void refusesABufferSmallerThanTheExpectedLength() {
        assertThatThrownBy(() -> new DataInAssembler(ByteBuffer.allocate(4), 8))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
