package dev.virtman.iscsi.initiator;

import dev.virtman.testing.Await;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CommandWindowTest {

    private static long in(final long millis) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void handsOutCmdSNsUpToMaxCmdSNThenBlocks() throws Exception {
        CommandWindow w = new CommandWindow();
        int epoch = w.reset(10, 12);
        assertThat(w.acquire(epoch, in(100))).isEqualTo(10);
        assertThat(w.acquire(epoch, in(100))).isEqualTo(11);
        assertThat(w.acquire(epoch, in(100))).isEqualTo(12);
        assertThat(w.available()).isZero();
        long start = System.nanoTime();
        assertThat(w.acquire(epoch, in(50))).isEqualTo(CommandWindow.NOT_ACQUIRED);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(45));
    }

    @Test
    void aTargetPduOpensTheWindowForAWaitingSender() throws Exception {
        CommandWindow w = new CommandWindow();
        int epoch = w.reset(1, 1);
        assertThat(w.acquire(epoch, in(100))).isEqualTo(1);
        CompletableFuture<Long> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return w.acquire(epoch, in(5000));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Await.until(() -> Await.parkedIn("CommandWindow", "acquire"), "the sender waits for the window");
        assertThat(waiting).isNotDone();
        w.update(2, 5);
        assertThat(waiting.get(2, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(w.available()).isEqualTo(3);
    }

    @Test
    void ignoresInvalidAndStaleWindowValues() throws Exception {
        CommandWindow w = new CommandWindow();
        w.reset(100, 110);
        w.update(105, 103); // MaxCmdSN < ExpCmdSN - 1: invalid, ignored (RFC 7143 §4.2.2.1)
        assertThat(w.maxCmdSN()).isEqualTo(110);
        w.update(101, 105); // older MaxCmdSN: the window never shrinks back
        assertThat(w.maxCmdSN()).isEqualTo(110);
        assertThat(w.expCmdSN()).isEqualTo(101);
        w.update(101, 100); // MaxCmdSN = ExpCmdSN - 1: valid, window closed, but not older than 110
        assertThat(w.maxCmdSN()).isEqualTo(110);
    }

    @Test
    void wrapsAroundTheSerialNumberSpace() throws Exception {
        CommandWindow w = new CommandWindow();
        int epoch = w.reset(-2, 1); // 0xfffffffe .. 0x00000001
        assertThat(w.acquire(epoch, in(100))).isEqualTo(0xfffffffeL);
        assertThat(w.acquire(epoch, in(100))).isEqualTo(0xffffffffL);
        assertThat(w.acquire(epoch, in(100))).isEqualTo(0L);
        assertThat(w.acquire(epoch, in(100))).isEqualTo(1L);
        assertThat(w.acquire(epoch, in(10))).isEqualTo(CommandWindow.NOT_ACQUIRED);
    }

    @Test
    void abortWakesWaitersAndEndsTheEpoch() throws Exception {
        CommandWindow w = new CommandWindow();
        int epoch = w.reset(1, 0); // closed from the start
        CompletableFuture<Long> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return w.acquire(epoch, in(10_000));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Await.until(() -> Await.parkedIn("CommandWindow", "acquire"), "the sender waits for the window");
        w.abort();
        assertThat(waiting.get(2, TimeUnit.SECONDS)).isEqualTo(CommandWindow.NOT_ACQUIRED);
        int next = w.reset(7, 8);
        assertThat(next).isNotEqualTo(epoch);
        assertThat(w.acquire(epoch, in(10))).isEqualTo(CommandWindow.NOT_ACQUIRED); // old epoch stays dead
        assertThat(w.acquire(next, in(10))).isEqualTo(7);
        assertThat(w.current()).isEqualTo(8);
    }
}
