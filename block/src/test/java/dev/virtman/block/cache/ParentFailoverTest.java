package dev.virtman.block.cache;

import dev.virtman.testing.Await;
import dev.virtman.block.FaultyBlockDevice;
import dev.virtman.block.FaultyBlockDevice.Fault;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hedging and silence detection with a silent parent (a read that never returns until released)
 * and a hand-driven clock: every deadline passes because the test advanced the clock.
 */
class ParentFailoverTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 16;
    /** Long hard timeout: only hedging can get a fetch past a silent parent in these tests. */
    private static final FetchPolicy POLICY = new FetchPolicy(Duration.ofSeconds(30), 1, Duration.ZERO,
            Duration.ZERO, Duration.ofSeconds(1), 8);

    @TempDir
    Path dir;
    private byte[] image;
    private ChunkManifest manifest;
    private FileBlockDevice source;
    private final ManualFetchClock clock = new ManualFetchClock();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<FaultyBlockDevice> devices = new ArrayList<>();
    private final List<String> silent = new CopyOnWriteArrayList<>();
    private ChunkFetcher fetcher;
    private HedgeBudget budget;

    @BeforeEach
    void setUp() throws IOException {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 3);
        image = Files.readAllBytes(file);
        manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        source = FileBlockDevice.open(file, false);
    }

    @AfterEach
    void tearDown() throws IOException {
        devices.forEach(FaultyBlockDevice::release);
        if (fetcher != null) {
            fetcher.close();
        }
        source.close();
    }

    private ChunkFetcher fetcher(final FetchPolicy policy, final Duration cooldown, final Fault... faults) {
        return fetcher(policy, cooldown, null, faults);
    }

    /** Parents with faults; the first one gets {@code probe} (null: none). */
    private ChunkFetcher fetcher(final FetchPolicy policy, final Duration cooldown, final ParentSet.Probe probe,
                                 final Fault... faults) {
        List<ParentSet.Named> named = new ArrayList<>();
        for (int i = 0; i < faults.length; i++) {
            FaultyBlockDevice d = new FaultyBlockDevice(source, faults[i]);
            devices.add(d);
            named.add(new ParentSet.Named("p" + i, d, i == 0 ? probe : null));
        }
        budget = new HedgeBudget(policy.hedging(), registry);
        fetcher = new ChunkFetcher(manifest, new ParentSet(named, cooldown, registry, clock), policy, budget,
                (parent, nanos) -> silent.add(parent.name()));
        return fetcher;
    }

    private CompletableFuture<byte[]> fetchAsync(final int index) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                ByteBuffer b = fetcher.fetch(index);
                byte[] out = new byte[b.remaining()];
                b.get(out);
                return out;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
    }

    private byte[] chunk(final int index) {
        return Arrays.copyOfRange(image, index * CHUNK, (index + 1) * CHUNK);
    }

    private ParentSet.Parent parent(final int i) {
        return fetcher.parents().parents().get(i);
    }

    @Test
    void aSilentParentIsHedgedAtItsDeadlineAndTheNextParentAnswers() throws Exception {
        fetcher(POLICY, Duration.ofSeconds(1), Fault.STALL, Fault.NONE);
        long deadline = fetcher.hedgeDeadlineNanos(parent(0));
        assertThat(deadline).as("no answers yet: the initial deadline")
                .isEqualTo(HedgePolicy.DEFAULT.initialDeadline().toNanos());
        CompletableFuture<byte[]> got = fetchAsync(5);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofNanos(deadline - 1));
        clock.awaitWaiters(1);
        assertThat(devices.get(1).reads()).as("not yet past the deadline").isZero();
        clock.advance(Duration.ofNanos(1));
        assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(chunk(5));
        assertThat(devices.get(1).reads()).isEqualTo(1);
        assertThat(budget.sent()).isEqualTo(1);
        assertThat(budget.won()).isEqualTo(1);
        assertThat(parent(0).failures(ParentSet.FailureReason.SLOW)).isEqualTo(1);
        assertThat(parent(0).failures(ParentSet.FailureReason.TIMEOUT)).as("not waited out").isZero();
        // The beaten parent is at the back now: the next chunk goes straight to p1, no hedge, no wait.
        assertThat(fetchAsync(6).get(10, TimeUnit.SECONDS)).isEqualTo(chunk(6));
        assertThat(devices.get(0).reads()).isEqualTo(1);
        assertThat(budget.sent()).isEqualTo(1);
    }

    @Test
    void withHedgingOffTheSilentParentGetsTheWholeAttemptTimeout() throws Exception {
        fetcher(POLICY.withHedging(HedgePolicy.OFF), Duration.ofSeconds(1), Fault.STALL, Fault.NONE);
        CompletableFuture<byte[]> got = fetchAsync(2);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofSeconds(29));
        clock.awaitWaiters(1);
        assertThat(devices.get(1).reads()).isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(chunk(2));
        assertThat(parent(0).failures(ParentSet.FailureReason.TIMEOUT)).isEqualTo(1);
        assertThat(budget.sent()).isZero();
    }

    @Test
    void theBudgetRefusesHedgesBeyondItsShareOfRequests() throws Exception {
        // One token, none earned back; no cool-down, so every request asks the silent parent first.
        FetchPolicy policy = POLICY.withHedging(HedgePolicy.DEFAULT.withBudget(0, 1));
        fetcher(policy, Duration.ZERO, Fault.STALL, Fault.NONE);
        long deadline = fetcher.hedgeDeadlineNanos(parent(0));
        CompletableFuture<byte[]> first = fetchAsync(1);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofNanos(deadline));
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(chunk(1));
        CompletableFuture<byte[]> second = fetchAsync(2);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofNanos(deadline));
        clock.awaitWaiters(1);
        assertThat(budget.refused()).as("deadline passed, no token").isEqualTo(1);
        assertThat(devices.get(1).reads()).isEqualTo(1);
        // Without a hedge the request waits out the hard timeout, then fails over as before.
        clock.advance(POLICY.attemptTimeout());
        assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(chunk(2));
        assertThat(budget.sent()).isEqualTo(1);
        assertThat(parent(0).failures(ParentSet.FailureReason.TIMEOUT)).isEqualTo(1);
    }

    @Test
    void aParentSilentPastItsThresholdIsReportedOnce() throws Exception {
        // A long cool-down keeps p0 at the back: the later fetches go straight to p1 and only look.
        fetcher(POLICY, Duration.ofMinutes(1), Fault.STALL, Fault.NONE);
        long deadline = fetcher.hedgeDeadlineNanos(parent(0));
        CompletableFuture<byte[]> got = fetchAsync(3);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofNanos(deadline));
        got.get(10, TimeUnit.SECONDS);
        assertThat(silent).as("beaten once: slow, not yet silent").isEmpty();
        // Silent = no answer for max(1 s, 4 x deadline) = 2 s from the missed deadline.
        clock.advance(Duration.ofMillis(1_999));
        fetchAsync(4).get(10, TimeUnit.SECONDS);
        assertThat(silent).isEmpty();
        clock.advance(Duration.ofMillis(1));
        fetchAsync(5).get(10, TimeUnit.SECONDS);
        assertThat(silent).containsExactly("p0");
        fetchAsync(6).get(10, TimeUnit.SECONDS);
        assertThat(silent).as("once per threshold").containsExactly("p0");
    }

    @Test
    void aParentThatAnswersAPingIsBusyNotSilent() throws Exception {
        java.util.concurrent.atomic.AtomicInteger pings = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean answers = new java.util.concurrent.atomic.AtomicBoolean(true);
        fetcher(POLICY, Duration.ofMinutes(1), timeout -> {
            pings.incrementAndGet();
            return answers.get();
        }, Fault.STALL, Fault.NONE);
        long deadline = fetcher.hedgeDeadlineNanos(parent(0));
        CompletableFuture<byte[]> got = fetchAsync(3);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofNanos(deadline));
        got.get(10, TimeUnit.SECONDS);
        Await.until(() -> pings.get() == 1, "pinged at the missed deadline, not after a silence");
        clock.advance(Duration.ofSeconds(2));
        fetchAsync(4).get(10, TimeUnit.SECONDS);
        Await.until(() -> pings.get() == 2, "pinged again a threshold later: still no good answer");
        assertThat(silent).as("it answered the pings: busy, not silent").isEmpty();
        answers.set(false);
        clock.advance(Duration.ofSeconds(2));
        fetchAsync(5).get(10, TimeUnit.SECONDS);
        Await.until(() -> silent.size() == 1, "reported after an unanswered ping");
        assertThat(silent).containsExactly("p0");
        assertThat(pings.get()).isEqualTo(3);
    }

    @Test
    void aParentThatAlsoMissesAPingIsReportedOneSecondAfterItsMissedDeadline() throws Exception {
        java.util.concurrent.atomic.AtomicInteger pings = new java.util.concurrent.atomic.AtomicInteger();
        fetcher(POLICY, Duration.ofMinutes(1), timeout -> {
            pings.incrementAndGet();
            return false;
        }, Fault.STALL, Fault.NONE);
        long deadline = fetcher.hedgeDeadlineNanos(parent(0));
        CompletableFuture<byte[]> got = fetchAsync(3);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofNanos(deadline));
        got.get(10, TimeUnit.SECONDS);
        Await.until(() -> pings.get() == 1, "pinged at the missed deadline");
        // Threshold with a ping: max(1 s, one deadline) from the missed deadline, not 4 deadlines + a ping.
        clock.advance(Duration.ofMillis(999));
        fetchAsync(4).get(10, TimeUnit.SECONDS);
        assertThat(silent).isEmpty();
        clock.advance(Duration.ofMillis(1));
        fetchAsync(5).get(10, TimeUnit.SECONDS);
        Await.until(() -> silent.size() == 1, "reported one threshold after the missed deadline");
        fetchAsync(6).get(10, TimeUnit.SECONDS);
        assertThat(silent).as("once per threshold").containsExactly("p0");
        assertThat(pings.get()).as("an unanswered ping is not repeated").isEqualTo(1);
    }

    @Test
    void aSlowParentThatAnswersLateIsNeitherSilentNorKeptAtTheBack() throws Exception {
        fetcher(POLICY, Duration.ofSeconds(1), Fault.STALL, Fault.NONE);
        long deadline = fetcher.hedgeDeadlineNanos(parent(0));
        CompletableFuture<byte[]> got = fetchAsync(3);
        clock.awaitWaiters(1);
        clock.advance(Duration.ofNanos(deadline));
        got.get(10, TimeUnit.SECONDS);
        assertThat(fetcher.parents().coolingDown(parent(0))).isTrue();
        clock.advance(Duration.ofMillis(100));
        devices.get(0).setFault(Fault.NONE);
        devices.get(0).release(); // the late answer arrives
        Await.until(() -> !fetcher.parents().coolingDown(parent(0)), "p0 back at the front after its late answer");
        clock.advance(Duration.ofSeconds(10));
        assertThat(fetchAsync(4).get(10, TimeUnit.SECONDS)).isEqualTo(chunk(4));
        assertThat(devices.get(0).reads()).as("p0 asked first again").isEqualTo(2);
        assertThat(silent).isEmpty();
    }

    @Test
    void deadlinesFollowEachParentsRecentAnswers() throws Exception {
        fetcher(POLICY, Duration.ofSeconds(1), Fault.NONE, Fault.NONE);
        for (int i = 0; i < 16; i++) {
            assertThat(fetchAsync(i).get(10, TimeUnit.SECONDS)).isEqualTo(chunk(i));
        }
        // Answers took 0 ns on the manual clock: the deadline sits at its floor, not the initial guess.
        assertThat(fetcher.hedgeDeadlineNanos(parent(0))).isEqualTo(HedgePolicy.DEFAULT.minDeadline().toNanos());
        assertThat(fetcher.hedgeDeadlineNanos(parent(1))).as("never asked")
                .isEqualTo(HedgePolicy.DEFAULT.initialDeadline().toNanos());
        assertThat(budget.sent()).isZero();
    }

}
