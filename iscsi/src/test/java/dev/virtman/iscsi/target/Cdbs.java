package dev.virtman.iscsi.target;

import java.nio.ByteBuffer;

/** CDBs the target tests send (SBC-3 / SPC-4 layouts). */
final class Cdbs {

    private Cdbs() {
    }

    static byte[] read10(final long lba, final int blocks) {
        return ByteBuffer.allocate(10).put((byte) 0x28).put((byte) 0).putInt((int) lba).put((byte) 0)
                .putShort((short) blocks).put((byte) 0).array();
    }

    static byte[] write10(final long lba, final int blocks) {
        return ByteBuffer.allocate(10).put((byte) 0x2a).put((byte) 0).putInt((int) lba).put((byte) 0)
                .putShort((short) blocks).put((byte) 0).array();
    }

    static byte[] inquiry(final int allocationLength) {
        return new byte[] {0x12, 0, 0, (byte) (allocationLength >> 8), (byte) allocationLength, 0};
    }

    static byte[] testUnitReady() {
        return new byte[6];
    }
}
