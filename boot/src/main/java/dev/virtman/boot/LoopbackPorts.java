package dev.virtman.boot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Addresses for emulated hosts on one machine: host i gets its own loopback address
 * (127.0.0.2, 127.0.0.3, ...), as if each were a machine of its own, and a port the OS had free.
 */
public final class LoopbackPorts {
    /** 127.0.0.1 stays for the source and the manager. */
    private static final int FIRST_HOST_OCTET = 2;
    private static final int MAX_HOSTS = 65_000;

    private LoopbackPorts() {
    }

    /** The loopback address of emulated host {@code index} (0-based). */
    public static String hostAddress(final int index) {
        if (index < 0 || index >= MAX_HOSTS) {
            throw new IllegalArgumentException("host index out of range: " + index);
        }
        // All of 127.0.0.0/8 reaches the loopback interface on Linux.
        int n = index + FIRST_HOST_OCTET;
        return "127.0." + (n >> 8) + "." + (n & 0xFF);
    }

    /** A port that was free on {@code host} a moment ago (a listener binding it next wins it). */
    public static InetSocketAddress freePortOn(final String host) {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return new InetSocketAddress(host, s.getLocalPort());
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }
}
