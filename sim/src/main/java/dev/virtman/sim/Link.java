package dev.virtman.sim;

/**
 * One direction of a network interface (or a disk): a server that moves bytes at a fixed rate
 * and serialises the transfers given to it in the order they start, each occupying it for
 * {@code bytes / rate} seconds. This is how the agent's upstream cap behaves (one token bucket
 * per host that concurrent chunk reads queue on, {@code dev.virtman.block.TokenBucket}) and, at
 * chunk granularity, how a saturated NIC behaves: throughput is exact, and the order among
 * concurrent chunks is first come, first served rather than TCP's interleaving.
 *
 * <p>A transfer crosses two links at once, the sender's out and the receiver's in
 * ({@link #receive}): it starts on the receiver's link when that link is free and the sender
 * has started, and it ends when the slower of the two has moved the last byte. Each link is
 * charged only its own busy time, so a fast receiver fed by a slow sender remains free for
 * other senders' bytes in the meantime (bytes are conserved on every link).
 */
public final class Link {
    /** A link that never limits (loopback, or a resource left out of a scenario). */
    public static final double UNLIMITED = Double.POSITIVE_INFINITY;

    private final double bytesPerSecond;
    private double freeAt;
    private long bytes;
    private double busySeconds;

    /** @param bytesPerSecond rate, or {@link #UNLIMITED} */
    public Link(final double bytesPerSecond) {
        if (!(bytesPerSecond > 0)) {
            throw new IllegalArgumentException("link rate must be > 0: " + bytesPerSecond);
        }
        this.bytesPerSecond = bytesPerSecond;
    }

    public double bytesPerSecond() {
        return bytesPerSecond;
    }

    /** When the transfers given so far are through. */
    public double freeAt() {
        return freeAt;
    }

    /** Bytes moved (or committed to move) so far. */
    public long bytes() {
        return bytes;
    }

    /** Seconds this link is busy with the transfers given so far. */
    public double busySeconds() {
        return busySeconds;
    }

    /**
     * Occupies the link for {@code bytes} from the first moment it is free at or after
     * {@code earliest}; returns that start time.
     */
    public double reserve(final double earliest, final long n) {
        double start = Math.max(earliest, freeAt);
        double busy = n / bytesPerSecond;
        freeAt = start + busy;
        busySeconds += busy;
        bytes += n;
        return start;
    }

    /**
     * Second half of a transfer of {@code n} bytes whose sender started it on {@code out} at
     * {@code outStart} ({@link #reserve} returned it): reserves the receiver's link {@code in}
     * from then on and returns when the last byte has arrived (no propagation latency). Call it
     * when the sender really starts (at {@code outStart}, not before): a receiver's link reserved
     * for a far-future sender would be held against earlier ones.
     */
    public static double receive(final double outStart, final long n, final Link out, final Link in) {
        double outEnd = outStart + n / out.bytesPerSecond;
        double inStart = in.reserve(outStart, n);
        return Math.max(outEnd, inStart + n / in.bytesPerSecond);
    }
}
