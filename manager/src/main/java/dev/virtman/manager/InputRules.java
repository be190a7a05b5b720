package dev.virtman.manager;

import dev.virtman.manager.api.ManagerException;
/**
 * Checks on the free-form strings clients send (paths, names, VM order fields): no control
 * characters and a bounded length. A NUL in a path used to reach {@code Path.of}, fail there with
 * an {@code InvalidPathException} (500) and land in the log verbatim; rejecting it here makes it
 * a 422 before anything is opened, logged or stored.
 */
public final class InputRules {

    /** Longest free-form string field accepted (a path of PATH_MAX is 4,096 bytes). */
    public static final int MAX_TEXT = 4096;
    /** Characters of a client's value quoted back in an error message. */
    private static final int QUOTE_CHARS = 200;

    private InputRules() {
    }

    /**
     * Returns {@code value} (null stays null) if it has no control character (C0, DEL, C1: NUL,
     * newlines that would forge log lines, terminal escapes) and at most {@link #MAX_TEXT} characters.
     *
     * @throws ManagerException (422) naming the field and the offending character's position
     */
    public static String requireText(final String field, final String value) {
        if (value == null) {
            return null;
        }
        if (value.length() > MAX_TEXT) {
            throw ManagerException.invalid(field + " is longer than " + MAX_TEXT + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                throw ManagerException.invalid(field + " contains a control character (U+"
                        + String.format("%04X", (int) c) + ") at index " + i);
            }
        }
        return value;
    }

    /** {@code value} shortened and with control characters escaped, fit to quote in a message or a log line. */
    public static String quoted(final String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("'");
        for (int i = 0; i < value.length() && i < QUOTE_CHARS; i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (value.length() > QUOTE_CHARS) {
            out.append("...");
        }
        return out.append('\'').toString();
    }
}
