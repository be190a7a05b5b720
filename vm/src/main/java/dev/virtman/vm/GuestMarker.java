package dev.virtman.vm;

import java.util.Optional;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lines VirtMan's guests print on their serial console (see {@code docs/guests.md}).
 * A line may carry terminal noise before the marker (escape sequences, a half-written prompt),
 * so markers are found anywhere in a line.
 */
public final class GuestMarker {

    /** {@code VIRTMAN-GUEST-UP uptime=<seconds>}: multi-user.target reached. */
    public static final String UP = "VIRTMAN-GUEST-UP";
    /** {@code VIRTMAN-GUEST-WROTE <token>}: the guest wrote the token to its disk and synced. */
    public static final String WROTE = "VIRTMAN-GUEST-WROTE";

    private static final Pattern UPTIME = Pattern.compile("\\buptime=(\\d+(?:\\.\\d+)?)");
    private static final Pattern WROTE_TOKEN = Pattern.compile(WROTE + " (\\S+)");

    private GuestMarker() {
    }

    /** The guest's uptime in seconds if {@code line} carries {@code marker} with an uptime field. */
    public static OptionalDouble uptimeSeconds(final String line, final String marker) {
        int at = line.indexOf(marker);
        if (at < 0) {
            return OptionalDouble.empty();
        }
        Matcher m = UPTIME.matcher(line).region(at + marker.length(), line.length());
        return m.find() ? OptionalDouble.of(Double.parseDouble(m.group(1))) : OptionalDouble.empty();
    }

    /** The token if {@code line} is a write acknowledgement. */
    public static Optional<String> writtenToken(final String line) {
        Matcher m = WROTE_TOKEN.matcher(line);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
