package dev.virtman.iscsi.initiator;

import java.util.Locale;

/**
 * An iSCSI logical unit address in the syntax QEMU and libiscsi accept:
 * {@code iscsi://[user[%password]@]host[:port]/target-iqn/lun}. IPv6 hosts go in brackets
 * ({@code iscsi://[::1]:3260/iqn.../1}). A user and password mean one-way CHAP with those
 * credentials.
 *
 * @param host       host name or address (IPv6 without brackets)
 * @param port       TCP port, {@value #DEFAULT_PORT} unless given
 * @param targetName the target's iSCSI name (iqn., eui. or naa. form, RFC 7143 §4.2.7.1)
 * @param lun        the logical unit number (0..16383: single-level LUN, SAM-5 §4.7)
 * @param user       CHAP user name, or {@code null}
 * @param password   CHAP secret, or {@code null}
 */
public record IscsiUrl(String host, int port, String targetName, int lun, String user, String password) {

    /** The IANA-registered "iscsi-target" port. */
    public static final int DEFAULT_PORT = 3260;
    /** Largest LUN the flat addressing method can carry (SAM-5 §4.7.7: 14 bits). */
    public static final int MAX_LUN = 16383;

    private static final String SCHEME = "iscsi://";
    private static final int MAX_PORT = 65535;

    public IscsiUrl {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("iSCSI URL needs a host");
        }
        if (port <= 0 || port > MAX_PORT) {
            throw new IllegalArgumentException("iSCSI URL port out of range: " + port);
        }
        if (targetName == null || targetName.isEmpty()) {
            throw new IllegalArgumentException("iSCSI URL needs a target name");
        }
        if (lun < 0 || lun > MAX_LUN) {
            throw new IllegalArgumentException("iSCSI URL LUN out of range 0.." + MAX_LUN + ": " + lun);
        }
        if (password != null && user == null) {
            throw new IllegalArgumentException("iSCSI URL has a password without a user");
        }
    }

    /**
     * Parses {@code url}; every malformed part gets an {@link IllegalArgumentException} naming it
     * and the expected syntax.
     */
    public static IscsiUrl parse(final String url) {
        if (url == null) {
            throw new IllegalArgumentException("iSCSI URL is null");
        }
        if (!url.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            throw bad(url, "must start with " + SCHEME);
        }
        String rest = url.substring(SCHEME.length());
        int firstSlash = rest.indexOf('/');
        if (firstSlash < 0) {
            throw bad(url, "missing /target-iqn/lun");
        }
        String authority = rest.substring(0, firstSlash);
        String path = rest.substring(firstSlash + 1);

        String user = null;
        String password = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int pct = userInfo.indexOf('%');
            user = pct >= 0 ? userInfo.substring(0, pct) : userInfo;
            password = pct >= 0 ? userInfo.substring(pct + 1) : null;
            if (user.isEmpty()) {
                throw bad(url, "empty user before '@'");
            }
            if (password != null && password.isEmpty()) {
                throw bad(url, "empty password after '%'");
            }
        }

        String host;
        String portText = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw bad(url, "unterminated IPv6 address '['");
            }
            host = authority.substring(1, close);
            String after = authority.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw bad(url, "unexpected text after IPv6 address: " + after);
                }
                portText = after.substring(1);
            }
        } else {
            int colon = authority.indexOf(':');
            if (colon >= 0 && authority.indexOf(':', colon + 1) >= 0) {
                throw bad(url, "IPv6 addresses must be written in brackets");
            }
            host = colon >= 0 ? authority.substring(0, colon) : authority;
            portText = colon >= 0 ? authority.substring(colon + 1) : null;
        }
        if (host.isEmpty()) {
            throw bad(url, "missing host");
        }
        int port = DEFAULT_PORT;
        if (portText != null) {
            port = parseNumber(url, "port", portText, MAX_PORT);
            if (port == 0) {
                throw bad(url, "port 0 is not a valid port");
            }
        }

        int lunSlash = path.lastIndexOf('/');
        if (lunSlash < 0) {
            throw bad(url, "missing /lun after the target name");
        }
        String target = path.substring(0, lunSlash);
        String lunText = path.substring(lunSlash + 1);
        if (target.isEmpty()) {
            throw bad(url, "empty target name");
        }
        if (target.indexOf('/') >= 0) {
            throw bad(url, "target name contains '/'");
        }
        if (!looksLikeIscsiName(target)) {
            throw bad(url, "target name '" + target + "' is not an iqn., eui. or naa. name");
        }
        if (lunText.isEmpty()) {
            throw bad(url, "empty LUN");
        }
        int lun = parseNumber(url, "LUN", lunText, MAX_LUN);
        return new IscsiUrl(host, port, target, lun, user, password);
    }

    /** Whether CHAP credentials are present. */
    public boolean hasCredentials() {
        return user != null;
    }

    /** The same URL without credentials (safe to log). */
    public String toRedactedString() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return SCHEME + (user != null ? user + "@" : "") + h + ":" + port + "/" + targetName + "/" + lun;
    }

    @Override
    public String toString() {
        return toRedactedString();
    }

    /** RFC 7143 §4.2.7.1: the three name formats start with these type designators. */
    private static boolean looksLikeIscsiName(final String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.startsWith("iqn.") || lower.startsWith("eui.") || lower.startsWith("naa.");
    }

    private static int parseNumber(final String url, final String what, final String text, final int max) {
        if (text.isEmpty() || text.length() > Integer.toString(Integer.MAX_VALUE).length()) {
            throw bad(url, "bad " + what + " '" + text + "'");
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                throw bad(url, what + " '" + text + "' is not a decimal number");
            }
        }
        long v = Long.parseLong(text);
        if (v > max) {
            throw bad(url, what + " " + v + " is larger than " + max);
        }
        return (int) v;
    }

    private static IllegalArgumentException bad(final String url, final String why) {
        // never echo the password back into logs
        String shown = url.replaceAll("(?<=iscsi://)([^@/%]*)%[^@/]*@", "$1%***@");
        return new IllegalArgumentException("bad iSCSI URL " + shown + ": " + why
                + " (expected iscsi://[user[%password]@]host[:port]/target-iqn/lun)");
    }
}
