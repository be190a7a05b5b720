package dev.virtman.iscsi.target;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One SCSI command of a session, from its SCSI Command PDU until its response is queued
 * (RFC 7143 §3.2.2). Identified by its Initiator Task Tag.
 */
final class ScsiTask {

    final int initiatorTaskTag;
    final long lun;
    final ByteBuffer cdb;
    final int expectedLength;
    final boolean read;
    final boolean write;
    final boolean immediate;
    final int cmdSN;
    /** Completes when the task's response is queued, or it was aborted and has stopped. */
    final CompletableFuture<Void> done = new CompletableFuture<>();

    /** Set by task management; the task then sends no response (§4.2.3.? / §11.5.1 at ERL 0). */
    volatile boolean aborted;
    /** Set once the executor has been called; before that, abort can finish the task at once. */
    volatile boolean executing;
    /** Write data collection; {@code null} for commands without Data-Out. Reader thread only. */
    WriteTransfer transfer;
    /** Budget units held for this task's data. */
    int budgetUnits;

    ScsiTask(final int initiatorTaskTag, final long lun, final ByteBuffer cdb, final int expectedLength,
             final boolean read, final boolean write, final boolean immediate, final int cmdSN) {
        this.initiatorTaskTag = initiatorTaskTag;
        this.lun = lun;
        this.cdb = cdb;
        this.expectedLength = expectedLength;
        this.read = read;
        this.write = write;
        this.immediate = immediate;
        this.cmdSN = cmdSN;
    }
}
