package dev.virtman.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.virtman.iscsi.login.ChapConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our initiator against tgtd, a target no one here wrote: whole-image reads compared by
 * SHA-256, discovery, CHAP, recovery from a killed target, timeouts on a stopped one.
 */
@Tag("interop")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TgtdInitiatorTest {

    static final String IQN = "iqn.2026-11.dev.virtman:tgtd-interop";
    static final long IMAGE_BYTES = 96L << 20;
    static final int CHUNK = 1 << 20;

    @TempDir
    static Path dir;
    static Path image;
    static String imageSha;

    @BeforeAll
    static void makeImage() throws IOException {
        assumeTrue(TgtdFixture.available(), "tgtd not installed");
        image = TestImages.random(dir.resolve("disk.img"), IMAGE_BYTES, 42);
        imageSha = TestImages.sha256(image);
    }

    @AfterAll
    static void done() {
        // the images live in @TempDir and go with it
    }

    static InitiatorOptions fastOptions() {
        return InitiatorOptions.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(20));
    }

    @Test
    void readsEveryByteWithConcurrentReads() throws Exception {
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image);
             IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(tgtd.url(1)), fastOptions())) {
            assertThat(dev.size()).isEqualTo(IMAGE_BYTES);
            assertThat(dev.logicalBlockSize()).isEqualTo(512);
            assertThat(readAllConcurrently(dev, 8, null)).isEqualTo(imageSha);
            assertThat(dev.session().recoveries()).isZero();
        }
    }

    @Test
    void inquiryReportLunsAndControllerLun() throws Exception {
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image);
             IscsiSession s = IscsiSession.open("127.0.0.1", tgtd.port, IQN, fastOptions())) {
            assertThat(s.reportLuns()).containsExactly(0, 1);
            assertThat(s.inquiry(1).isDisk()).isTrue();
            s.testUnitReady(1);
            assertThat(s.readCapacity(1).bytes()).isEqualTo(IMAGE_BYTES);
            assertThatThrownBy(() -> IscsiBlockDevice.attach(s, 0, false, "lun0"))
                    .isInstanceOf(IscsiException.class).hasMessageContaining("not a disk");
        }
    }

    @Test
    void unalignedReadsMatchTheImage() throws Exception {
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image);
             IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(tgtd.url(1)), fastOptions());
             var file = java.nio.channels.FileChannel.open(image)) {
            long[] offsets = {1, 511, 4097, IMAGE_BYTES - 3000};
            for (long off : offsets) {
                ByteBuffer got = ByteBuffer.allocate(2999);
                dev.read(off, got);
                ByteBuffer want = ByteBuffer.allocate(2999);
                file.read(want, off);
                assertThat(got.flip()).isEqualTo(want.flip());
            }
        }
    }

    @Test
    void crc32cDigestsAreNegotiatedAndDataStillMatches() throws Exception {
        InitiatorOptions digests = fastOptions().withDigests(true, true);
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image)) {
            try (IscsiSession s = IscsiSession.open("127.0.0.1", tgtd.port, IQN, digests)) {
                assertThat(s.parameters().headerDigest()).isFalse(); // tgtd's default offers None only
            }
            tgtd.targetParameter("HeaderDigest", "CRC32C,None");
            tgtd.targetParameter("DataDigest", "CRC32C,None");
            checkDigestRead(tgtd, digests);
        }
    }

    private static void checkDigestRead(final TgtdFixture tgtd, final InitiatorOptions digests) throws Exception {
        try (IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(tgtd.url(1)), digests);
             var file = java.nio.channels.FileChannel.open(image)) {
            assertThat(dev.session().parameters().headerDigest()).isTrue();
            assertThat(dev.session().parameters().dataDigest()).isTrue();
            ByteBuffer got = ByteBuffer.allocate(8 * CHUNK);
            dev.read(IMAGE_BYTES - 8L * CHUNK, got);
            ByteBuffer want = ByteBuffer.allocate(8 * CHUNK);
            file.read(want, IMAGE_BYTES - 8L * CHUNK);
            assertThat(got.flip()).isEqualTo(want.flip());
        }
    }

    @Test
    void discoveryFindsTheTarget() throws Exception {
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image)) {
            List<DiscoveredTarget> targets = new IscsiInitiator(fastOptions()).discover("127.0.0.1", tgtd.port);
            assertThat(targets).extracting(DiscoveredTarget::name).containsExactly(IQN);
            assertThat(targets.get(0).addresses()).anyMatch(a -> a.startsWith("127.0.0.1:" + tgtd.port));
        }
    }

    @Test
    void chapWithTheRightPasswordLogsInAndTheWrongOneIsRefused() throws Exception {
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image)) {
            tgtd.addAccount("alice", "alice-secret-123", false);
            String url = "iscsi://alice%alice-secret-123@127.0.0.1:" + tgtd.port + "/" + IQN + "/1";
            try (IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(url), fastOptions())) {
                ByteBuffer b = ByteBuffer.allocate(4096);
                dev.read(0, b);
                assertThat(b.position()).isEqualTo(4096);
            }
            String bad = "iscsi://alice%wrong-password-1@127.0.0.1:" + tgtd.port + "/" + IQN + "/1";
            assertThatThrownBy(() -> IscsiBlockDevice.open(IscsiUrl.parse(bad), fastOptions()))
                    .isInstanceOf(IscsiLoginException.class)
                    .hasMessageContaining("authentication failed")
                    .hasMessageNotContaining("wrong-password");
            assertThatThrownBy(() -> IscsiBlockDevice.open(IscsiUrl.parse(tgtd.url(1)), fastOptions()))
                    .isInstanceOf(IscsiLoginException.class);
        }
    }

    @Test
    void mutualChapVerifiesTheTarget() throws Exception {
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image)) {
            tgtd.addAccount("alice", "alice-secret-123", false);
            tgtd.addAccount("target-user", "target-secret-456", true);
            InitiatorOptions good = fastOptions().withChap(new ChapConfig("alice", "alice-secret-123",
                    "target-user", "target-secret-456"));
            try (IscsiSession s = IscsiSession.open("127.0.0.1", tgtd.port, IQN, good)) {
                assertThat(s.readCapacity(1).bytes()).isEqualTo(IMAGE_BYTES);
            }
            InitiatorOptions wrongTargetSecret = fastOptions().withChap(new ChapConfig("alice",
                    "alice-secret-123", "target-user", "not-the-target-secret"));
            assertThatThrownBy(() -> IscsiSession.open("127.0.0.1", tgtd.port, IQN, wrongTargetSecret))
                    .isInstanceOf(IscsiLoginException.class).hasMessageContaining("mutual CHAP");
        }
    }

    @Test
    void recoversWhenTgtdIsKilledMidReadAndRestarted() throws Exception {
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image);
             IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(tgtd.url(1)), fastOptions())) {
            String sha = readAllThroughAnOutage(dev, IMAGE_BYTES / 3 / CHUNK, tgtd::kill, Duration.ofMillis(1500),
                    tgtd::restart);
            assertThat(sha).isEqualTo(imageSha);
            assertThat(dev.session().recoveries()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void stoppedTargetTimesOutInsteadOfHanging() throws Exception {
        InitiatorOptions options = InitiatorOptions.defaults().withTimeouts(Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(2));
        try (TgtdFixture tgtd = TgtdFixture.start(IQN, image);
             IscsiBlockDevice dev = IscsiBlockDevice.open(IscsiUrl.parse(tgtd.url(1)), options)) {
            tgtd.stop();
            try {
                long start = System.nanoTime();
                assertThatThrownBy(() -> dev.read(0, ByteBuffer.allocate(CHUNK)))
                        .isInstanceOf(IscsiException.class).hasMessageContaining("reconnecting failed");
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertThat(millis).isBetween(900L, 10_000L);
            } finally {
                tgtd.resume();
            }
            // once the target answers again, the next read re-establishes the session
            ByteBuffer b = ByteBuffer.allocate(CHUNK);
            dev.read(0, b);
            assertThat(b.position()).isEqualTo(CHUNK);
        }
    }

    interface ChunkHook {
        void beforeChunk(long chunk);
    }

    /** Takes a target down or brings it back. */
    interface TargetStep {
        void run() throws Exception;
    }

    /**
     * {@link #readAllConcurrently} from 8 threads, with the target taken down ({@code takeDown}, on
     * the reader's thread) just before chunk {@code atChunk} is read and brought back
     * ({@code bringBack}, on its own thread) {@code downtime} later; returns once both the read and
     * the restart are done.
     */
    static String readAllThroughAnOutage(final IscsiBlockDevice dev, final long atChunk, final TargetStep takeDown,
                                         final Duration downtime, final TargetStep bringBack) throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        Thread[] restarter = new Thread[1];
        String sha = readAllConcurrently(dev, 8, chunk -> {
            if (chunk == atChunk && done.compareAndSet(false, true)) {
                try {
                    takeDown.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                restarter[0] = Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(downtime);
                        bringBack.run();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
        });
        restarter[0].join();
        return sha;
    }

    /** Reads the device in CHUNK pieces from {@code threads} threads; returns the SHA-256 of the whole. */
    static String readAllConcurrently(final IscsiBlockDevice dev, final int threads, final ChunkHook hook)
            throws Exception {
        long chunks = dev.size() / CHUNK;
        byte[] all = new byte[(int) dev.size()];
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                futures.add(pool.submit(() -> {
                    for (long c = first; c < chunks; c += threads) {
                        if (hook != null) {
                            hook.beforeChunk(c);
                        }
                        dev.read(c * CHUNK, ByteBuffer.wrap(all, (int) (c * CHUNK), CHUNK));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(150, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        MessageDigest md = TestImages.sha256();
        md.update(all);
        return HexFormat.of().formatHex(md.digest());
    }
}
