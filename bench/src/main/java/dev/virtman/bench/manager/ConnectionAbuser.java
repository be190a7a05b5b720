package dev.virtman.bench.manager;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What an anonymous attacker can do to the manager's port without a credential, for a while:
 * keep 1,000 idle connections, 64 half-sent requests (request line and one header, then
 * nothing) and one slowloris (a header byte every second) open, re-opening each one the server
 * closes. Prints how many of each the server closed.
 *
 * <pre>
 *   java -cp virtman.jar dev.virtman.manager.bench.ConnectionAbuser URL SECONDS
 * </pre>
 */
public final class ConnectionAbuser {

    private static final int IDLE = 1000;
    private static final int HALF_SENT = 64;
    private static final byte[] HALF = "GET /v1/images HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII);

    private ConnectionAbuser() { }

    public static void main(final String[] args) throws Exception {
        URI url = URI.create(args[0]);
        long until = System.nanoTime() + Long.parseLong(args[1]) * 1_000_000_000L;
        InetSocketAddress address = new InetSocketAddress(url.getHost(), url.getPort());
        List<Socket> idle = new ArrayList<>();
        List<Socket> half = new ArrayList<>();
        for (int i = 0; i < IDLE; i++) {
            idle.add(open(address, null));
        }
        for (int i = 0; i < HALF_SENT; i++) {
            half.add(open(address, HALF));
        }
        Socket slow = open(address, "GET /v1/hosts HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
        System.out.printf("abuser: %d idle, %d half-sent, 1 slowloris open%n", idle.size(), half.size());
        int reopenedIdle = 0;
        int reopenedHalf = 0;
        int reopenedSlow = 0;
        while (System.nanoTime() < until) {
            for (int i = 0; i < idle.size(); i++) {
                if (closed(idle.get(i))) {
                    idle.set(i, open(address, null));
                    reopenedIdle++;
                }
            }
            for (int i = 0; i < half.size(); i++) {
                if (closed(half.get(i))) {
                    half.set(i, open(address, HALF));
                    reopenedHalf++;
                }
            }
            try {
                slow.getOutputStream().write('a');
                slow.getOutputStream().flush();
            } catch (IOException e) {
                slow = open(address, "GET /v1/hosts HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                reopenedSlow++;
            }
            Thread.sleep(1000);
        }
        System.out.printf("abuser: the server closed %d idle, %d half-sent, %d slowloris connections (re-opened)%n",
                reopenedIdle, reopenedHalf, reopenedSlow);
    }

    private static Socket open(final InetSocketAddress address, final byte[] first) throws IOException {
        Socket s = new Socket();
        s.connect(address, 10_000);
        if (first != null) {
            OutputStream out = s.getOutputStream();
            out.write(first);
            out.flush();
        }
        return s;
    }

    /** True once the server closed the socket; never waits more than a millisecond. */
    private static boolean closed(final Socket s) {
        try {
            s.setSoTimeout(1);
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
