package dev.virtman.scsi;

/**
 * Executes SCSI commands for one target (all of its LUNs). The transport calls this from a
 * thread it can afford to block: a read may wait for an upstream fetch on a cache miss.
 * Implementations are thread-safe; many commands of one session run concurrently.
 * Never throws for a bad command: every failure becomes a CHECK CONDITION response.
 */
public interface ScsiCommandExecutor {
    ScsiResponse execute(ScsiCommand command);
}
