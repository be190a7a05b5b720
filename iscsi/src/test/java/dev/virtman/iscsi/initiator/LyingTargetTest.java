package dev.virtman.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.testing.Await;
import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.ScsiStatus;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A parent that returns errors, short reads or lies about where its data goes: every case ends
 * in a clear exception within bounded time, and nothing is written outside the caller's buffer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LyingTargetTest {
    private static final int CHECK_CONDITION = ScsiStatus.CHECK_CONDITION.code();

    static final String IQN = "iqn.2026-11.dev.virtman:liar";

    static InitiatorOptions options() {
        return InitiatorOptions.defaults().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(2));
    }

    @Test
    void aBufferOffsetBeyondTheBufferFailsTheCommandWithoutTouchingMemory() throws Exception {
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) ->
                wire.dataIn(cmd, 0, 1 << 20, new byte[512], true));
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            byte[] backing = new byte[4096];
            ByteBuffer window = ByteBuffer.wrap(backing, 1024, 512).slice();
            CompletableFuture<Integer> f = s.read(1, 0, 1, window);
            assertThatThrownBy(() -> s.await(f)).isInstanceOf(IscsiException.class)
                    .hasMessageContaining("BufferOffset");
            assertThat(backing).containsOnly(0);
        }
    }

    @Test
    void moreDataThanRequestedIsRefused() throws Exception {
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) ->
                wire.dataIn(cmd, 0, 0, filled(1024, 7), true));
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            byte[] backing = new byte[2048];
            CompletableFuture<Integer> f = s.read(1, 0, 1, ByteBuffer.wrap(backing, 0, 512).slice());
            assertThatThrownBy(() -> s.await(f)).isInstanceOf(IscsiException.class).hasMessageContaining("overruns");
            assertThat(Arrays.copyOfRange(backing, 512, 2048)).containsOnly(0);
        }
    }

    @Test
    void aShortReadWithGoodStatusIsAnError() throws Exception {
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) ->
                wire.dataIn(cmd, 0, 0, filled(256, 1), true));
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            CompletableFuture<Integer> f = s.read(1, 0, 1, ByteBuffer.allocate(512));
            assertThatThrownBy(() -> s.await(f)).isInstanceOf(IscsiException.class)
                    .hasMessageContaining("512 bytes transferred but sent 256");
        }
    }

    @Test
    void checkConditionBecomesAnExceptionWithKeyAscAndAscq() throws Exception {
        byte[] sense = SenseData.of(SenseKey.MEDIUM_ERROR, AdditionalSense.UNRECOVERED_READ_ERROR).toBytes();
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) -> wire.response(cmd, CHECK_CONDITION, sense));
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            CompletableFuture<Integer> f = s.read(1, 0, 1, ByteBuffer.allocate(512));
            assertThatThrownBy(() -> s.await(f)).isInstanceOfSatisfying(ScsiCheckConditionException.class, e -> {
                assertThat(e.senseKey()).isEqualTo(SenseKey.MEDIUM_ERROR.code());
                assertThat(e.asc()).isEqualTo(0x11);
                assertThat(e.ascq()).isZero();
                assertThat(e.getMessage()).contains("MEDIUM ERROR").contains("0x11/0x00");
            });
        }
    }

    @Test
    void descriptorFormatSenseIsParsedToo() throws Exception {
        byte[] sense = SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB).toDescriptorHeader();
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) -> wire.response(cmd, CHECK_CONDITION, sense));
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            assertThatThrownBy(() -> s.testUnitReady(1)).isInstanceOfSatisfying(ScsiCheckConditionException.class,
                    e -> assertThat(e.asc()).isEqualTo(0x24));
        }
    }

    @Test
    void busyIsRetriedAndThenSucceeds() throws Exception {
        int[] calls = {0};
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) -> {
            if (calls[0]++ < 2) {
                wire.response(cmd, ScsiStatusException.BUSY, null);
            } else {
                wire.response(cmd, 0, null);
            }
        });
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            s.testUnitReady(1);
            assertThat(calls[0]).isEqualTo(3);
        }
    }

    @Test
    void aTargetThatNeverAnswersFailsTheCommandInBoundedTimeAfterReissues() throws Exception {
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) -> { });
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            long start = System.nanoTime();
            CompletableFuture<Integer> f = s.read(1, 0, 1, ByteBuffer.allocate(512));
            assertThatThrownBy(() -> s.await(f)).isInstanceOf(IscsiException.class).hasMessageContaining("reissued");
            long millis = (System.nanoTime() - start) / 1_000_000;
            int budget = options().maxReissues() + 1;
            assertThat(millis).isBetween(budget * 900L, budget * 3000L);
            assertThat(target.logins.get()).isEqualTo(budget + 1); // the last recovery finds the budget spent
            assertThat(target.commands.get()).isEqualTo(budget);
        }
    }

    @Test
    void aTargetThatIgnoresKeepAlivePingsIsDeclaredDeadAndReconnected() throws Exception {
        InitiatorOptions pingy = options().withKeepAlive(Duration.ofMillis(200), Duration.ofMillis(300));
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) -> wire.response(cmd, 0, null));
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, pingy)) {
            // the scripted target never answers NOP-Out
            Await.until(() -> s.recoveries() > 0, Duration.ofSeconds(10), "the silent target declared dead");
            s.testUnitReady(1);
        }
    }

    @Test
    void aReadOnlyBufferIsRefusedUpFront() throws Exception {
        try (ScriptedTarget target = new ScriptedTarget((cmd, wire) -> wire.response(cmd, 0, null));
             IscsiSession s = IscsiSession.open("127.0.0.1", target.port(), IQN, options())) {
            assertThat(s.read(1, 0, 1, ByteBuffer.allocate(512).asReadOnlyBuffer()))
                    .isCompletedExceptionally();
            assertThat(target.commands.get()).isZero();
        }
    }

    @Test
    void aUnitWithoutRead16IsReadWithRead10() throws Exception {
        byte[] image = new byte[64 * 512];
        new java.util.Random(5).nextBytes(image);
        try (ScriptedTarget target = new ScriptedTarget(new MiniDisk(image));
             IscsiBlockDevice dev = IscsiBlockDevice.open(
                     IscsiUrl.parse("iscsi://127.0.0.1:" + target.port() + "/" + IQN + "/0"), options())) {
            assertThat(dev.size()).isEqualTo(image.length);
            ByteBuffer all = ByteBuffer.allocate(image.length);
            dev.read(0, all);
            assertThat(all.array()).isEqualTo(image);
            ByteBuffer again = ByteBuffer.allocate(1024);
            dev.read(2048, again); // now straight to READ(10)
            assertThat(again.array()).isEqualTo(Arrays.copyOfRange(image, 2048, 3072));
        }
    }

    /** An old-fashioned disk: INQUIRY, READ CAPACITY(10) and READ(10) only (no READ(16), no VPD). */
    record MiniDisk(byte[] image) implements ScriptedTarget.Responder {
        @Override
        public void respond(final dev.virtman.iscsi.pdu.ScsiCommandHeader cmd, final ScriptedTarget.Wire wire)
                throws java.io.IOException {
            byte[] cdb = cmd.cdb();
            int op = cdb[0] & 0xff;
            if (op == 0x12 && (cdb[1] & 1) == 0) { // standard INQUIRY: a disk
                byte[] inq = new byte[36];
                inq[4] = 31;
                wire.dataInAll(cmd, inq);
            } else if (op == 0x25) { // READ CAPACITY(10)
                ByteBuffer b = ByteBuffer.allocate(8).putInt(image.length / 512 - 1).putInt(512);
                wire.dataInAll(cmd, b.array());
            } else if (op == 0x28) { // READ(10)
                ByteBuffer c = ByteBuffer.wrap(cdb);
                int lba = c.getInt(2);
                int blocks = c.getShort(7) & 0xffff;
                wire.dataInAll(cmd, Arrays.copyOfRange(image, lba * 512, (lba + blocks) * 512));
            } else { // ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (or invalid field for VPD)
                byte[] sense = SenseData.of(SenseKey.ILLEGAL_REQUEST, op == 0x12 ? AdditionalSense.INVALID_FIELD_IN_CDB
                        : AdditionalSense.INVALID_COMMAND_OPERATION_CODE).toBytes();
                wire.response(cmd, CHECK_CONDITION, sense);
            }
        }
    }

    private static byte[] filled(final int n, final int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
