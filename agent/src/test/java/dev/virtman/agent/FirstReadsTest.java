package dev.virtman.agent;

import dev.virtman.scsi.ScsiCommand;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class FirstReadsTest {

    private static final int READ_10 = 0x28;
    private static final int READ_16 = 0x88;
    private static final int INQUIRY = 0x12;
    private static final int READ_CAPACITY_10 = 0x25;

    private final AtomicLong millis = new AtomicLong(1_000);
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(final java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }
    };

    private static ScsiCommand cdb(final int opcode, final int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        b.put(0, (byte) opcode);
        return new ScsiCommand(0, b, 512, null);
    }

    @Test
    void recordsTheFirstReadOfEachInitiatorOnly() {
        FirstReads reads = new FirstReads(clock);
        reads.beforeExecute("iqn.a", cdb(INQUIRY, 6));
        reads.beforeExecute("iqn.a", cdb(READ_CAPACITY_10, 10));
        assertThat(reads.of("iqn.a")).as("metadata commands are not reads of the disk").isEmpty();
        millis.set(2_000);
        reads.beforeExecute("iqn.a", cdb(READ_10, 10));
        millis.set(3_000);
        reads.beforeExecute("iqn.a", cdb(READ_16, 16));
        reads.beforeExecute("iqn.b", cdb(READ_16, 16));
        assertThat(reads.of("iqn.a")).contains(Instant.ofEpochMilli(2_000));
        assertThat(reads.of("iqn.b")).contains(Instant.ofEpochMilli(3_000));
        reads.forget("iqn.a");
        assertThat(reads.of("iqn.a")).isEmpty();
    }

    @Test
    void ignoresEmptyCdbsAndStopsRecordingNewNamesAtItsBound() {
        FirstReads reads = new FirstReads(clock);
        reads.beforeExecute("iqn.empty", new ScsiCommand(0, ByteBuffer.allocate(0), 0, null));
        assertThat(reads.of("iqn.empty")).isEmpty();
        for (int i = 0; i < FirstReads.MAX_INITIATORS + 10; i++) {
            reads.beforeExecute("iqn.vm" + i, cdb(READ_10, 10));
        }
        assertThat(reads.of("iqn.vm0")).isPresent();
        assertThat(reads.of("iqn.vm" + (FirstReads.MAX_INITIATORS + 5))).isEmpty();
    }
}
