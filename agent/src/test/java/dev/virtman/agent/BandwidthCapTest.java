package dev.virtman.agent;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BandwidthCapTest {
    @Test
    void byteRatesAreBinaryBitRatesDecimal() {
        assertThat(BandwidthCap.parse("100M")).isEqualTo(100L << 20);
        assertThat(BandwidthCap.parse("50MiB/s")).isEqualTo(50L << 20);
        assertThat(BandwidthCap.parse("512K")).isEqualTo(512L << 10);
        assertThat(BandwidthCap.parse("1G")).isEqualTo(1L << 30);
        assertThat(BandwidthCap.parse("4096")).isEqualTo(4096);
        assertThat(BandwidthCap.parse("1gbit")).isEqualTo(125_000_000L);
        assertThat(BandwidthCap.parse("500mbit")).isEqualTo(62_500_000L);
        assertThat(BandwidthCap.parse("none")).isZero();
        assertThat(BandwidthCap.parse("0")).isZero();
    }

    @Test
    void nonsenseIsRejectedWithAnExample() {
        assertThatThrownBy(() -> BandwidthCap.parse("fast")).hasMessageContaining("100M");
        assertThatThrownBy(() -> BandwidthCap.parse("-5M")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BandwidthCap.parse("1bit")).hasMessageContaining("too small");
        assertThatThrownBy(() -> BandwidthCap.parse("99999999999T")).isInstanceOf(ArithmeticException.class);
    }
}
