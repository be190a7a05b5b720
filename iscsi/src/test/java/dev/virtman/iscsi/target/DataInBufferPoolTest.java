package dev.virtman.iscsi.target;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class DataInBufferPoolTest {

    @Test
    void aSlabIsLentOncePerCommandAndReusedAfterItsRelease() {
        DataInBufferPool pool = new DataInBufferPool(2);
        DataInBufferPool.Lease first = pool.lease();
        ByteBuffer a = first.allocate(32_768);
        assertThat(a.isDirect()).isTrue();
        assertThat(a.position()).isZero();
        assertThat(a.limit()).isEqualTo(32_768);
        assertThat(first.allocate(512).isDirect()).as("a second buffer of the same command").isFalse();

        DataInBufferPool.Lease second = pool.lease();
        ByteBuffer b = second.allocate(4_096);
        assertThat(b.isDirect()).isTrue();
        a.put(0, (byte) 7);
        assertThat(b.get(0)).as("two leases never share a slab").isZero();

        first.release();
        first.release();
        assertThat(pool.idle()).as("a second release returns nothing").isEqualTo(1);
        ByteBuffer again = pool.lease().allocate(DataInBufferPool.SLAB_BYTES);
        assertThat(again.get(0)).as("the released slab, reused").isEqualTo((byte) 7);
        assertThat(pool.idle()).isZero();
    }

    @Test
    void readsLargerThanASlabGetHeapBuffersAndIdleSlabsAreBounded() {
        DataInBufferPool pool = new DataInBufferPool(1);
        assertThat(pool.lease().allocate(DataInBufferPool.SLAB_BYTES + 1).isDirect()).isFalse();
        DataInBufferPool.Lease x = pool.lease();
        DataInBufferPool.Lease y = pool.lease();
        x.allocate(10);
        y.allocate(10);
        x.release();
        y.release();
        assertThat(pool.idle()).isEqualTo(1);
    }
}
