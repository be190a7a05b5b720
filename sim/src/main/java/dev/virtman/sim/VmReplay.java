package dev.virtman.sim;

import static dev.virtman.sim.StormModel.ABSENT;
import static dev.virtman.sim.StormModel.READY;

import dev.virtman.agent.BootProfileRecorder;
import java.util.Arrays;

/**
 * The VMs of a storm: each replays its {@link Workload} read by read. A read is issued at its
 * trace time or when the previous one returned, whichever is later, and touches its chunks in
 * order; a missing chunk starts a run fetch ({@link ChunkTransfers}) and blocks the VM until
 * the chunk arrives. On an emulated testbed each read's commands also queue on the shared CPU.
 */
final class VmReplay {

    private final StormModel m;
    private final Workload w;
    private final BootProfileRecorder recorder;
    private ChunkTransfers transfers;
    final int[] vmRead;
    final int[] vmPos;
    final int[] vmWaiting;
    final double[] vmStart;
    final double[] vmDone;
    final boolean[] vmFailed;

    VmReplay(final StormModel model, final BootProfileRecorder recorder) {
        this.m = model;
        this.w = model.w;
        this.recorder = recorder;
        int vms = model.hostCount * model.simVms;
        this.vmRead = new int[vms];
        this.vmPos = new int[vms];
        this.vmWaiting = new int[vms];
        Arrays.fill(vmWaiting, -1);
        this.vmStart = new double[vms];
        this.vmDone = new double[vms];
        Arrays.fill(vmDone, Double.NaN);
        this.vmFailed = new boolean[vms];
    }

    void transfers(final ChunkTransfers t) {
        this.transfers = t;
    }

    /** Every VM starts at time 0. */
    void startAll() {
        for (int v = 0; v < m.hostCount * m.simVms; v++) {
            int vm = v;
            m.loop.at(0, () -> process(vm));
        }
    }

    /** Host {@code h}'s VMs start now (a full copy has just finished). */
    void startHost(final int h) {
        int first = h * m.simVms;
        for (int v = first; v < first + m.simVms; v++) {
            vmStart[v] = m.loop.now();
            process(v);
        }
    }

    /** Chunk {@code c} at {@code h} is cached ({@code ok}) or failed: the VMs waiting for it go on or fail. */
    void released(final int h, final int c, final boolean ok) {
        int first = h * m.simVms;
        for (int v = first; v < first + m.simVms; v++) {
            if (vmWaiting[v] == c) {
                vmWaiting[v] = -1;
                if (ok) {
                    process(v);
                } else {
                    vmFailed[v] = true;
                }
            }
        }
    }

    /** Advances VM {@code v} until it blocks on a chunk or a trace time, or finishes. */
    private void process(final int v) {
        int h = v / m.simVms;
        if (m.dead[h]) {
            return;
        }
        while (true) {
            int r = vmRead[v];
            if (r == w.reads()) {
                vmDone[v] = m.loop.now();
                return;
            }
            int pos = vmPos[v];
            if (pos < 0) {
                pos = 0; // woken at the read's issue time
            } else if (pos == 0) {
                double due = vmStart[v] + w.readTime(r);
                if (due > m.loop.now()) {
                    vmPos[v] = -1;
                    m.loop.at(due, () -> process(v));
                    return;
                }
            }
            int[] chunks = w.readChunks(r);
            while (pos < chunks.length) {
                int c = chunks[pos];
                byte s = m.state[h][c];
                if (recorder != null) {
                    recorder.onAccess(c, m.nanos());
                }
                if (s != READY) {
                    vmPos[v] = pos;
                    vmWaiting[v] = c;
                    if (s == ABSENT) {
                        transfers.startFetch(h, transfers.claimRun(h, chunks, pos, w.pieceEnd(r, pos)));
                    }
                    return;
                }
                pos++;
            }
            vmRead[v] = r + 1;
            vmPos[v] = 0;
            if (m.cpu != null) {
                // The VM's READs of this trace read, served by the agent's target and checked
                // against the image, each a command on the shared CPU.
                long n = w.readBytes(r);
                long pieces = (n + Workload.PIECE_BYTES - 1) / Workload.PIECE_BYTES;
                double done = m.cpu.run(m.loop.now(), pieces * m.testbed.cpuPerCommand() + n * m.testbed.cpuPerByte());
                if (done > m.loop.now()) {
                    m.loop.at(done, () -> process(v));
                    return;
                }
            }
        }
    }
}
