package dev.virtman.iscsi.target;

import dev.virtman.scsi.ScsiCommand;

/**
 * Sees each SCSI command of a normal session just before its target's executor runs it, together
 * with the session's InitiatorName (RFC 7143 §13.12). It must be quick and must not throw: it runs
 * on the command's worker thread. The agent uses it to learn when each VM (one initiator name per
 * VM) first reads its disk.
 */
@FunctionalInterface
public interface CommandObserver {

    /** Observes nothing. */
    CommandObserver NONE = (initiatorName, command) -> { };

    void beforeExecute(String initiatorName, ScsiCommand command);
}
