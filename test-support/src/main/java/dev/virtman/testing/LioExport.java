package dev.virtman.testing;

import java.time.Duration;

/**
 * One file exported by LIO, the Linux kernel's SCSI target, in the shared {@link LinuxStackGuest}:
 * a fileio backstore as LUN 0 of an iSCSI target with demo-mode ACLs (any initiator, no CHAP),
 * reached from the host through {@link LinuxStackGuest#sharedLioPort()}. Creating one clears any
 * LIO configuration a previous test class left; {@link #clear} removes it again.
 */
public final class LioExport {
    private static final String DIR = "/var/lib/virtman-lio";
    private static final Duration STEP = Duration.ofMinutes(3);

    /** What the backing file holds at the start. */
    public enum Fill { RANDOM, ZEROES }

    private final String iqn;
    private final String backing;

    private LioExport(final String iqn, final String backing) {
        this.iqn = iqn;
        this.backing = backing;
    }

    /**
     * Exports a new {@code bytes}-long file named {@code name} as LUN 0 of target {@code iqn}.
     */
    public static LioExport create(final LinuxStackGuest guest, final String iqn, final String name, final long bytes,
                                   final Fill fill) {
        String backing = DIR + "/" + name + ".img";
        String content = fill == Fill.RANDOM
                ? "head -c " + bytes + " /dev/urandom > " + backing + "; "
                : "truncate -s " + bytes + " " + backing + "; ";
        // rtslib keeps persistent-reservation (APTPL) and ALUA state under its dbroot; without those
        // directories LIO answers every PERSISTENT RESERVE OUT with LOGICAL UNIT COMMUNICATION FAILURE.
        guest.check("set -e; targetcli clearconfig confirm=True >/dev/null; mkdir -p " + DIR + "; "
                + "mkdir -p /etc/rtslib-fb-target/pr /etc/rtslib-fb-target/alua; "
                + "rm -f " + backing + "; " + content
                + "targetcli /backstores/fileio create name=" + name + " file_or_dev=" + backing + " write_back=false; "
                + "targetcli /iscsi create " + iqn + "; "
                + "targetcli /iscsi/" + iqn + "/tpg1/luns create /backstores/fileio/" + name + "; "
                + "targetcli /iscsi/" + iqn + "/tpg1 set attribute authentication=0 demo_mode_write_protect=0 "
                + "generate_node_acls=1 cache_dynamic_acls=1", STEP);
        return new LioExport(iqn, backing);
    }

    /** Clears every LIO target and backing file in the guest (leave it as the next class expects). */
    public static void clear(final LinuxStackGuest guest) {
        guest.run("targetcli clearconfig confirm=True; rm -rf " + DIR, STEP);
    }

    /** The LUN's URL from the host. */
    public String url() {
        return "iscsi://127.0.0.1:" + LinuxStackGuest.sharedLioPort() + "/" + iqn + "/0";
    }

    /** The backing file's path in the guest. */
    public String backing() {
        return backing;
    }
}
