package dev.virtman.testing;

import java.time.Duration;

/**
 * open-iscsi in a {@link LinuxStackGuest}: the {@code iscsiadm} steps an operator (or os-brick)
 * takes, as guest shell commands. Names and portals are quoted for the shell; every step fails
 * with the guest's own output.
 */
public final class GuestIscsi {
    private static final Duration STEP = Duration.ofSeconds(120);

    private final LinuxStackGuest guest;

    public GuestIscsi(final LinuxStackGuest guest) {
        this.guest = guest;
    }

    /** SendTargets discovery; returns iscsiadm's lines ({@code PORTAL,TPGT IQN}). */
    public String discover(final String portal) {
        return guest.check("iscsiadm -m discovery -t sendtargets -p " + q(portal), STEP);
    }

    /** A node record without discovery (when the target advertises no reachable address). */
    public void addNode(final String iqn, final String portal) {
        guest.check("iscsiadm -m node -o new -T " + q(iqn) + " -p " + q(portal), STEP);
    }

    /** Sets one node parameter ({@code iscsiadm -m node -o update}). */
    public void set(final String iqn, final String portal, final String name, final String value) {
        guest.check("iscsiadm -m node -T " + q(iqn) + " -p " + q(portal) + " -o update -n " + q(name) + " -v " + q(value), STEP);
    }

    /** One-way CHAP credentials on the node record. */
    public void chap(final String iqn, final String portal, final String user, final String secret) {
        set(iqn, portal, "node.session.auth.authmethod", "CHAP");
        set(iqn, portal, "node.session.auth.username", user);
        set(iqn, portal, "node.session.auth.password", secret);
    }

    /** Logs in; returns the result (the caller asserts success or the expected failure). */
    public GuestShell.Result login(final String iqn, final String portal) {
        return guest.run("iscsiadm -m node -T " + q(iqn) + " -p " + q(portal) + " --login", STEP);
    }

    public void logout(final String iqn, final String portal) {
        guest.check("iscsiadm -m node -T " + q(iqn) + " -p " + q(portal) + " --logout", STEP);
    }

    /**
     * The block device of {@code lun} once udev made its by-path link (waits up to a minute: udev
     * is slow under TCG), e.g. {@code /dev/sda}.
     */
    public String device(final String iqn, final String portal, final int lun) {
        String link = "/dev/disk/by-path/ip-" + portal + "-iscsi-" + iqn + "-lun-" + lun;
        return guest.check("for i in $(seq 300); do [ -e " + q(link) + " ] && break; sleep 0.2; done; "
                + "udevadm settle; readlink -f " + q(link), STEP).strip();
    }

    /** SHA-256 of a whole block device, read with O_DIRECT (no page cache between runs). */
    public String sha256(final String device) {
        return guest.check("dd if=" + q(device) + " bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1",
                Duration.ofMinutes(5)).strip();
    }

    /** Logs out of every session and forgets every node and discovery record. */
    public void reset() {
        guest.run("iscsiadm -m node --logoutall=all; iscsiadm -m node -o delete; "
                + "iscsiadm -m discoverydb -o delete -t sendtargets -p 0 2>/dev/null; rm -rf /etc/iscsi/send_targets/*; true", STEP);
    }

    /** Single-quotes {@code s} for /bin/sh. */
    public static String q(final String s) {
        return "'" + s.replace("'", "'\"'\"'") + "'";
    }
}
