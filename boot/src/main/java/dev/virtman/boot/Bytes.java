package dev.virtman.boot;

import java.util.Locale;

/** Byte counts for people: 1536 → "1.5 KiB". */
final class Bytes {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

    private Bytes() {
    }

    static String human(final long bytes) {
        double v = bytes;
        int unit = 0;
        while (v >= 1024 && unit < UNITS.length - 1) {
            v /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, UNITS[unit]);
    }
}
