package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduEncoder;
import dev.virtman.iscsi.pdu.ScsiResponseHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of one connection. Producers (the reader, command workers) queue target PDUs;
 * the writer drains whatever has accumulated, stamps the sequence numbers, encodes, and hands the
 * whole batch to one gathering write, so under load many responses share a syscall.
 *
 * <p>StatSN is assigned here, in wire order, which is what RFC 7143 §4.2.2.2 requires of it:
 * every target PDU has StatSN/ExpCmdSN/MaxCmdSN at bytes 24/28/32; a status-bearing PDU takes
 * the next StatSN, R2T and target NOP-In carry it without advancing it (§11.8.3, §11.19.4),
 * Data-In without status carries only ExpCmdSN/MaxCmdSN. The queue is bounded in bytes:
 * producers wait while the peer is not reading.
 */
final class ResponseWriter implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ResponseWriter.class);

    /** All target PDUs share these offsets (§11.4, §11.7.2, §11.8, §11.11, §11.13, §11.15, §11.17, §11.19). */
    private static final int STAT_SN_OFFSET = ScsiResponseHeader.STAT_SN_OFFSET;
    private static final int EXP_CMD_SN_OFFSET = ScsiResponseHeader.EXP_CMD_SN_OFFSET;
    private static final int MAX_CMD_SN_OFFSET = ScsiResponseHeader.MAX_CMD_SN_OFFSET;
    /** Upper bound of PDUs per gathering write batch; keeps one batch's iovec list reasonable. */
    private static final int MAX_BATCH = 512;
    /** Size of the per-connection direct buffer every write goes through (see {@link #writeFully}). */
    private static final int STAGING_BYTES = 128 * 1024;
    /** Direct data buffers this large are written in place rather than copied into staging. */
    private static final int DIRECT_PASS_THROUGH_BYTES = 4096;
    /** Buffers per gathering write, below Linux's IOV_MAX (1024). */
    private static final int MAX_GATHER = 256;

    /** How the writer fills a PDU's sequence-number fields. */
    enum Sequencing {
        /** StatSN = next, then advance; plus ExpCmdSN, MaxCmdSN. */
        STATUS,
        /** StatSN = next without advancing; plus ExpCmdSN, MaxCmdSN. */
        PEEK_STAT_SN,
        /** Only ExpCmdSN and MaxCmdSN (Data-In without status). */
        WINDOW_ONLY
    }

    /** One queued PDU; {@code onDone} runs once it is written or dropped (e.g. to release budget). */
    record Outbound(Pdu pdu, Sequencing sequencing, Runnable onDone) {
        Outbound(final Pdu pdu, final Sequencing sequencing) {
            this(pdu, sequencing, null);
        }
    }

    /** Where ExpCmdSN and MaxCmdSN come from at the moment a PDU is written. */
    interface CommandWindowView {
        int expCmdSN();

        int maxCmdSN();
    }

    private final SocketChannel channel;
    private final PduEncoder encoder;
    private final long maxQueuedBytes;
    private final LongConsumer bytesWritten;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<Outbound> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean closed;
    private boolean closeWhenDrained;
    /** A thread (the writer or a producer writing inline) is between stamping and finishing a write. */
    private boolean writing;
    private volatile CommandWindowView window;
    private int statSN;
    private final Runnable onClosed;
    private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING_BYTES);
    /** The buffers of one gathering write (see {@link #writeFully}); only the writing thread uses it. */
    private final List<ByteBuffer> gather = new ArrayList<>();

    private final TargetPause pause;

    ResponseWriter(final SocketChannel channel, final PduEncoder encoder, final long maxQueuedBytes,
                   final LongConsumer bytesWritten, final Runnable onClosed) {
        this(channel, encoder, maxQueuedBytes, bytesWritten, onClosed, new TargetPause());
    }

    /** As above; nothing is written while {@code pause} is paused. */
    ResponseWriter(final SocketChannel channel, final PduEncoder encoder, final long maxQueuedBytes,
                   final LongConsumer bytesWritten, final Runnable onClosed, final TargetPause pause) {
        this.pause = pause;
        this.channel = channel;
        this.encoder = encoder;
        this.maxQueuedBytes = maxQueuedBytes;
        this.bytesWritten = bytesWritten;
        this.onClosed = onClosed;
    }

    void window(final CommandWindowView view) {
        this.window = view;
    }

    /** Sets the next StatSN (chosen by the target in the first login response, §11.13.4). */
    void initialStatSN(final int value) {
        lock.lock();
        try {
            statSN = value;
        } finally {
            lock.unlock();
        }
    }

    /** Queues one PDU; waits while the queue is full. False if the connection is closed. */
    boolean send(final Outbound pdu) {
        return sendAll(List.of(pdu));
    }

    /**
     * Queues PDUs that must go out together and in this order (a task's Data-In and status).
     * False, and every {@code onDone} run, if the connection is closed.
     */
    boolean sendAll(final List<Outbound> pdus) {
        long bytes = 0;
        for (Outbound o : pdus) {
            bytes += o.pdu().data().remaining() + ScsiResponseHeader.LENGTH;
        }
        lock.lock();
        try {
            while (!closed && !closeWhenDrained && queuedBytes > 0 && queuedBytes + bytes > maxQueuedBytes) {
                notFull.awaitUninterruptibly();
            }
            if (closed || closeWhenDrained) {
                pdus.forEach(ResponseWriter::done);
                return false;
            }
            if (writing || !queue.isEmpty() || Thread.currentThread().isVirtual()) {
                queue.addAll(pdus);
                queuedBytes += bytes;
                notEmpty.signal();
                return true;
            }
            // Nobody is writing: write on this thread, saving a hand-off to the writer thread
            // (the common case at low queue depth: the reader answering a cached read inline).
            // Virtual threads (command workers) always hand off: a socket a virtual thread has
            // written to is non-blocking for good, which costs the connection's platform reader a
            // failed read and a poll each time it waits for a command (issue 16's profile: ~4 %).
            // Sequence numbers are stamped under the lock.
            writing = true;
            stamp(pdus);
        } finally {
            lock.unlock();
        }
        writeBatch(pdus, new ArrayList<>(pdus.size() * 2 + 1));
        return true;
    }

    /** Encodes and writes a stamped batch; on failure closes the connection. Clears {@link #writing}. */
    private void writeBatch(final List<Outbound> batch, final List<ByteBuffer> wire) {
        boolean failed = false;
        try {
            for (Outbound o : batch) {
                encoder.encode(o.pdu(), wire);
            }
            bytesWritten.accept(writeFully(wire));
        } catch (IOException e) {
            LOG.debug("connection write failed: {}", e.toString());
            failed = true;
        } finally {
            batch.forEach(ResponseWriter::done);
            lock.lock();
            try {
                writing = false;
                if (!queue.isEmpty() || closeWhenDrained) {
                    notEmpty.signal();
                }
            } finally {
                lock.unlock();
            }
        }
        if (failed) {
            close();
        }
    }

    /** Writes what is queued, then closes the connection (after a Logout Response or failed login). */
    void closeAfterDrain() {
        lock.lock();
        try {
            closeWhenDrained = true;
            notEmpty.signal();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Closes now, dropping what is queued. */
    void close() {
        List<Outbound> dropped;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            dropped = new ArrayList<>(queue);
            queue.clear();
            queuedBytes = 0;
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
        dropped.forEach(ResponseWriter::done);
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.toString());
        }
        onClosed.run();
    }

    @Override
    public void run() {
        List<Outbound> batch = new ArrayList<>();
        List<ByteBuffer> wire = new ArrayList<>();
        try {
            while (true) {
                boolean finish;
                lock.lock();
                try {
                    while ((queue.isEmpty() || writing) && !closed && !(closeWhenDrained && !writing)) {
                        notEmpty.awaitUninterruptibly();
                    }
                    if (closed) {
                        return;
                    }
                    long bytes = 0;
                    while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
                        Outbound o = queue.poll();
                        bytes += o.pdu().data().remaining() + ScsiResponseHeader.LENGTH;
                        batch.add(o);
                    }
                    queuedBytes -= bytes;
                    notFull.signalAll();
                    finish = closeWhenDrained && queue.isEmpty();
                    writing = !batch.isEmpty();
                    stamp(batch);
                } finally {
                    lock.unlock();
                }
                if (!batch.isEmpty()) {
                    pause.awaitRunning();
                    writeBatch(batch, wire);
                }
                batch.clear();
                wire.clear();
                if (finish || closed) {
                    return;
                }
            }
        } finally {
            close();
        }
    }

    /** Fills sequence numbers in wire order; called with the lock held. */
    private void stamp(final List<Outbound> batch) {
        CommandWindowView w = window;
        for (Outbound o : batch) {
            ByteBuffer bhs = o.pdu().bhs();
            switch (o.sequencing()) {
                case STATUS -> bhs.putInt(STAT_SN_OFFSET, statSN++);
                case PEEK_STAT_SN -> bhs.putInt(STAT_SN_OFFSET, statSN);
                case WINDOW_ONLY -> {
                }
                default -> throw new IllegalStateException();
            }
            if (w != null) {
                bhs.putInt(EXP_CMD_SN_OFFSET, w.expCmdSN());
                bhs.putInt(MAX_CMD_SN_OFFSET, w.maxCmdSN());
            }
        }
    }

    /**
     * Writes the buffers in one gathering write where it can. Heap buffers (headers, small data)
     * are copied into the connection's direct staging buffer: the JDK would otherwise copy each
     * into a temporary direct buffer per call, which command workers (short-lived virtual threads)
     * cannot cache. Direct buffers of at least {@link #DIRECT_PASS_THROUGH_BYTES} (Data-In read
     * straight from a file into a {@link DataInBufferPool} slab) are not copied: they go into the
     * same gathering write as they are, between the staged bytes before and after them.
     * Only the thread holding {@link #writing} gets here, so the staging buffer is not shared.
     */
    private long writeFully(final List<ByteBuffer> wire) throws IOException {
        long total = 0;
        staging.clear();
        gather.clear();
        int stagedFrom = 0;
        for (ByteBuffer b : wire) {
            if (b.isDirect() && b.remaining() >= DIRECT_PASS_THROUGH_BYTES) {
                if (staging.position() > stagedFrom) {
                    gather.add(staging.slice(stagedFrom, staging.position() - stagedFrom));
                    stagedFrom = staging.position();
                }
                gather.add(b);
                if (gather.size() >= MAX_GATHER - 1) {
                    total += writeGathered();
                    staging.clear();
                    stagedFrom = 0;
                }
                continue;
            }
            while (b.hasRemaining()) {
                if (!staging.hasRemaining()) {
                    gather.add(staging.slice(stagedFrom, staging.position() - stagedFrom));
                    total += writeGathered();
                    staging.clear();
                    stagedFrom = 0;
                }
                int n = Math.min(staging.remaining(), b.remaining());
                staging.put(staging.position(), b, b.position(), n);
                staging.position(staging.position() + n);
                b.position(b.position() + n);
            }
        }
        if (staging.position() > stagedFrom) {
            gather.add(staging.slice(stagedFrom, staging.position() - stagedFrom));
        }
        total += writeGathered();
        staging.clear();
        return total;
    }

    /** Writes {@link #gather} completely and clears it. */
    private long writeGathered() throws IOException {
        long n = 0;
        if (gather.size() == 1) {
            ByteBuffer only = gather.get(0);
            while (only.hasRemaining()) {
                n += channel.write(only);
            }
        } else if (!gather.isEmpty()) {
            ByteBuffer[] all = gather.toArray(new ByteBuffer[0]);
            int first = 0;
            while (first < all.length) {
                n += channel.write(all, first, all.length - first);
                while (first < all.length && !all[first].hasRemaining()) {
                    first++;
                }
            }
        }
        gather.clear();
        return n;
    }

    private static void done(final Outbound o) {
        if (o.onDone() != null) {
            try {
                o.onDone().run();
            } catch (RuntimeException e) {
                LOG.warn("completion callback failed", e);
            }
        }
    }
}
