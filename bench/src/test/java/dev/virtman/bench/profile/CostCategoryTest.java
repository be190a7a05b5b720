package dev.virtman.bench.profile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a CPU sample is charged: by thread for the emulated VMs, else by the frames of its stack. */
class CostCategoryTest {

    @Test
    void theEmulatedVmsAreChargedByThreadWhateverTheyRun() {
        assertThat(CostCategory.classify("storm-vm-17", List.of("SocketDispatcher.write0", "InitiatorConnection.send")))
                .isEqualTo(CostCategory.VM_REPLAY);
        assertThat(CostCategory.classify("iscsi-reader-iqn.2026-11.dev.virtman:initiator-vm-h1-vm1>iqn.x",
                List.of("SocketDispatcher.read0"))).isEqualTo(CostCategory.VM_INITIATOR);
        assertThat(CostCategory.classify("storm-vm-cpu", List.of("ThreadImpl.getThreadInfo"))).isEqualTo(CostCategory.BENCH);
    }

    @Test
    void agentWorkIsChargedByItsFramesFirstMatchWins() {
        assertThat(CostCategory.classify("", List.of("SHA2.implCompress0", "ChunkManifest.matches", "ChunkCache.scrubChunk")))
                .as("hashing anywhere").isEqualTo(CostCategory.SHA256);
        assertThat(CostCategory.classify("", List.of("Unsafe.unpark", "LockSupport.unpark", "CompletableFuture.postComplete",
                "ResponseRouter.readLoop"))).as("in the hand-off itself").isEqualTo(CostCategory.THREADS_LOCKS);
        assertThat(CostCategory.classify("iscsi-reader-iqn.2026-11.dev.virtman:agent.host-3>iqn.src",
                List.of("SocketDispatcher.read0"))).as("an agent's upstream session").isEqualTo(CostCategory.UPSTREAM);
        assertThat(CostCategory.classify("", List.of("UnixFileDispatcherImpl.pread0", "ChunkCache.readData", "ChunkCache.read",
                "ScsiDisk.readBlocks", "ScsiCommands.run"))).as("a cache hit inside a target command")
                .isEqualTo(CostCategory.CACHE);
        assertThat(CostCategory.classify("iscsi-reader", List.of("SocketDispatcher.write0", "ResponseWriter.flush")))
                .isEqualTo(CostCategory.TARGET);
        assertThat(CostCategory.classify("qtp-12", List.of("HttpParser.parseNext"))).isEqualTo(CostCategory.MANAGER);
        assertThat(CostCategory.classify("C2 CompilerThread0", List.of())).isEqualTo(CostCategory.OTHER);
    }
}
