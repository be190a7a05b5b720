package dev.virtman.sim;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Bandwidth sharing, with every expected value worked out by hand in the comments. */
class LinkTest {
    private static final long MB = 1_000_000;

    @Test
    void oneTransferTakesBytesOverTheSlowerLink() {
        Link out = new Link(1 * MB);
        Link in = new Link(2 * MB);
        // 1 MB at min(1, 2) MB/s = 1 s.
        double start = out.reserve(0, MB);
        assertThat(Link.receive(start, MB, out, in)).isCloseTo(1.0, within(1e-12));
        // The receiver was busy only 0.5 s of that second.
        assertThat(in.busySeconds()).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void twoChildrenOfOneParentShareItsUplinkInTurn() {
        Link parentOut = new Link(1 * MB);
        Link a = new Link(10 * MB);
        Link b = new Link(10 * MB);
        // Both ask at t=0 for 1 MB: the uplink serves a in [0, 1], b in [1, 2].
        double sa = parentOut.reserve(0, MB);
        double sb = parentOut.reserve(0, MB);
        assertThat(sa).isEqualTo(0.0);
        assertThat(sb).isCloseTo(1.0, within(1e-12));
        assertThat(Link.receive(sa, MB, parentOut, a)).isCloseTo(1.0, within(1e-12));
        assertThat(Link.receive(sb, MB, parentOut, b)).isCloseTo(2.0, within(1e-12));
        // Total throughput is the uplink's: 2 MB in 2 s.
        assertThat(parentOut.bytes()).isEqualTo(2 * MB);
        assertThat(parentOut.freeAt()).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void twoSendersIntoOneReceiverQueueOnItsDownlink() {
        Link s1 = new Link(10 * MB);
        Link s2 = new Link(10 * MB);
        Link in = new Link(1 * MB);
        // Senders are fast (0.1 s each); the receiver takes 1 s per MB: ends at 1 s and 2 s.
        assertThat(Link.receive(s1.reserve(0, MB), MB, s1, in)).isCloseTo(1.0, within(1e-12));
        assertThat(Link.receive(s2.reserve(0, MB), MB, s2, in)).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void aSlowSenderLeavesTheReceiverFreeForOthers() {
        Link slow = new Link(1 * MB);
        Link fast = new Link(4 * MB);
        Link in = new Link(4 * MB);
        // Slow sender: 1 MB takes 1 s; the receiver is charged 0.25 s of busy time, from 0.
        assertThat(Link.receive(slow.reserve(0, MB), MB, slow, in)).isCloseTo(1.0, within(1e-12));
        // A fast sender at t=0 starts on the receiver at 0.25 s and ends 0.25 s later.
        assertThat(Link.receive(fast.reserve(0, MB), MB, fast, in)).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void aLinkIdleUntilLaterStartsAtTheRequest() {
        Link l = new Link(2 * MB);
        assertThat(l.reserve(3.0, MB)).isEqualTo(3.0);
        assertThat(l.freeAt()).isCloseTo(3.5, within(1e-12));
        // Next request at 3.2 waits for 3.5.
        assertThat(l.reserve(3.2, MB)).isCloseTo(3.5, within(1e-12));
    }

    @Test
    void unlimitedLinksAddNoTime() {
        Link out = new Link(Link.UNLIMITED);
        Link in = new Link(Link.UNLIMITED);
        assertThat(Link.receive(out.reserve(1.5, MB), MB, out, in)).isEqualTo(1.5);
    }
}
