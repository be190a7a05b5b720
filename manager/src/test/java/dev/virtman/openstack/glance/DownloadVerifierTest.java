package dev.virtman.openstack.glance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.openstack.glance.GlanceException.Kind;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class DownloadVerifierTest {

    private static final String ID = "6f1c3b1e-1111-4222-8333-944455556666";
    private static final byte[] DATA = data(100_003);

    @Test
    void matchingStreamFedOneByteAtATimePasses() {
        DownloadVerifier v = DownloadVerifier.expecting(record(DATA));
        for (int i = 0; i < DATA.length; i++) {
            v.update(DATA, i, 1);
        }
        assertThatCode(v::finish).doesNotThrowAnyException();
        assertThat(v.received()).isEqualTo(DATA.length);
        assertThat(v.describe()).isEqualTo("size, sha512, md5");
    }

    @Property(tries = 50)
    void anySplitOfTheRightBytesPasses(@ForAll @IntRange(min = 1, max = 70_000) final int piece) {
        DownloadVerifier v = DownloadVerifier.expecting(record(DATA));
        for (int at = 0; at < DATA.length; at += piece) {
            v.update(DATA, at, Math.min(piece, DATA.length - at));
        }
        v.finish();
    }

    @Test
    void oneFlippedByteFailsBothHashes() {
        GlanceImage image = record(DATA);
        byte[] bad = DATA.clone();
        bad[77_777] ^= 1;
        DownloadVerifier v = DownloadVerifier.expecting(image);
        v.update(bad, 0, bad.length);

        assertThatThrownBy(v::finish).isInstanceOfSatisfying(GlanceException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.INTEGRITY);
            assertThat(e.getMessage()).contains(ID).contains("os_hash_value (sha512): got " + hex("SHA-512", bad))
                    .contains("Glance recorded " + image.osHashValue())
                    .contains("checksum (md5): got " + hex("MD5", bad)).doesNotContain("size:");
        });
    }

    @Test
    void shortStreamIsRejected() {
        DownloadVerifier v = DownloadVerifier.expecting(record(DATA));
        v.update(DATA, 0, DATA.length - 1);
        assertThatThrownBy(v::finish).isInstanceOfSatisfying(GlanceException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.INTEGRITY);
            assertThat(e.getMessage()).contains("size: received " + (DATA.length - 1) + " bytes, Glance recorded "
                    + DATA.length);
        });
    }

    @Test
    void bytesPastTheRecordedSizeAreRejectedAtTheFirstSurplusByte() {
        DownloadVerifier v = DownloadVerifier.expecting(record(DATA));
        v.update(DATA, 0, DATA.length);
        assertThatThrownBy(() -> v.update(new byte[1], 0, 1)).isInstanceOfSatisfying(GlanceException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.INTEGRITY));
        assertThat(v.received()).isEqualTo(DATA.length);
    }

    @Test
    void aLyingTinySizeStopsAHugeStreamEarly() {
        GlanceImage tiny = new GlanceImage(ID, "x", "active", "raw", "bare", 10L, null, "sha512", hex("SHA-512", new byte[10]));
        DownloadVerifier v = DownloadVerifier.expecting(tiny);
        assertThatThrownBy(() -> v.update(DATA, 0, DATA.length)).isInstanceOf(GlanceException.class);
    }

    @Test
    void recordWithOnlyTheLegacyChecksumIsVerifiedWithMd5() {
        GlanceImage old = new GlanceImage(ID, "old", "active", "raw", "bare", (long) DATA.length,
                hex("MD5", DATA).toUpperCase(Locale.ROOT), null, null);
        DownloadVerifier v = DownloadVerifier.expecting(old);
        assertThat(v.describe()).isEqualTo("size, md5");
        v.update(DATA, 0, DATA.length);
        v.finish();

        DownloadVerifier wrong = DownloadVerifier.expecting(old);
        wrong.update(DATA, 0, DATA.length - 1);
        wrong.update(new byte[] {(byte) (DATA[DATA.length - 1] + 1)}, 0, 1);
        assertThatThrownBy(wrong::finish).hasMessageContaining("checksum (md5)");
    }

    @Test
    void unverifiableRecordsAreRefusedBeforeAnyDownload() {
        assertThatThrownBy(() -> DownloadVerifier.expecting(
                new GlanceImage(ID, "n", "active", "raw", "bare", 5L, null, null, null)))
                .isInstanceOfSatisfying(GlanceException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED))
                .hasMessageContaining("cannot be verified");
        assertThatThrownBy(() -> DownloadVerifier.expecting(
                new GlanceImage(ID, "n", "active", "raw", "bare", 5L, null, "whirlpool", "abcd")))
                .hasMessageContaining("whirlpool");
        assertThatThrownBy(() -> DownloadVerifier.expecting(
                new GlanceImage(ID, "n", "active", "raw", "bare", null, "abcd", "sha512", "abcd")))
                .hasMessageContaining("no recorded size");
    }

    static GlanceImage record(final byte[] data) {
        return new GlanceImage(ID, "test", "active", "raw", "bare", (long) data.length, hex("MD5", data), "sha512",
                hex("SHA-512", data));
    }

    static String hex(final String algorithm, final byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] data(final int size) {
        byte[] b = new byte[size];
        new Random(42).nextBytes(b);
        return b;
    }
}
