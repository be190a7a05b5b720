package dev.virtman.sim;

/**
 * The hardware a simulated storm runs on. Rates in bytes per second ({@link Link#UNLIMITED}
 * for "not a bottleneck"), times in seconds.
 *
 * @param hostIn          each host's NIC, receiving (the agent's upstream; {@code --link} in the
 *                        emulated storm caps exactly this)
 * @param hostOut         each host's NIC, sending (what a parent serves its children with)
 * @param latency         one-way network latency between any two machines
 * @param sourceNic       the source's NIC, sending
 * @param sourceDisk      the source's disk, reading (the source's link is min(NIC, disk): both
 *                        serve the same chunk stream in order)
 * @param requestOverhead fixed cost of one upstream request (a chunk, or a run of chunks) on top of
 *                        latency and transfer: the iSCSI command round, SHA-256 verification, the
 *                        cache's bookkeeping; measured (see {@code Calibration})
 * @param testbed         the one machine's CPU all parties share when replaying an emulated storm;
 *                        {@link Testbed#NONE} for real deployments, where each host has its own
 */
public record NetworkModel(double hostIn, double hostOut, double latency, double sourceNic, double sourceDisk,
                           double requestOverhead, Testbed testbed) {

    /** 1 Gbit/s Ethernet payload after Ethernet/IP/TCP/iSCSI framing (~94 %). */
    public static final double GBE_PAYLOAD = 117.5e6;
    /** Typical one-way latency inside one data-centre network. */
    public static final double LAN_LATENCY = 100e-6;

    public NetworkModel {
        positive("host in", hostIn);
        positive("host out", hostOut);
        positive("source NIC", sourceNic);
        positive("source disk", sourceDisk);
        java.util.Objects.requireNonNull(testbed, "testbed");
        if (latency < 0 || requestOverhead < 0) {
            throw new IllegalArgumentException("latency and request overhead must be >= 0");
        }
    }

    /** Every machine on Ethernet of {@code gbit} Gbit/s, a source disk of {@code sourceDisk} B/s. */
    public static NetworkModel ethernet(final double gbit, final double sourceDisk, final double requestOverhead) {
        double rate = GBE_PAYLOAD * gbit;
        return new NetworkModel(rate, rate, LAN_LATENCY, rate, sourceDisk, requestOverhead, Testbed.NONE);
    }

    /** The source's effective sending rate. */
    public double sourceRate() {
        return Math.min(sourceNic, sourceDisk);
    }

    private static void positive(final String what, final double v) {
        if (!(v > 0)) {
            throw new IllegalArgumentException(what + " rate must be > 0: " + v);
        }
    }
}
