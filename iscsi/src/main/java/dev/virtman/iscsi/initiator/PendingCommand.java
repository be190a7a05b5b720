package dev.virtman.iscsi.initiator;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One SCSI command from submission to completion: what to (re)send, where its data goes, and
 * its place in the current connection (epoch, CmdSN, deadline). Mutable state is guarded by the
 * object's monitor; the reader, the timer and recovery all touch it.
 */
final class PendingCommand {

    final int taskTag;
    final long sequence;
    final long lunField;
    final byte[] cdb;
    final String label;
    final CompletableFuture<Integer> result = new CompletableFuture<>();
    private final DataInAssembler data;

    private int epoch = -1;
    private int cmdSN;
    private long deadlineNanos;
    private int reissues;

    PendingCommand(final int taskTag, final long sequence, final long lunField, final byte[] cdb,
                   final ByteBuffer dataIn, final int expectedLength, final String label) {
        this.taskTag = taskTag;
        this.sequence = sequence;
        this.lunField = lunField;
        this.cdb = cdb.clone();
        this.label = label;
        this.data = new DataInAssembler(dataIn, expectedLength);
    }

    int expectedLength() {
        return data.expectedLength();
    }

    /** Records that the command went out in {@code sentEpoch} with {@code sn}. */
    synchronized void sent(final int sentEpoch, final int sn, final long deadline) {
        this.epoch = sentEpoch;
        this.cmdSN = sn;
        this.deadlineNanos = deadline;
    }

    synchronized boolean sentIn(final int currentEpoch) {
        return epoch == currentEpoch;
    }

    synchronized int epoch() {
        return epoch;
    }

    synchronized long deadlineNanos() {
        return deadlineNanos;
    }

    /** Prepares a reissue on a new connection; false when the reissue budget is spent. */
    synchronized boolean prepareReissue(final int maxReissues) {
        if (epoch >= 0) {
            if (reissues >= maxReissues) {
                return false;
            }
            reissues++;
        }
        data.reset();
        epoch = -1;
        return true;
    }

    synchronized int reissues() {
        return reissues;
    }

    /**
     * Places one Data-In payload that arrived on the connection of {@code readerEpoch}. A PDU
     * from an older connection, or for a finished command, is dropped: it must never touch a
     * buffer that is being refilled by a reissue or that the caller already got back.
     */
    synchronized boolean acceptData(final int readerEpoch, final int dataSN, final int bufferOffset,
                                    final ByteBuffer payload) throws IscsiException {
        if (result.isDone() || epoch != readerEpoch) {
            return false;
        }
        data.accept(dataSN, bufferOffset, payload);
        return true;
    }

    /** Whether a response arriving on {@code readerEpoch}'s connection may complete this command. */
    synchronized boolean answerableIn(final int readerEpoch) {
        return !result.isDone() && epoch == readerEpoch;
    }

    synchronized int received() {
        return data.received();
    }

    /** Completes with the number of bytes transferred. */
    synchronized boolean succeed(final int transferred) {
        return result.complete(transferred);
    }

    synchronized boolean fail(final Throwable cause) {
        return result.completeExceptionally(cause);
    }

    boolean isDone() {
        return result.isDone();
    }

    @Override
    public String toString() {
        return label + " (ITT 0x" + Integer.toHexString(taskTag) + ")";
    }
}
