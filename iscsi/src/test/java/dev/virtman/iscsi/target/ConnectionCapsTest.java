package dev.virtman.iscsi.target;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * One client address cannot fill the target's connection cap, and refusals are counted, not
 * logged one by one. On 1ac25db 1,100 reconnecting sockets filled the 1,024-connection cap (2
 * of 4 legitimate logins failed) and wrote 61 MB of WARN lines in 35 s.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ConnectionCapsTest {
    private static final String IQN = "iqn.2026-11.dev.virtman:caps";
    private static final int ATTACK_SOCKETS = 1100;
    private static final InetAddress ATTACKER = address("127.0.0.2");

    @TempDir
    Path dir;

    @Test
    void oneAddressReconnectingCannotLockOthersOutAndRefusalsAreRateLimited() throws Exception {
        Path image = dir.resolve("disk.img");
        byte[] content = new byte[1 << 20];
        new Random(3).nextBytes(content);
        Files.write(image, content);
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger serverLog = (Logger) LoggerFactory.getLogger(IscsiTargetServer.class);
        serverLog.addAppender(log);
        long started = System.nanoTime();
        List<Socket> attack = new ArrayList<>();
        try (FileBlockDevice device = FileBlockDevice.open(image, false);
             IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(
                     new InetSocketAddress("127.0.0.1", 0),
                     List.of(ExportedTarget.open(IQN, new LunTable(List.of(new ScsiDisk(device,
                             DiskIdentity.fromName(IQN))))))), metrics)) {
            InetSocketAddress portal = server.localAddress();
            // Two waves: every socket, then every one the target closed connects again.
            for (int i = 0; i < ATTACK_SOCKETS; i++) {
                attack.add(connectFrom(ATTACKER, portal));
            }
            int cap = TargetTuning.DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
            double firstWave = ATTACK_SOCKETS - cap;
            await(() -> refused(metrics, "per-address") >= firstWave, "the first wave is refused");
            int reconnected = 0;
            for (int i = 0; i < attack.size(); i++) {
                if (closedByPeer(attack.get(i))) {
                    attack.get(i).close();
                    attack.set(i, connectFrom(ATTACKER, portal));
                    reconnected++;
                }
            }
            // At most `cap` reconnects find a slot (those the login timeout freed on a slow run).
            double secondWave = firstWave + reconnected - cap;
            assertThat(reconnected).isGreaterThanOrEqualTo((int) firstWave);
            await(() -> refused(metrics, "per-address") >= secondWave, "the reconnects are refused");
            assertThat(server.connectionsFrom(ATTACKER)).isLessThanOrEqualTo(cap);

            // Four legitimate initiators from another address log in and read.
            for (int i = 0; i < 4; i++) {
                InitiatorOptions options = InitiatorOptions.defaults().withInitiatorName("iqn.2026-11.dev.virtman:ok" + i);
                try (IscsiBlockDevice disk = IscsiBlockDevice.open(
                        IscsiUrl.parse("iscsi://127.0.0.1:" + portal.getPort() + "/" + IQN + "/0"), options)) {
                    ByteBuffer block = ByteBuffer.allocate(4096);
                    disk.read(4096L * i, block);
                    assertThat(block.array()).isEqualTo(java.util.Arrays.copyOfRange(content, 4096 * i, 4096 * (i + 1)));
                }
            }
            assertThat(refused(metrics, "total")).isZero();
        } finally {
            for (Socket s : attack) {
                s.close();
            }
            serverLog.detachAppender(log);
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        long lines = log.list.stream().filter(e -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().startsWith("refused")).count();
        assertThat(lines).as("one line per %s interval over %d s", ConnectionRefusals.DEFAULT_INTERVAL, seconds)
                .isBetween(1L, 1 + seconds / ConnectionRefusals.DEFAULT_INTERVAL.toSeconds() + 1);
    }

    /** The log line carries the count and the worst address; nothing is logged between intervals. */
    @Test
    void refusalLinesComeOncePerIntervalWithTheirCounts() {
        AtomicLong now = new AtomicLong();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger serverLog = (Logger) LoggerFactory.getLogger(IscsiTargetServer.class);
        serverLog.addAppender(log);
        try {
            SimpleMeterRegistry metrics = new SimpleMeterRegistry();
            ConnectionRefusals refusals = new ConnectionRefusals(metrics, Duration.ofSeconds(10), now::get);
            refusals.refused(ConnectionRefusals.Cap.PER_ADDRESS, ATTACKER, 256);
            assertThat(log.list).hasSize(1);
            for (int i = 0; i < 999; i++) {
                now.addAndGet(TimeUnit.MILLISECONDS.toNanos(5));
                refusals.refused(ConnectionRefusals.Cap.PER_ADDRESS, ATTACKER, 256);
            }
            refusals.refused(ConnectionRefusals.Cap.TOTAL, address("127.0.0.3"), 256);
            refusals.flush(256);
            assertThat(log.list).as("still within the interval").hasSize(1);
            now.addAndGet(TimeUnit.SECONDS.toNanos(10));
            refusals.flush(256);
            assertThat(log.list).hasSize(2);
            assertThat(log.list.get(1).getFormattedMessage())
                    .contains("refused 1000 connection(s)", "1 over the total cap", "999 over the per-address cap",
                            "most from 127.0.0.2: 999");
            refusals.flush(256);
            assertThat(log.list).as("nothing pending, nothing logged").hasSize(2);
            assertThat(refused(metrics, "per-address")).isEqualTo(1000);
            assertThat(refused(metrics, "total")).isEqualTo(1);
        } finally {
            serverLog.detachAppender(log);
        }
    }

    private static double refused(final SimpleMeterRegistry metrics, final String cap) {
        var counter = metrics.find("virtman.iscsi.target.connections.refused").tag("cap", cap).counter();
        return counter == null ? 0 : counter.count();
    }

    private static Socket connectFrom(final InetAddress local, final InetSocketAddress portal) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(local, 0));
        s.connect(portal, 5000);
        return s;
    }

    /** Whether the target closed this socket (a refusal): a read sees end of stream at once. */
    private static boolean closedByPeer(final Socket s) throws IOException {
        s.setSoTimeout(1);
        try {
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException open) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static void await(final BooleanSupplier condition, final String what) throws InterruptedException {
        Await.until(condition, Duration.ofSeconds(60), what);
    }

    private static InetAddress address(final String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
