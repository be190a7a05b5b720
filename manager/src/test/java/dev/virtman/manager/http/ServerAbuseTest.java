package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Await;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Anonymous clients that hold connections cannot stall agents: 64 half-sent requests (the
 * request line and one header, then nothing; on the JDK HttpServer they took all 64 request
 * threads and every heartbeat timed out for 95 s), a slowloris that trickles one header byte
 * at a time, and 1,000 idle connections, all at once, while a host heartbeats with a short
 * timeout. The host must never be declared failed, every heartbeat must be answered, and the
 * half-sent requests must be closed by the header deadline.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServerAbuseTest {

    private static final byte[] HALF_REQUEST = "GET /v1/images HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HALF_SENT = 64;
    private static final int IDLE = 1000;

    @TempDir
    Path tmp;
    ManagerServer server;
    final List<Socket> sockets = new ArrayList<>();
    final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        threads.forEach(Thread::interrupt);
        for (Thread t : threads) {
            t.join(5000);
        }
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void halfSentRequestsSlowlorisAndIdleConnectionsDoNotStallHeartbeats() throws Exception {
        Duration interval = Duration.ofMillis(500);
        Duration timeout = Duration.ofSeconds(3);
        ManagerConfig config = ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(2, 2, 8))
                .withHeartbeat(interval, timeout);
        server = ManagerServer.start(config, ServerSettings.DEFAULT.withTimeouts(Duration.ofSeconds(30),
                Duration.ofSeconds(2)));
        // Each heartbeat must be answered well within the failure timeout, or it counts as lost.
        ManagerClient agent = new ManagerClient(server.url(), server.token(), timeout);
        ManagerClient admin = new ManagerClient(server.url(), server.token());
        String image = admin.registerImage("base", RandomFiles.write(tmp.resolve("disk.raw"), 4 * 4096, 1)
                .toString()).id();
        admin.registerHost("h1", "127.0.0.2:3260", null);
        HeartbeatRequest serving = new HeartbeatRequest(null, Map.of(image, new HeartbeatRequest.ImageReport(0)),
                null, null);
        agent.heartbeat("h1", serving);

        AtomicInteger answered = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        threads.add(Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    agent.heartbeat("h1", serving);
                    answered.incrementAndGet();
                } catch (RuntimeException e) {
                    lost.incrementAndGet();
                }
                try {
                    Thread.sleep(interval.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }));

        InetSocketAddress address = new InetSocketAddress("127.0.0.1", server.url().getPort());
        List<Socket> halfSent = new ArrayList<>();
        for (int i = 0; i < HALF_SENT; i++) {
            Socket s = connect(address);
            s.getOutputStream().write(HALF_REQUEST);
            s.getOutputStream().flush();
            halfSent.add(s);
        }
        Socket slowloris = connect(address);
        threads.add(Thread.ofPlatform().daemon().start(() -> trickle(slowloris)));
        for (int i = 0; i < IDLE; i++) {
            connect(address);
        }

        // While all of them are held, the agent's heartbeats go on being answered.
        int before = answered.get();
        awaitTrue(() -> answered.get() >= before + 8, "eight heartbeats answered while under abuse");
        // The header deadline closes every half-sent request and the slowloris.
        awaitTrue(() -> halfSent.stream().allMatch(ServerAbuseTest::closedByPeer), "half-sent requests closed");
        awaitTrue(() -> closedByPeer(slowloris), "slowloris closed");

        assertThat(lost.get()).as("heartbeats not answered within the failure timeout").isZero();
        assertThat(admin.host("h1").state()).isEqualTo("alive");
        assertThat(admin.tree(image).nodes()).extracting("hostId").containsExactly("h1");
    }

    private Socket connect(final InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.connect(address, 5000);
        sockets.add(s);
        return s;
    }

    /** Sends a request one header byte at a time, a byte every 200 ms, never finishing. */
    private static void trickle(final Socket s) {
        try {
            OutputStream out = s.getOutputStream();
            out.write("GET /v1/hosts HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
            while (!Thread.currentThread().isInterrupted()) {
                out.write('a');
                out.flush();
                Thread.sleep(200);
            }
        } catch (IOException | InterruptedException e) {
            // closed by the server (expected) or by the test
        }
    }

    /** True once the server closed the socket (EOF or reset on read), without waiting on it. */
    private static boolean closedByPeer(final Socket s) {
        try {
            s.setSoTimeout(1);
            InputStream in = s.getInputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return true;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static void awaitTrue(final BooleanSupplier condition, final String what) throws InterruptedException {
        Await.until(condition, Duration.ofSeconds(60), what);
    }
}
