package dev.virtman.manager;

import dev.virtman.manager.api.ManagerException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The networks a host's registered address may be in ({@code virtman manager --host-network CIDR}).
 * Every registered address ends up in other agents' parent lists, so an address the fleet cannot
 * reach (or one outside it: {@code 8.8.8.8:3260}) would make agents connect out to it. By
 * default only loopback and private addresses are taken: RFC 1918 ({@code 10/8},
 * {@code 172.16/12}, {@code 192.168/16}), shared address space ({@code 100.64/10}, RFC 6598),
 * IPv6 unique local ({@code fc00::/7}) and loopback. A fleet on public addresses names its
 * networks explicitly.
 *
 * <p>Addresses must be IP literals: a host name would be resolved by every agent on its own
 * (and by the manager only through a DNS lookup on the request path), so what is checked here
 * would not be what agents connect to.
 */
public final class HostNetworks {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

    public static final List<String> PRIVATE = List.of("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12",
            "192.168.0.0/16", "100.64.0.0/10", "::1/128", "fc00::/7");
    public static final HostNetworks DEFAULT = new HostNetworks(PRIVATE);

    private final List<Cidr> networks;

    /**
     * @param cidrs networks as {@code address/prefix}
     * @throws IllegalArgumentException for a malformed entry or an empty list
     */
    public HostNetworks(final List<String> cidrs) {
        if (cidrs.isEmpty()) {
            throw new IllegalArgumentException("at least one host network is needed");
        }
        this.networks = cidrs.stream().map(Cidr::parse).toList();
    }

    public List<String> networks() {
        return networks.stream().map(Cidr::toString).toList();
    }

    /**
     * Checks a host's {@code ip:port} address.
     *
     * @throws ManagerException (422) when it is malformed, not an IP literal, unspecified,
     *                          multicast or outside every configured network
     */
    public String requireHostAddress(final String address) {
        InputRules.requireText("address", address);
        String host;
        try {
            host = Addresses.parse(address).getHostString();
        } catch (IllegalArgumentException e) {
            throw ManagerException.invalid(e.getMessage());
        }
        InetAddress ip = literal(host);
        if (ip == null) {
            throw ManagerException.invalid("host address " + InputRules.quoted(address)
                    + " must be an IP address, not a name (agents put it in each other's parent lists)");
        }
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
            throw ManagerException.invalid("host address " + address + " is not the address of one host");
        }
        for (Cidr c : networks) {
            if (c.contains(ip)) {
                return address;
            }
        }
        throw ManagerException.invalid("host address " + address + " is outside the manager's host networks "
                + networks() + " (virtman manager --host-network)");
    }

    /** The address {@code host} spells, without any DNS lookup; null when it is a name. */
    private static InetAddress literal(final String host) {
        boolean v4 = IPV4.matcher(host).matches();
        if (!v4 && !(host.contains(":") && IPV6.matcher(host).matches())) {
            return null;
        }
        try {
            return InetAddress.getByName(host); // a literal: parsed, never looked up
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** One network: the first {@code prefix} bits of {@code base}. */
    private record Cidr(byte[] base, int prefix, String text) {

        static Cidr parse(final String cidr) {
            int slash = cidr.indexOf('/');
            if (slash <= 0) {
                throw new IllegalArgumentException("host network '" + cidr + "' is not address/prefix");
            }
            InetAddress address = literal(cidr.substring(0, slash));
            if (address == null) {
                throw new IllegalArgumentException("host network '" + cidr + "' does not start with an IP address");
            }
            int prefix;
            try {
                prefix = Integer.parseInt(cidr.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("host network '" + cidr + "' has a non-numeric prefix length");
            }
            byte[] bytes = address.getAddress();
            if (prefix < 0 || prefix > bytes.length * 8) {
                throw new IllegalArgumentException("host network '" + cidr + "' has a prefix outside 0.." + bytes.length * 8);
            }
            return new Cidr(bytes, prefix, cidr);
        }

        boolean contains(final InetAddress address) {
            byte[] a = address.getAddress();
            if (a.length != base.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != base[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xFF << (8 - rest) & 0xFF;
            return (a[full] & mask) == (base[full] & mask);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
