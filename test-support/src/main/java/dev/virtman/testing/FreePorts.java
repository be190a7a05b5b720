package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for peers we cannot hand a bound socket (tgtd, QEMU). Several helpers run tests
 * on this machine at once, so ports are never fixed: the kernel picks a free ephemeral port, and
 * callers that lose the race to another process retry with a new one.
 */
public final class FreePorts {
    /** tgtd's management socket number: the range the machine's rules allow. */
    private static final int CONTROL_PORT_MIN = 100;
    /** tgtd rejects -C values above 32767 ("out of range"). */
    private static final int CONTROL_PORT_MAX = 32_767;
    private static final Duration POLL_INTERVAL = Duration.ofMillis(50);

    private FreePorts() {
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago. */
    public static int loopbackPort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /**
     * A tgtd control port ({@code tgtd -C N}) whose UNIX socket {@code /var/run/tgtd/socket.N} is
     * not in use by another tgtd.
     */
    public static int tgtdControlPort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int n = ThreadLocalRandom.current().nextInt(CONTROL_PORT_MIN, CONTROL_PORT_MAX + 1);
            if (!TgtdProcess.controlSocket(n).toFile().exists()) {
                return n;
            }
        }
        throw new IllegalStateException("no unused tgtd control port found");
    }

    /** Waits until something accepts TCP connections on 127.0.0.1:{@code port}. */
    public static boolean awaitListening(final int port, final Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                return true;
            } catch (IOException notYet) {
                sleep(POLL_INTERVAL);
            }
        }
        return false;
    }

    /** Sleeps, turning an interrupt into an exception (polling loops in process helpers). */
    public static void sleep(final Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
