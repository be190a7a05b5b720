package dev.virtman.manager;

import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;

/** Parsing of {@code host:port} strings (IPv6 hosts in brackets). */
public final class Addresses {

    private static final int MAX_PORT = 65_535;
    private static final int MAX_HOST_LENGTH = 253;

    private Addresses() {
    }

    /**
     * Checks an iSCSI portal address ({@code ip:port}) and returns it unchanged.
     *
     * @throws IllegalArgumentException with a message naming what is wrong
     */
    public static String requirePortal(final String address) {
        parse(address);
        return address;
    }

    /** Parses {@code host:port} into an unresolved socket address; the port must be 1..65535. */
    public static InetSocketAddress parse(final String address) {
        return parse(address, 1);
    }

    /** Parses a listen address: port 0 asks the kernel for a free port. */
    public static InetSocketAddress parseListen(final String address) {
        return parse(address, 0);
    }

    /**
     * Parses a listen address and resolves its host, as a socket's {@code bind} needs: binding an
     * unresolved address fails with an {@link UnresolvedAddressException} that has no message.
     *
     * @throws IllegalArgumentException when the address is malformed or its host does not resolve
     */
    public static InetSocketAddress resolveListen(final String address) {
        return resolved(parseListen(address));
    }

    /** {@code address} with its host resolved (unchanged when it already is). */
    public static InetSocketAddress resolved(final InetSocketAddress address) {
        if (!address.isUnresolved()) {
            return address;
        }
        InetSocketAddress resolved = new InetSocketAddress(address.getHostString(), address.getPort());
        if (resolved.isUnresolved()) {
            throw new IllegalArgumentException("host '" + address.getHostString() + "' does not resolve to an address");
        }
        return resolved;
    }

    private static InetSocketAddress parse(final String address, final int minPort) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address is missing (expected ip:port)");
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("address '" + address + "' is not ip:port");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("IPv6 address '" + address + "' needs brackets: [addr]:port");
        }
        if (host.isEmpty() || host.length() > MAX_HOST_LENGTH || !host.matches("[A-Za-z0-9.:_-]+")) {
            throw new IllegalArgumentException("address '" + address + "' has an invalid host part");
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address '" + address + "' has a non-numeric port");
        }
        if (port < minPort || port > MAX_PORT) {
            throw new IllegalArgumentException("address '" + address + "' has port outside " + minPort + ".." + MAX_PORT);
        }
        return InetSocketAddress.createUnresolved(host, port);
    }
}
