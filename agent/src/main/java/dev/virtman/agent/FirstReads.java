package dev.virtman.agent;

import dev.virtman.iscsi.target.CommandObserver;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiOpcode;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each initiator first read an export: the "first read" phase of a VM's boot timeline. Every
 * VM logs in under its own InitiatorName (QEMU's {@code -iscsi initiator-name=}), so the first
 * READ(6/10/12/16) (SBC-3 §5.7–5.10) of a session names the VM whose guest touched its disk.
 *
 * <p>Holds at most {@value #MAX_INITIATORS} names: a host runs far fewer VMs, and initiators that
 * log in under ever new names (a misbehaving client) cannot grow it without bound; names beyond
 * the limit are simply not recorded.
 */
public final class FirstReads implements CommandObserver {
    static final int MAX_INITIATORS = 4096;

    private final Map<String, Instant> first = new ConcurrentHashMap<>();
    private final Clock clock;

    public FirstReads(final Clock clock) {
        this.clock = clock;
    }

    public FirstReads() {
        this(Clock.systemUTC());
    }

    @Override
    public void beforeExecute(final String initiatorName, final ScsiCommand command) {
        if (initiatorName == null || first.containsKey(initiatorName) || !isRead(command)) {
            return;
        }
        if (first.size() < MAX_INITIATORS) {
            first.putIfAbsent(initiatorName, clock.instant());
        }
    }

    /** When {@code initiatorName} first read, if it did. */
    public Optional<Instant> of(final String initiatorName) {
        return Optional.ofNullable(first.get(initiatorName));
    }

    /** Forgets an initiator (its VM was destroyed), so a new VM of the same name starts afresh. */
    public void forget(final String initiatorName) {
        first.remove(initiatorName);
    }

    private static boolean isRead(final ScsiCommand command) {
        if (command.cdb() == null || command.cdb().limit() == 0) {
            return false;
        }
        ScsiOpcode op = ScsiOpcode.of(command.cdb().get(0) & 0xff);
        return op == ScsiOpcode.READ_6 || op == ScsiOpcode.READ_10 || op == ScsiOpcode.READ_12
                || op == ScsiOpcode.READ_16;
    }
}
