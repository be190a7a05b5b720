package dev.virtman.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.iscsi.target.TargetTuning;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.testing.Await;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our initiator against our own target ({@link IscsiTargetServer} over a {@link ScsiDisk}):
 * the same whole-image comparison, discovery, CHAP and recovery as {@link TgtdInitiatorTest},
 * plus what only an in-process target can stage: its NOP-In pings, and a parent whose disk
 * stalls.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VirtmanTargetInitiatorTest {

    static final String IQN = "iqn.2026-11.dev.virtman:self-interop";
    static final long IMAGE_BYTES = 64L << 20;

    @TempDir
    static Path dir;
    static Path image;
    static String imageSha;

    private IscsiTargetServer server;
    private FileBlockDevice file;

    @BeforeAll
    static void makeImage() throws IOException {
        image = TestImages.random(dir.resolve("self.img"), IMAGE_BYTES, 7);
        imageSha = TestImages.sha256(image);
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (file != null) {
            file.close();
        }
    }

    private int serve(final BlockDevice device, final ChapConfig chap, final int port, final TargetTuning tuning)
            throws IOException {
        ScsiDisk disk = new ScsiDisk(device, DiskIdentity.fromName(IQN + "/0"));
        ExportedTarget target = new ExportedTarget(IQN, new LunTable(List.of(disk)), chap, Set.of());
        server = IscsiTargetServer.start(new TargetServerConfig(new InetSocketAddress("127.0.0.1", port),
                List.of(target), tuning));
        return server.localAddress().getPort();
    }

    private int serve(final ChapConfig chap) throws IOException {
        file = FileBlockDevice.open(image, false);
        return serve(file, chap, 0, TargetTuning.DEFAULTS);
    }

    private static String url(final int port) {
        return "iscsi://127.0.0.1:" + port + "/" + IQN + "/0";
    }

    @Test
    void aPausedTargetAnswersNothingNotEvenAPingAndCarriesOnWhenResumed() throws Exception {
        int port = serve(null);
        try (IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(url(port)), TgtdInitiatorTest.fastOptions())) {
            assertThat(dev.answers(Duration.ofSeconds(10))).as("a running target answers a ping").isTrue();
            server.pause();
            // A negative answer needs a bounded wait; 300 ms is ample on loopback for a target that answers.
            assertThat(dev.answers(Duration.ofMillis(300))).as("paused: silent").isFalse();
            java.util.concurrent.CompletableFuture<byte[]> read = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                ByteBuffer b = ByteBuffer.allocate(4096);
                try {
                    dev.read(0, b);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return b.array();
            });
            server.resume();
            byte[] got = read.get(30, TimeUnit.SECONDS);
            byte[] want = new byte[4096];
            try (var ch = java.nio.channels.FileChannel.open(image)) {
                ch.read(ByteBuffer.wrap(want), 0);
            }
            assertThat(got).isEqualTo(want);
            assertThat(dev.answers(Duration.ofSeconds(10))).isTrue();
        }
    }

    /**
     * One command at a time from a platform thread (how the emulated VMs and a guest's block layer
     * read): after the first answer the reader stands aside and the waiting thread reads its own
     * answers, so the kernel wakes one thread per command, not two (ReceiveTurn). A command
     * submitted without await, and one waited for by a virtual thread, still get their answers.
     */
    @Test
    void aWaitingPlatformThreadReadsItsOwnAnswersAndOthersStillGetTheirs() throws Exception {
        int port = serve(null);
        byte[] want = new byte[4096];
        try (IscsiSession s = IscsiSession.open("127.0.0.1", port, IQN, TgtdInitiatorTest.fastOptions());
             var ch = java.nio.channels.FileChannel.open(image)) {
            int commands = 200;
            for (int i = 0; i < commands; i++) {
                ByteBuffer got = ByteBuffer.allocate(4096);
                assertThat(s.await(s.readToAwait(0, i * 8L, 8, got))).isEqualTo(4096);
                ch.read(ByteBuffer.wrap(want), i * 4096L);
                assertThat(got.array()).as("block %d", i).isEqualTo(want);
            }
            assertThat(s.answeredInCaller()).as("answers read by the waiting thread").isGreaterThan(commands * 9L / 10);

            ByteBuffer async = ByteBuffer.allocate(4096);
            assertThat(s.read(0, 0, 8, async).get(10, TimeUnit.SECONDS)).as("submit without await").isEqualTo(4096);
            ByteBuffer virtual = ByteBuffer.allocate(4096);
            Thread v = Thread.ofVirtual().start(() -> {
                try {
                    s.await(s.readToAwait(0, 8, 8, virtual));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertThat(v.join(Duration.ofSeconds(10))).as("a virtual thread's await returns").isTrue();
            ch.read(ByteBuffer.wrap(want), 4096);
            assertThat(virtual.array()).isEqualTo(want);
            assertThat(s.answers(Duration.ofSeconds(10))).as("a ping is answered after the caller reads").isTrue();
        }
    }

    @Test
    void readsEveryByteWithConcurrentReads() throws Exception {
        int port = serve(null);
        try (IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(url(port)), TgtdInitiatorTest.fastOptions())) {
            assertThat(dev.size()).isEqualTo(IMAGE_BYTES);
            assertThat(TgtdInitiatorTest.readAllConcurrently(dev, 8, null)).isEqualTo(imageSha);
            assertThat(dev.session().reportLuns()).containsExactly(0);
        }
    }

    @Test
    void readsEveryByteWithCrc32cDigests() throws Exception {
        int port = serve(null);
        InitiatorOptions digests = TgtdInitiatorTest.fastOptions().withDigests(true, true);
        try (IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(url(port)), digests)) {
            assertThat(dev.session().parameters().headerDigest()).isTrue();
            assertThat(dev.session().parameters().dataDigest()).isTrue();
            assertThat(TgtdInitiatorTest.readAllConcurrently(dev, 4, null)).isEqualTo(imageSha);
        }
    }

    /**
     * A boot storm opens 1,100 sessions in one JVM: each may cost its reader thread (and the
     * target its reader and writer), not a timer thread of its own as well. Keep-alive still works on the
     * shared timer (the NOP-In and stall tests below, TgtdInitiatorTest's SIGSTOP).
     */
    @Test
    void sessionsShareOneLivenessTimer() throws Exception {
        int port = serve(null);
        int sessions = 24;
        List<IscsiSession> open = new java.util.ArrayList<>();
        int before = Thread.activeCount();
        try {
            for (int i = 0; i < sessions; i++) {
                open.add(IscsiSession.open("127.0.0.1", port, IQN, TgtdInitiatorTest.fastOptions()));
            }
            for (IscsiSession s : open) {
                assertThat(s.readCapacity(0).bytes()).isEqualTo(IMAGE_BYTES);
            }
            // Initiator reader + target reader and writer (platform threads, so the socket stays
            // blocking) per session, plus the one shared timer and slack for unrelated JDK
            // threads; a timer per session would add `sessions` more.
            assertThat(Thread.activeCount() - before).isLessThanOrEqualTo(3 * sessions + sessions / 2);
        } finally {
            for (IscsiSession s : open) {
                s.close();
            }
        }
    }

    @Test
    void discoveryFindsTheTarget() throws Exception {
        int port = serve(null);
        List<DiscoveredTarget> targets = new IscsiInitiator(TgtdInitiatorTest.fastOptions()).discover("127.0.0.1", port);
        assertThat(targets).extracting(DiscoveredTarget::name).containsExactly(IQN);
    }

    @Test
    void chapOneWayMutualAndWrongPasswords() throws Exception {
        int port = serve(new ChapConfig("alice", "alice-secret-123", "target", "target-secret-456"));
        InitiatorOptions mutual = TgtdInitiatorTest.fastOptions()
                .withChap(new ChapConfig("alice", "alice-secret-123", "target", "target-secret-456"));
        try (IscsiSession s = IscsiSession.open("127.0.0.1", port, IQN, mutual)) {
            assertThat(s.readCapacity(0).bytes()).isEqualTo(IMAGE_BYTES);
        }
        try (IscsiBlockDevice dev = IscsiBlockDevice.open(
                IscsiUrl.parse("iscsi://alice%alice-secret-123@127.0.0.1:" + port + "/" + IQN + "/0"),
                TgtdInitiatorTest.fastOptions())) {
            assertThat(dev.size()).isEqualTo(IMAGE_BYTES);
        }
        assertThatThrownBy(() -> IscsiBlockDevice.open(
                IscsiUrl.parse("iscsi://alice%not-the-secret@127.0.0.1:" + port + "/" + IQN + "/0"),
                TgtdInitiatorTest.fastOptions()))
                .isInstanceOf(IscsiLoginException.class).hasMessageContaining("authentication failed");
        InitiatorOptions wrongTarget = TgtdInitiatorTest.fastOptions()
                .withChap(new ChapConfig("alice", "alice-secret-123", "target", "another-secret-789"));
        assertThatThrownBy(() -> IscsiSession.open("127.0.0.1", port, IQN, wrongTarget))
                .isInstanceOf(IscsiLoginException.class).hasMessageContaining("mutual CHAP");
    }

    @Test
    void answersTheTargetsNopInPingsAndStaysConnected() throws Exception {
        file = FileBlockDevice.open(image, false);
        int port = serve(file, null, 0, TargetTuning.DEFAULTS.withTimeouts(Duration.ofSeconds(5),
                Duration.ofMillis(200), Duration.ofMillis(800)));
        InitiatorOptions options = TgtdInitiatorTest.fastOptions().withKeepAlive(Duration.ofMillis(300),
                Duration.ofSeconds(1));
        try (IscsiSession s = IscsiSession.open("127.0.0.1", port, IQN, options)) {
            // Pings both ways: the target's NOP-Ins, which we echo (the target pings again only
            // after an answer; an unanswered one closes the connection), and our NOP-Outs it answers.
            Await.until(() -> s.liveness.targetPingsEchoed() >= 2 && s.liveness.pingsAnswered() >= 2,
                    Duration.ofSeconds(20), "two NOP-In pings from the target echoed and two of ours answered");
            s.testUnitReady(0);
            assertThat(s.recoveries()).isZero();
            assertThat(s.state()).isEqualTo(IscsiSession.State.LOGGED_IN);
        }
    }

    @Test
    void recoversWhenTheTargetRestartsOnTheSamePortMidRead() throws Exception {
        int port = serve(null);
        try (IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(url(port)), TgtdInitiatorTest.fastOptions())) {
            String sha = TgtdInitiatorTest.readAllThroughAnOutage(dev, IMAGE_BYTES / TgtdInitiatorTest.CHUNK / 3,
                    () -> server.close(), Duration.ofMillis(1000), () -> serve(file, null, port, TargetTuning.DEFAULTS));
            assertThat(sha).isEqualTo(imageSha);
            assertThat(dev.session().recoveries()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void aStallingParentDiskFailsTheReadInBoundedTime() throws Exception {
        file = FileBlockDevice.open(image, false);
        StallingDevice stalling = new StallingDevice(file);
        int port = serve(stalling, null, 0, TargetTuning.DEFAULTS);
        InitiatorOptions options = InitiatorOptions.defaults().withTimeouts(Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(2));
        try (IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(url(port)), options)) {
            stalling.stall.set(true);
            long start = System.nanoTime();
            assertThatThrownBy(() -> dev.read(0, ByteBuffer.allocate(4096))).isInstanceOf(IscsiException.class);
            long millis = (System.nanoTime() - start) / 1_000_000;
            // every reissue reaches the stalled disk again: maxReissues + 1 command timeouts, no hang
            assertThat(millis).isBetween(400L, 30_000L);
            stalling.stall.set(false);
            stalling.release.countDown();
            ByteBuffer b = ByteBuffer.allocate(4096);
            dev.read(0, b);
            assertThat(b.position()).isEqualTo(4096);
        }
    }

    /** A parent disk that blocks reads while {@link #stall} is set (until {@link #release}). */
    static final class StallingDevice implements BlockDevice {
        final AtomicBoolean stall = new AtomicBoolean();
        final CountDownLatch release = new CountDownLatch(1);
        private final BlockDevice inner;

        StallingDevice(final BlockDevice inner) {
            this.inner = inner;
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public void read(final long offset, final ByteBuffer dst) throws IOException {
            if (stall.get()) {
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException();
                }
            }
            inner.read(offset, dst);
        }
    }
}
