package dev.virtman.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiStatus;
import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Many commands at once on one disk: COMPARE AND WRITE stays atomic, reads see whole writes per block. */
class ScsiDiskConcurrencyTest {
    private static final int THREADS = 8;
    private static final int INCREMENTS_PER_THREAD = 200;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void compareAndWriteIsAnAtomicCounterUnderContention() throws Exception {
        try (DiskFixture f = DiskFixture.create(dir, 16, true)) {
            f.good(Cdbs.rw10(ScsiOpcode.WRITE_10, 0, 0, 1), ByteBuffer.allocate(DiskFixture.BLOCK));
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                results.add(pool.submit(() -> increment(f, INCREMENTS_PER_THREAD)));
                // Plain writes to another block run alongside and must not disturb block 0.
                pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        f.good(Cdbs.rw10(ScsiOpcode.WRITE_10, 0, 5, 1), ByteBuffer.allocate(DiskFixture.BLOCK));
                    }
                });
            }
            int miscompares = 0;
            for (Future<Integer> r : results) {
                miscompares += r.get();
            }
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            long counter = ByteBuffer.wrap(f.good(Cdbs.rw10(ScsiOpcode.READ_10, 0, 0, 1))).getLong(0);
            assertThat(counter).isEqualTo((long) THREADS * INCREMENTS_PER_THREAD);
            assertThat(miscompares).as("contention did happen").isPositive();
        }
    }

    /** Optimistic increments of the 64-bit counter at the start of block 0; returns miscompares seen. */
    private static int increment(final DiskFixture f, final int times) {
        int miscompares = 0;
        int done = 0;
        while (done < times) {
            byte[] current = f.good(Cdbs.rw10(ScsiOpcode.READ_10, 0, 0, 1));
            ByteBuffer both = ByteBuffer.allocate(2 * DiskFixture.BLOCK);
            both.put(current);
            both.putLong(ByteBuffer.wrap(current).getLong(0) + 1);
            ScsiResponse r = f.run(Cdbs.compareAndWrite(0, 1), both.clear());
            if (r.status() == ScsiStatus.GOOD.code()) {
                done++;
            } else {
                DiskFixture.assertCheck(r, SenseKey.MISCOMPARE, AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION);
                miscompares++;
            }
        }
        return miscompares;
    }
}
