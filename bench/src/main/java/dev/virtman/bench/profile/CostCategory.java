package dev.virtman.bench.profile;

import java.util.List;

/**
 * The parts of a boot storm's data path a CPU sample is charged to, first match wins, in this
 * order: the emulated VMs (the bench, by thread name), SHA-256 (anywhere), thread hand-offs and
 * locks (in the few frames nearest the leaf), upstream fetches, the cache's files, the agents'
 * and the source's targets, the manager, the bench's meters, the rest.
 */
public enum CostCategory {
    VM_REPLAY("emulated VMs: replay, reference read, compare"),
    VM_INITIATOR("emulated VMs: initiator receive"),
    SHA256("SHA-256 of fetched chunks"),
    THREADS_LOCKS("thread hand-offs, parking, locks"),
    UPSTREAM("agents' upstream fetches (initiator, fail-over)"),
    CACHE("cache files (hit reads, commits, bitmaps)"),
    TARGET("targets: iSCSI PDUs, SCSI, socket writes"),
    MANAGER("manager, HTTP, heartbeats"),
    BENCH("bench meters"),
    OTHER("other (JIT, logging, start-up)");

    /** Frames from the leaf inward that decide {@link #THREADS_LOCKS}: the sample is in the hand-off itself. */
    private static final int LOCK_FRAMES = 4;

    private final String label;

    CostCategory(final String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Classifies one sample by its thread's name and its stack, leaf first ({@code SimpleClass.method}). */
    static CostCategory classify(final String thread, final List<String> leafFirst) {
        if (thread.startsWith("storm-vm-") && !thread.startsWith("storm-vm-cpu")) {
            return VM_REPLAY;
        }
        if (thread.startsWith("iscsi-reader-iqn.2026-11.dev.virtman:initiator-vm-")) {
            return VM_INITIATOR;
        }
        if (any(leafFirst, leafFirst.size(), "SHA2.", "SHA5.", "DigestBase.", "MessageDigest.")) {
            return SHA256;
        }
        if (any(leafFirst, LOCK_FRAMES, "LockSupport.", "Unsafe.park", "Unsafe.unpark", "AbstractQueuedSynchronizer",
                "ReentrantLock", "Continuation.", "VirtualThread.", "ForkJoinPool.", "ForkJoinWorkerThread.",
                "Object.wait", "Thread.sleep", "Thread.start", "Thread.yield", "Condition", "LinkedBlockingQueue.",
                "SynchronousQueue.", "CompletableFuture.")) {
            return THREADS_LOCKS;
        }
        if (thread.startsWith("iscsi-reader-") || thread.startsWith("chunk-fetch") || thread.startsWith("iscsi-recovery")
                || any(leafFirst, leafFirst.size(), "ParentFailover.", "ChunkFetcher.", "VerifiedChunkSource.",
                "UpstreamSwitch.", "LazyParentDevice.", "ParentConnector.", "IscsiBlockDevice.", "IscsiSession.")) {
            return UPSTREAM;
        }
        if (any(leafFirst, leafFirst.size(), "ChunkCache.", "PresenceBitmap.", "BitmapFile.", "CacheSpaceManager.")) {
            return CACHE;
        }
        if (thread.equals("iscsi-reader") || thread.startsWith("iscsi-writer")
                || any(leafFirst, leafFirst.size(), "TargetConnection.", "ResponseWriter.", "ScsiDisk.", "IscsiTargetServer.")) {
            return TARGET;
        }
        if (thread.startsWith("manager-") || thread.startsWith("HttpClient") || thread.startsWith("qtp")
                || any(leafFirst, leafFirst.size(), "ManagerServer.", "ManagedAgent.", "ManagerClient.", "AgentStreams.")) {
            return MANAGER;
        }
        if (thread.startsWith("storm-heap-sampler") || thread.startsWith("storm-vm-cpu")
                || thread.startsWith("storm-failed-hosts") || thread.startsWith("JFR")) {
            return BENCH;
        }
        return OTHER;
    }

    private static boolean any(final List<String> frames, final int limit, final String... needles) {
        for (int i = 0; i < Math.min(limit, frames.size()); i++) {
            String f = frames.get(i);
            for (String n : needles) {
                if (f.startsWith(n) || f.contains(n)) {
                    return true;
                }
            }
        }
        return false;
    }
}
