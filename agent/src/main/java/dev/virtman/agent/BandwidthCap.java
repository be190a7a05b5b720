package dev.virtman.agent;

import dev.virtman.block.TokenBucket;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a bandwidth cap as operators write it. Byte rates use binary multiples like every other
 * size in VirtMan ({@code 100M} = 100 MiB/s, {@code 512K}, {@code 1G}, optional {@code B},
 * {@code iB} or {@code /s}); bit rates use the decimal multiples of networking
 * ({@code 1gbit} = 10^9 bit/s = 125,000,000 bytes/s, {@code 500mbit}, {@code 100kbit}).
 * {@code 0} or {@code none} means no cap.
 */
public final class BandwidthCap {
    private static final Pattern FORM = Pattern.compile("(\\d+)\\s*([kmgt]?)(ib|b|bit|bps)?(/s)?");
    private static final int BINARY_STEP_SHIFT = 10;
    private static final long DECIMAL_STEP = 1000;
    private static final int BITS_PER_BYTE = 8;
    /**
     * The bucket holds this fraction of a second of traffic, so a capped link never sees more
     * than a tenth of a second's worth at once. A request larger than the burst still passes
     * (the bucket goes into debt and the next callers wait), so the burst need not fit a chunk.
     */
    private static final int BURST_DIVISOR = 10;
    private static final long MIN_BURST = 64 << 10;

    private BandwidthCap() {
    }

    /** Bytes per second, or 0 for no cap. */
    public static long parse(final String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("none") || s.equals("0")) {
            return 0;
        }
        Matcher m = FORM.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a bandwidth: '" + text + "' (examples: 100M, 50MiB/s, 1gbit)");
        }
        long value = Long.parseLong(m.group(1));
        int unit = m.group(2).isEmpty() ? 0 : "kmgt".indexOf(m.group(2)) + 1;
        String kind = m.group(3);
        boolean bits = "bit".equals(kind) || "bps".equals(kind);
        long bytes;
        if (bits) {
            long bitsPerSecond = value;
            for (int i = 0; i < unit; i++) {
                bitsPerSecond = Math.multiplyExact(bitsPerSecond, DECIMAL_STEP);
            }
            bytes = bitsPerSecond / BITS_PER_BYTE;
        } else {
            bytes = Math.multiplyExact(value, 1L << (BINARY_STEP_SHIFT * unit));
        }
        if (bytes <= 0) {
            throw new IllegalArgumentException("bandwidth too small: '" + text + "'");
        }
        return bytes;
    }

    /** A bucket for {@code bytesPerSecond}, or null for no cap. */
    public static TokenBucket bucket(final long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            return null;
        }
        long burst = Math.max(MIN_BURST, bytesPerSecond / BURST_DIVISOR);
        return new TokenBucket(bytesPerSecond, burst);
    }
}
