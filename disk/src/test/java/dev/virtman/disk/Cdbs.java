package dev.virtman.disk;

import dev.virtman.scsi.ScsiOpcode;
import java.nio.ByteBuffer;

/** Builds CDBs for tests, byte by byte as the specs draw them. */
final class Cdbs {
    private Cdbs() {
    }

    static ByteBuffer cdb(final int... bytes) {
        ByteBuffer b = ByteBuffer.allocate(bytes.length);
        for (int v : bytes) {
            b.put((byte) v);
        }
        return b.flip();
    }

    static ByteBuffer rw6(final ScsiOpcode op, final int lba, final int blocks) {
        return cdb(op.code(), (lba >>> 16) & 0x1F, lba >>> 8, lba, blocks, 0);
    }

    static ByteBuffer rw10(final ScsiOpcode op, final int flags, final long lba, final int blocks) {
        ByteBuffer b = ByteBuffer.allocate(10);
        b.put((byte) op.code()).put((byte) flags).putInt((int) lba).put((byte) 0).putShort((short) blocks).put((byte) 0);
        return b.flip();
    }

    static ByteBuffer rw12(final ScsiOpcode op, final int flags, final long lba, final long blocks) {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte) op.code()).put((byte) flags).putInt((int) lba).putInt((int) blocks).put((byte) 0).put((byte) 0);
        return b.flip();
    }

    static ByteBuffer rw16(final ScsiOpcode op, final int flags, final long lba, final long blocks) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.put((byte) op.code()).put((byte) flags).putLong(lba).putInt((int) blocks).put((byte) 0).put((byte) 0);
        return b.flip();
    }

    static ByteBuffer inquiry(final boolean evpd, final int page, final int allocation) {
        return cdb(ScsiOpcode.INQUIRY.code(), evpd ? 1 : 0, page, allocation >>> 8, allocation, 0);
    }

    static ByteBuffer modeSense6(final int flags, final int pcAndPage, final int subpage, final int allocation) {
        return cdb(ScsiOpcode.MODE_SENSE_6.code(), flags, pcAndPage, subpage, allocation, 0);
    }

    static ByteBuffer modeSense10(final int flags, final int pcAndPage, final int subpage, final int allocation) {
        return cdb(ScsiOpcode.MODE_SENSE_10.code(), flags, pcAndPage, subpage, 0, 0, 0, allocation >>> 8, allocation, 0);
    }

    static ByteBuffer readCapacity16(final int allocation) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.put((byte) ScsiOpcode.SERVICE_ACTION_IN_16.code()).put((byte) ScsiOpcode.SA_READ_CAPACITY_16);
        b.putLong(0).putInt(allocation).put((byte) 0).put((byte) 0);
        return b.flip();
    }

    static ByteBuffer reportLuns(final int select, final int allocation) {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte) ScsiOpcode.REPORT_LUNS.code()).put((byte) 0).put((byte) select).put(new byte[3]);
        b.putInt(allocation).put((byte) 0).put((byte) 0);
        return b.flip();
    }

    static ByteBuffer compareAndWrite(final long lba, final int blocks) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.put((byte) ScsiOpcode.COMPARE_AND_WRITE.code()).put((byte) 0).putLong(lba);
        b.put(new byte[3]).put((byte) blocks).put((byte) 0).put((byte) 0);
        return b.flip();
    }
}
