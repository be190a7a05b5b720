package dev.virtman.iscsi.pdu;

/**
 * 32-bit serial number arithmetic (RFC 1982, used by RFC 7143 §4.2.2.1 for CmdSN, StatSN,
 * DataSN): comparisons wrap around, so {@code 0xffffffff < 0x00000000}.
 */
public final class SerialNumbers {

    private SerialNumbers() {
    }

    /** {@code a < b} in serial number arithmetic. */
    public static boolean lessThan(final int a, final int b) {
        return a != b && a - b < 0;
    }

    /** {@code a <= b} in serial number arithmetic. */
    public static boolean lessThanOrEqual(final int a, final int b) {
        return a == b || a - b < 0;
    }

    /** {@code a > b} in serial number arithmetic. */
    public static boolean greaterThan(final int a, final int b) {
        return lessThan(b, a);
    }

    /** A comparator-compatible serial comparison: negative when {@code a < b}; valid for values less than 2^31 apart. */
    public static int compare(final int a, final int b) {
        return Integer.signum(a - b);
    }

    /** Whether {@code sn} lies in the window [{@code low}, {@code high}]. */
    public static boolean inWindow(final int sn, final int low, final int high) {
        return lessThanOrEqual(low, sn) && lessThanOrEqual(sn, high);
    }
}
