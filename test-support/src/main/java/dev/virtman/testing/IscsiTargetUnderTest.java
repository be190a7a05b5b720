package dev.virtman.testing;

/**
 * A running iSCSI target that exports one disk image on 127.0.0.1, as seen by a real initiator
 * (QEMU's iscsi:// driver, libiscsi's tools). Implemented by tgtd (the baseline no one here
 * wrote) and by VirtMan's own target, so one test body runs against both.
 */
public interface IscsiTargetUnderTest extends AutoCloseable {

    /** Short name for test and benchmark output, e.g. {@code tgtd} or {@code virtman}. */
    String name();

    int portalPort();

    String iqn();

    /** The LUN of the exported disk (tgtd's LUN 0 is its controller; its disk is LUN 1). */
    int diskLun();

    /** The libiscsi/QEMU URL of the disk: {@code iscsi://127.0.0.1:PORT/IQN/LUN}. */
    default String url() {
        return "iscsi://127.0.0.1:" + portalPort() + "/" + iqn() + "/" + diskLun();
    }

    /** Stops the target; never throws. */
    @Override
    void close();
}
