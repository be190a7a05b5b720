package dev.virtman.scsi;

/**
 * Executes SCSI commands for one target (all of its LUNs). The transport calls this from a
 * thread it can afford to block: a read may wait for an upstream fetch on a cache miss.
 * Implementations are thread-safe; many commands of one session run concurrently.
 * Never throws for a bad command: every failure becomes a CHECK CONDITION response.
 */
public interface ScsiCommandExecutor {
    ScsiResponse execute(ScsiCommand command);

    /**
     * Whether {@link #execute} would return {@code command}'s response without waiting: no network
     * fetch, no lock another command may hold, only work such as a read of data already in a local
     * file. A target may then run it on the connection's reader thread instead of handing it to a
     * worker thread (one thread hand-off less per command). False when unsure; the default.
     */
    default boolean completesWithoutWaiting(final ScsiCommand command) {
        return false;
    }
}
