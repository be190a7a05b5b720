package dev.virtman.sim;

import static dev.virtman.sim.StormModel.READY;

import java.util.Arrays;

/**
 * The full-copy storm: each host copies the whole image from the source in pieces, one
 * outstanding per host as FullCopyRun does, then boots its VMs from the copy.
 */
final class FullCopyModel {

    /** Full copy moves the image in pieces, one outstanding per host, as FullCopyRun does (1 MiB). */
    private static final long MIN_COPY_PIECE = 1 << 20;
    /** ... but at most this many pieces per host, so 10,000 hosts × 15 GB stays tractable. */
    private static final long MAX_COPY_PIECES = 1024;

    private final StormModel m;
    private final VmReplay vms;

    FullCopyModel(final StormModel model, final VmReplay vms) {
        this.m = model;
        this.vms = vms;
    }

    void start() {
        long piece = Math.max(MIN_COPY_PIECE, (m.sc.imageBytes() + MAX_COPY_PIECES - 1) / MAX_COPY_PIECES);
        for (int h = 0; h < m.hostCount; h++) {
            int host = h;
            m.loop.at(0, () -> copyPiece(host, 0, piece));
        }
    }

    private void copyPiece(final int h, final long offset, final long piece) {
        long imageBytes = m.sc.imageBytes();
        if (offset >= imageBytes) {
            Arrays.fill(m.state[h], READY);
            vms.startHost(h);
            return;
        }
        long n = Math.min(piece, imageBytes - offset);
        m.loop.after(m.net.latency(), () -> {
            double outStart = m.source.reserve(m.loop.now(), n);
            EventLoop.Action finish = () -> {
                double end = Link.receive(outStart, n, m.source, m.in[h]);
                m.loop.at(end + m.net.latency(), () -> {
                    m.sourceBytes += n;
                    m.levelBytes[1] += n;
                    copyPiece(h, offset + n, piece);
                });
            };
            if (outStart <= m.loop.now()) {
                finish.run();
            } else {
                m.loop.at(outStart, finish);
            }
        });
    }
}
