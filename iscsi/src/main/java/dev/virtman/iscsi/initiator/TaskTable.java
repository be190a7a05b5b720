package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Outstanding commands by Initiator Task Tag (RFC 7143 §11.2.1.8): the reader finds the command
 * a response belongs to here. Tags are handed out round-robin, skipping the reserved 0xffffffff
 * and any tag still in use, so a tag is never shared by two live commands.
 */
final class TaskTable {

    private final ConcurrentHashMap<Integer, PendingCommand> byTag = new ConcurrentHashMap<>();
    private final AtomicInteger nextTag = new AtomicInteger(1);
    private final AtomicLong nextSequence = new AtomicLong();

    /** A free task tag (also used for NOP-Out pings, which are not in the table). */
    int allocateTag() {
        while (true) {
            int tag = nextTag.getAndIncrement();
            if (tag != BasicHeaderSegment.RESERVED_TAG && tag != InitiatorLogin.LOGIN_TASK_TAG
                    && !byTag.containsKey(tag)) {
                return tag;
            }
        }
    }

    long nextSequence() {
        return nextSequence.getAndIncrement();
    }

    /** The sequence number the next command will get. */
    long peekSequence() {
        return nextSequence.get();
    }

    void add(final PendingCommand command) {
        if (byTag.putIfAbsent(command.taskTag, command) != null) {
            throw new IllegalStateException("task tag in use: " + command);
        }
    }

    PendingCommand get(final int tag) {
        return byTag.get(tag);
    }

    /** Removes {@code command} if it is still registered under its tag. */
    void remove(final PendingCommand command) {
        byTag.remove(command.taskTag, command);
    }

    int size() {
        return byTag.size();
    }

    /** Every outstanding command in submission order (the order to reissue them in). */
    List<PendingCommand> inSubmissionOrder() {
        List<PendingCommand> all = new ArrayList<>(byTag.values());
        all.sort(Comparator.comparingLong(c -> c.sequence));
        return all;
    }
}
