package dev.virtman.sim;

import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import dev.virtman.trace.BootTrace;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BootStormSimTest {
    private static final int CHUNK = 64 << 10;
    /** One chunk per second into each host. */
    private static final double ONE_CHUNK_PER_SECOND = CHUNK;
    private static final double LATENCY = 0.01;

    /** One 64 KiB read at t=0 over 32 KiB chunks: a run of two. */
    private static Workload oneReadOfTwoChunks() {
        BootTrace trace = new BootTrace(List.of(new BootTrace.Read(0, 0, CHUNK)));
        return Workload.of("one-read", trace, CHUNK / 2, 1.0);
    }

    /** Each host receives one 32 KiB chunk per second. */
    private static NetworkModel oneHalfChunkPerSecond() {
        return new NetworkModel(CHUNK / 2.0, Link.UNLIMITED, LATENCY, Link.UNLIMITED, Link.UNLIMITED, 0, Testbed.NONE);
    }

    /** Two one-chunk reads: chunk 0 at t=0, chunk 1 at t=1. */
    private static Workload twoReads() {
        BootTrace trace = new BootTrace(List.of(new BootTrace.Read(0, 0, CHUNK), new BootTrace.Read(1.0, CHUNK, CHUNK)));
        return Workload.of("two-reads", trace, CHUNK, 1.0);
    }

    private static NetworkModel slowHosts() {
        return new NetworkModel(ONE_CHUNK_PER_SECOND, Link.UNLIMITED, LATENCY, Link.UNLIMITED, Link.UNLIMITED, 0,
                Testbed.NONE);
    }

    @Test
    void loneVmTimelineByHand() {
        SimResult r = new BootStormSim(Scenario.of(1, 1, twoReads(), 4L * CHUNK, slowHosts(), Strategy.FLAT)).run();
        // Read 0: request 0 -> source 0.01, 1 s on the host's link -> 1.01, back 0.01 -> 1.02.
        // Read 1 was due at 1.0, issued at 1.02: 1.03, 2.03, done 2.04.
        assertThat(r.bootSeconds()).hasSize(1);
        assertThat(r.max()).isCloseTo(2.04, within(1e-9));
        assertThat(r.sourceBytes()).isEqualTo(2L * CHUNK);
        assertThat(r.fetches()).isEqualTo(2);
    }

    @Test
    void vmsOnOneHostShareItsCacheWithOneFetchPerChunk() {
        SimResult r = new BootStormSim(Scenario.of(1, 5, twoReads(), 4L * CHUNK, slowHosts(), Strategy.FLAT)).run();
        assertThat(r.completed()).isEqualTo(5);
        assertThat(r.p50()).isCloseTo(2.04, within(1e-9));
        assertThat(r.max()).isCloseTo(2.04, within(1e-9));
        assertThat(r.sourceBytes()).isEqualTo(2L * CHUNK);
    }

    @Test
    void fullCopyMovesTheWholeImageBeforeVmsStart() {
        SimResult r = new BootStormSim(Scenario.of(2, 1, twoReads(), 4L * CHUNK, slowHosts(), Strategy.FULL_COPY)).run();
        // Copy: request 0.01, 4 chunks at 1 chunk/s -> 4.01, back 0.01 -> 4.02. VMs then read
        // locally: read 1 is due at 4.02 + 1.0.
        assertThat(r.max()).isCloseTo(5.02, within(1e-9));
        assertThat(r.p50()).isCloseTo(5.02, within(1e-9));
        assertThat(r.sourceBytes()).isEqualTo(2 * 4L * CHUNK);
    }

    @Test
    void treeStormUsesTheProductionPlannersTree() {
        Workload w = twoReads();
        NetworkModel net = NetworkModel.ethernet(1, Link.UNLIMITED, 0);
        BootStormSim sim = new BootStormSim(Scenario.of(10, 2, w, 4L * CHUNK, net, Strategy.tree(2)));
        SimResult r = sim.run();
        List<TreeMember> members = new ArrayList<>();
        for (int h = 1; h <= 10; h++) {
            members.add(new TreeMember("host-" + h, Locality.UNKNOWN, 0));
        }
        DistributionTree expected = new TreePlanner(new TreeLimits(2, 2, TreeLimits.DEFAULT_MAX_DEPTH), Locality.UNKNOWN)
                .plan(DistributionTree.empty(), members).tree();
        assertThat(sim.tree()).isEqualTo(expected);
        assertThat(r.treeDepth()).isEqualTo(expected.depth()).isEqualTo(3);
        long ws = w.chunkWorkingSetBytes();
        // Levels of the planner's tree hold 2, 4 and 4 hosts; each host fetches the working set once.
        assertThat(r.bytesPerLevel()).isEqualTo(Map.of(1, 2 * ws, 2, 4 * ws, 3, 4 * ws));
        assertThat(r.sourceBytes()).isEqualTo(2 * ws);
        assertThat(r.completed()).isEqualTo(20);
    }

    @Test
    void flatStormCostsTheSourceOneWorkingSetPerHostAndMultiParentOneInAll() {
        Workload w = twoReads();
        NetworkModel net = NetworkModel.ethernet(1, Link.UNLIMITED, 0);
        SimResult flat = new BootStormSim(Scenario.of(8, 2, w, 4L * CHUNK, net, Strategy.FLAT)).run();
        SimResult multi = new BootStormSim(Scenario.of(8, 2, w, 4L * CHUNK, net, Strategy.MULTI_PARENT)).run();
        assertThat(flat.sourceBytes()).isEqualTo(8 * w.chunkWorkingSetBytes());
        assertThat(multi.sourceBytes()).isEqualTo(w.chunkWorkingSetBytes());
        assertThat(multi.completed()).isEqualTo(16);
    }

    @Test
    void aParentTooSlowForTheAttemptTimeoutFailsTheVmAfterEveryRound() {
        // 64 KiB at 10 kB/s takes 6.6 s, longer than the default 5 s attempt timeout: each of the
        // policy's rounds times out and the VM's read fails, as ChunkFetcher would make it.
        NetworkModel crawl = new NetworkModel(10_000, Link.UNLIMITED, LATENCY, Link.UNLIMITED, Link.UNLIMITED, 0,
                Testbed.NONE);
        SimResult r = new BootStormSim(Scenario.of(1, 1, twoReads(), 4L * CHUNK, crawl, Strategy.FLAT)).run();
        assertThat(r.failedVms()).isEqualTo(1);
        assertThat(r.completed()).isZero();
        assertThat(r.failedAttempts()).isEqualTo(FetchPolicy.DEFAULT.rounds());
    }

    @Test
    void hostFailuresLoseOnlyTheirOwnVmsAndChildrenFailOver() {
        Workload w = twoReads();
        Scenario s = new Scenario(30, 2, w, 4L * CHUNK, slowHosts(), Strategy.tree(2), false, 0.1, 0.5, 3,
                FetchPolicy.DEFAULT, ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL, ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT);
        SimResult r = new BootStormSim(s).run();
        assertThat(r.lostVms()).isEqualTo(3 * 2);
        assertThat(r.completed()).isEqualTo(60 - 6);
        assertThat(r.failedVms()).isZero();
        assertThat(r.unfinishedVms()).isZero();
        assertThat(r.notes()).contains("3 hosts failed").contains("re-planned");
    }

    @Test
    void prefetchFollowsTheRecordedProfile() {
        BootTrace trace = new BootTrace(List.of(new BootTrace.Read(0, 0, CHUNK), new BootTrace.Read(10.0, CHUNK, CHUNK),
                new BootTrace.Read(20.0, 2L * CHUNK, CHUNK)));
        Workload w = Workload.of("three", trace, CHUNK, 1.0);
        Scenario base = Scenario.of(1, 1, w, 4L * CHUNK, slowHosts(), Strategy.FLAT);
        assertThat(BootStormSim.recordProfile(base)).containsExactly(0, 1, 2);
        // Without prefetch read 2 (due at 20) waits 1.02 s for its chunk; with it, the chunk is
        // already there and the VM finishes at its trace time.
        assertThat(new BootStormSim(base).run().max()).isCloseTo(21.02, within(1e-9));
        assertThat(new BootStormSim(base.withPrefetch(true)).run().max()).isCloseTo(20.0, within(1e-9));
    }

    @Test
    void aReadOfConsecutiveMissingChunksFetchesThemWithOneRequest() {
        // 32 KiB chunks, one 64 KiB read: the agent's cache claims both chunks as one run, so one
        // request: 0.01 there, two chunks at one chunk per second, 0.01 back = 2.02 s. Chunk by
        // chunk it would cost two round trips (2.04 s).
        SimResult r = new BootStormSim(Scenario.of(1, 1, oneReadOfTwoChunks(), 4L * CHUNK, oneHalfChunkPerSecond(),
                Strategy.FLAT)).run();
        assertThat(r.max()).isCloseTo(2.02, within(1e-9));
        assertThat(r.fetches()).isEqualTo(2);
        assertThat(r.sourceBytes()).isEqualTo(CHUNK);
    }

    @Test
    void aParentMissingARunFetchesItAsOneRunAndServesTheChildOnce() {
        // Two hosts in a chain (fan-out 1): the child's run request reaches the parent, whose
        // cache misses both chunks: one run request to the source, then one answer to the child.
        // Parent: 0.01 + 2 s + 0.01 = 2.02 (its VM is done then); child: request at 0.01, answer
        // leaves at 2.02, 2 s on the child's link, 0.01 back = 4.03.
        SimResult r = new BootStormSim(Scenario.of(2, 1, oneReadOfTwoChunks(), 4L * CHUNK, oneHalfChunkPerSecond(),
                Strategy.tree(1))).run();
        assertThat(r.bootSeconds()).hasSize(2);
        assertThat(r.bootSeconds()[0]).isCloseTo(2.02, within(1e-9));
        assertThat(r.bootSeconds()[1]).isCloseTo(4.03, within(1e-9));
        assertThat(r.sourceBytes()).isEqualTo(CHUNK);
        assertThat(r.bytesPerLevel()).isEqualTo(Map.of(1, (long) CHUNK, 2, (long) CHUNK));
    }

    @Test
    void oneVmStandsForAHostsVmsOnlyBecauseTheyAreInLockStep() {
        // The shortcut (one simulated VM per host when nothing is shared between VMs) must give
        // exactly what simulating every VM gives, faults and prefetch included.
        Workload w = Workload.of("debian12", traceOf(), 32 << 10, 0.05);
        NetworkModel net = new NetworkModel(2e6, 4e6, 1e-4, 8e6, Link.UNLIMITED, 2e-3, Testbed.NONE);
        for (Strategy st : List.of(Strategy.FLAT, Strategy.tree(2), Strategy.tree(3), Strategy.MULTI_PARENT,
                Strategy.FULL_COPY)) {
            Scenario s = new Scenario(12, 3, w, 64L << 20, net, st, st.kind() == Strategy.Kind.TREE, 0.1, 1.0, 7,
                    FetchPolicy.DEFAULT.withAttemptTimeout(java.time.Duration.ofMillis(300)),
                    ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL, ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT);
            SimResult one = new BootStormSim(s).run();
            SimResult all = new BootStormSim(s, true).run();
            assertThat(one.bootSeconds()).as(st.label()).containsExactly(all.bootSeconds());
            assertThat(one.sourceBytes()).as(st.label()).isEqualTo(all.sourceBytes());
            assertThat(one.lostVms()).as(st.label()).isEqualTo(all.lostVms()).isEqualTo(3);
            assertThat(one.failedVms()).as(st.label()).isEqualTo(all.failedVms());
            assertThat(one.fetches()).as(st.label()).isEqualTo(all.fetches());
            assertThat(one.completed()).as(st.label()).isEqualTo(33 - one.failedVms());
            assertThat(one.events()).as(st.label()).isLessThan(all.events());
        }
    }

    @Test
    void onASharedCoreTheVmsReadsQueueForIt() {
        // One core, 1 s of CPU per command: two VMs on one host each read one cached-after-fetch
        // chunk. Fetch: 0.01 there, 1 s on the link, 0.01 back = 1.02, then the request's 1 s of
        // CPU = 2.02; the two VMs' READs then take the core one after the other: 3.02 and 4.02.
        Testbed oneCore = new Testbed(1, 1.0, 0);
        NetworkModel net = new NetworkModel(ONE_CHUNK_PER_SECOND, Link.UNLIMITED, LATENCY, Link.UNLIMITED,
                Link.UNLIMITED, 0, oneCore);
        BootTrace trace = new BootTrace(List.of(new BootTrace.Read(0, 0, CHUNK)));
        Workload w = Workload.of("one-read", trace, CHUNK, 1.0);
        SimResult r = new BootStormSim(Scenario.of(1, 2, w, 4L * CHUNK, net, Strategy.FLAT)).run();
        assertThat(r.bootSeconds()).hasSize(2);
        assertThat(r.bootSeconds()[0]).isCloseTo(3.02, within(1e-9));
        assertThat(r.bootSeconds()[1]).isCloseTo(4.02, within(1e-9));
        assertThat(r.testbedCpuSeconds()).isCloseTo(3.0, within(1e-9));
        assertThat(r.requests()).isEqualTo(1);
    }

    /** The first 200 reads of the recorded Debian boot: real offsets, lengths and gaps. */
    private static BootTrace traceOf() {
        try {
            BootTrace full = BootTrace.readCsv(java.nio.file.Path.of("bench/traces/debian12-boot.csv"));
            return new BootTrace(full.reads().subList(0, 200));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
