package dev.virtman.boot;

import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.testing.Await;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code virtman boot --cold} in a work directory used before: the caches are emptied, the
 * manager's state is not, and the hosts start again as the same enrolled hosts. (Deleting the
 * whole cache tree also deleted the host credentials, and the next start was refused: "host
 * 'host-1' is already enrolled; the enrolment token cannot re-enrol it (HTTP 409)".)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class EmbeddedClusterColdTest {
    private static final int IMAGE_BYTES = 4 << 20;

    @TempDir
    Path work;

    @Test
    void aColdStartEmptiesTheCachesAndKeepsTheHostsEnrolled() throws Exception {
        Path image = work.resolve("image.raw");
        byte[] bytes = new byte[IMAGE_BYTES];
        new Random(7).nextBytes(bytes);
        Files.write(image, bytes);

        try (EmbeddedCluster first = EmbeddedCluster.start(work, image, "img", 1, 1, ProgressSink.NONE)) {
            readFirstMiB(first.exportUrl(0));
            // the committer sets presence bits behind the readers
            Await.until(() -> first.cache(0).stats().presentChunks() > 0, Duration.ofSeconds(30), "the read cached");
        }
        EmbeddedCluster.emptyCaches(work);
        try (EmbeddedCluster cold = EmbeddedCluster.start(work, image, "img", 1, 1, ProgressSink.NONE)) {
            assertThat(cold.cache(0).stats().presentChunks()).as("the cache is cold").isZero();
            readFirstMiB(cold.exportUrl(0));
            assertThat(cold.sourceBytesServed()).as("a cold boot fetches from the source").isPositive();
        }
    }

    private static void readFirstMiB(final String url) throws Exception {
        try (IscsiBlockDevice device = IscsiBlockDevice.open(IscsiUrl.parse(url), InitiatorOptions.defaults())) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            device.read(0, buf);
        }
    }
}
