package dev.virtman.block.manifest;

import java.util.Locale;

/** Parses sizes as operators write them: {@code 65536}, {@code 64K}, {@code 1M}, {@code 4GiB}. */
public final class ByteSize {
    private static final int KIB_SHIFT = 10;

    private ByteSize() {
    }

    /** The size in bytes; suffixes K, M, G, T (optionally followed by "iB" or "B") are powers of 1024. */
    public static long parse(final String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B")) {
            s = s.substring(0, s.length() - 1);
        }
        int shift = 0;
        if (!s.isEmpty()) {
            int unit = "KMGT".indexOf(s.charAt(s.length() - 1));
            if (unit >= 0) {
                shift = KIB_SHIFT * (unit + 1);
                s = s.substring(0, s.length() - 1);
            }
        }
        long value;
        try {
            value = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 65536, 64K, 1M)");
        }
        if (value < 0 || (shift > 0 && value > (Long.MAX_VALUE >> shift))) {
            throw new IllegalArgumentException("size out of range: '" + text + "'");
        }
        return value << shift;
    }

    /** The shortest exact form with a binary suffix, e.g. 65536 -> "64K". */
    public static String format(final long bytes) {
        String units = "KMGT";
        long v = bytes;
        int unit = -1;
        while (v != 0 && v % 1024 == 0 && unit < units.length() - 1) {
            v /= 1024;
            unit++;
        }
        return unit < 0 ? Long.toString(bytes) : v + String.valueOf(units.charAt(unit));
    }
}
