package dev.virtman.sim;

import static dev.virtman.sim.StormModel.ABSENT;
import static dev.virtman.sim.StormModel.IN_FLIGHT;
import static dev.virtman.sim.StormModel.NO_PEER;
import static dev.virtman.sim.StormModel.READY;
import static dev.virtman.sim.StormModel.SOURCE;

import java.util.Arrays;

/**
 * Multi-parent: of two random live peers that hold a chunk or are fetching it, one that holds
 * it, else the less busy; a peer still fetching is joined (its single flight serves both). The
 * first host to want a chunk asks the source. Requests thus spread over a random tree per
 * chunk, about log(hosts) deep, instead of all queueing at the first fetcher.
 */
final class MultiParentRouting implements Routing {

    /** Multi-parent asks the less busy of this many random holders of a chunk. */
    private static final int PEER_CHOICES = 2;

    private final StormModel m;
    private ChunkTransfers transfers;
    /** Per chunk, the hosts that hold it or are fetching it. */
    private int[][] holders;
    private int[] holderCount;

    MultiParentRouting(final StormModel model) {
        this.m = model;
    }

    void transfers(final ChunkTransfers t) {
        this.transfers = t;
    }

    @Override
    public void start() {
        holders = new int[m.w.chunks()][];
        holderCount = new int[m.w.chunks()];
    }

    @Override
    public void startFetch(final int h, final int[] claimed) {
        // The peer is chosen for the first chunk, and the run keeps only the chunks that peer
        // holds or is fetching, so a peer never has to fetch for the requester (two hosts could
        // otherwise wait on each other until the attempt timeout).
        int peer = choosePeer(h, claimed[0]);
        int n = 1;
        while (n < claimed.length && (peer == SOURCE || m.state[peer][claimed[n]] != ABSENT)) {
            n++;
        }
        int[] run = n == claimed.length ? claimed : Arrays.copyOf(claimed, n);
        for (int c : run) {
            m.state[h][c] = IN_FLIGHT;
        }
        ChunkTransfers.Attempt a = new ChunkTransfers.Attempt(h, run);
        a.firstPeer = peer;
        transfers.tryNext(a);
        for (int c : run) {
            addHolder(h, c); // after choosing, so a host never picks itself
        }
    }

    @Override
    public void prepareSingle(final ChunkTransfers.Attempt single) {
        // chosen per try
    }

    @Override
    public int nextPeer(final ChunkTransfers.Attempt a) {
        return a.tries == 0 && a.firstPeer != NO_PEER ? a.firstPeer : choosePeer(a.host, a.run[0]);
    }

    @Override
    public boolean isCurrent(final ChunkTransfers.Attempt a) {
        return false; // no parent health
    }

    @Override
    public int depthOf(final int h) {
        return 1;
    }

    @Override
    public void hostsFailed() {
        // dead peers are skipped when chosen
    }

    @Override
    public int treeDepth() {
        return 0;
    }

    /**
     * Of two random live holders of chunk {@code c}, the better; any live one if both picks were
     * dead; the source if none. A run goes to a peer chosen for its first chunk.
     */
    private int choosePeer(final int h, final int c) {
        int n = holderCount[c];
        int best = -1;
        for (int i = 0; i < PEER_CHOICES && n > 0; i++) {
            int k = m.random.nextInt(n);
            int p = holders[c][k];
            if (p == h && n > 1) {
                p = holders[c][(k + 1) % n];
            }
            if (p == h || m.dead[p]) {
                continue;
            }
            if (best < 0 || better(p, best, c)) {
                best = p;
            }
        }
        for (int k = 0; best < 0 && k < n; k++) {
            int p = holders[c][k]; // both picks were dead: any live one (rare, after failures)
            if (p != h && !m.dead[p]) {
                best = p;
            }
        }
        return best >= 0 ? best : SOURCE;
    }

    private boolean better(final int p, final int q, final int c) {
        boolean pReady = m.state[p][c] == READY;
        boolean qReady = m.state[q][c] == READY;
        if (pReady != qReady) {
            return pReady;
        }
        return m.out[p].freeAt() < m.out[q].freeAt();
    }

    private void addHolder(final int h, final int c) {
        int n = holderCount[c];
        if (holders[c] == null || n == holders[c].length) {
            holders[c] = Arrays.copyOf(holders[c] == null ? new int[0] : holders[c], Math.max(4, n * 2));
        }
        holders[c][n] = h;
        holderCount[c] = n + 1;
    }
}
