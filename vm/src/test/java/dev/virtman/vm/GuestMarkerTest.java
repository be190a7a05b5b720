package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GuestMarkerTest {

    @Test
    void readsUptimeFromUpMarker() {
        assertThat(GuestMarker.uptimeSeconds("VIRTMAN-GUEST-UP uptime=13.42", GuestMarker.UP)).hasValue(13.42);
        assertThat(GuestMarker.uptimeSeconds("VIRTMAN-GUEST-UP uptime=7", GuestMarker.UP)).hasValue(7.0);
    }

    @Test
    void findsMarkerBehindTerminalNoise() {
        // What the serial console really delivers: screen-clearing escapes and a CR before the marker.
        String line = "\u001bc\u001b[?7l\u001b[2JVIRTMAN-GUEST-UP uptime=45.80\r";
        assertThat(GuestMarker.uptimeSeconds(line, GuestMarker.UP)).hasValue(45.80);
    }

    @Test
    void otherLinesHaveNoUptime() {
        assertThat(GuestMarker.uptimeSeconds("[    1.0] uptime=3.0 systemd", GuestMarker.UP)).isEmpty();
        assertThat(GuestMarker.uptimeSeconds("VIRTMAN-GUEST-UP", GuestMarker.UP)).isEmpty();
        assertThat(GuestMarker.uptimeSeconds("uptime=1.0 VIRTMAN-GUEST-UP", GuestMarker.UP)).isEmpty();
    }

    @Test
    void readsWrittenToken() {
        assertThat(GuestMarker.writtenToken("VIRTMAN-GUEST-WROTE cow-1234\r")).hasValue("cow-1234");
        assertThat(GuestMarker.writtenToken("VIRTMAN-GUEST-UP uptime=1")).isEmpty();
    }
}
