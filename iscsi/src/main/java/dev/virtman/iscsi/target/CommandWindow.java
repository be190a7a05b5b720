package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.SerialNumbers;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The session's command numbering (RFC 7143 §4.2.2.1). Non-immediate commands are delivered in
 * CmdSN order: one equal to ExpCmdSN is delivered and advances ExpCmdSN; one inside the window
 * but ahead of ExpCmdSN waits until the gap is filled; one outside [ExpCmdSN, MaxCmdSN] is
 * silently dropped, as §4.2.2.1 requires. Immediate commands bypass ordering and do not advance
 * ExpCmdSN.
 *
 * <p>MaxCmdSN follows the commands still running: it is ExpCmdSN - 1 + (window - running), so
 * it never decreases and an initiator can have at most {@code window} commands outstanding.
 * Thread-safe: the reader admits, workers finish.
 */
final class CommandWindow implements ResponseWriter.CommandWindowView {

    /** What to do with an arriving command. */
    enum Admission { DELIVER, HELD, DROP }

    private final int window;
    private final TreeMap<Integer, Pdu> held = new TreeMap<>(SerialNumbers::compare);
    private int expCmdSN;
    private int running;

    CommandWindow(final int initialCmdSN, final int window) {
        this.expCmdSN = initialCmdSN;
        this.window = window;
    }

    /**
     * Admits a non-immediate command. DELIVER advances ExpCmdSN and counts the command as running
     * until {@link #finished()}; the caller then runs the PDU and afterwards calls
     * {@link #releaseHeld()} for commands that were waiting behind it.
     */
    synchronized Admission admit(final int cmdSN, final Pdu pdu) {
        if (cmdSN == expCmdSN) {
            expCmdSN++;
            running++;
            return Admission.DELIVER;
        }
        if (SerialNumbers.inWindow(cmdSN, expCmdSN, maxCmdSN()) && !held.containsKey(cmdSN)) {
            held.put(cmdSN, pdu);
            return Admission.HELD;
        }
        return Admission.DROP;
    }

    /**
     * Held commands that have become next in order, removed from the hold in CmdSN order; each
     * counts as running until {@link #finished()}.
     */
    synchronized List<Pdu> releaseHeld() {
        List<Pdu> ready = new ArrayList<>();
        while (!held.isEmpty() && held.firstKey() == expCmdSN) {
            ready.add(held.pollFirstEntry().getValue());
            expCmdSN++;
            running++;
        }
        return ready;
    }

    /** A non-immediate command finished: the window opens by one. */
    synchronized void finished() {
        running--;
    }

    @Override
    public synchronized int expCmdSN() {
        return expCmdSN;
    }

    @Override
    public synchronized int maxCmdSN() {
        return expCmdSN - 1 + Math.max(0, window - running);
    }
}
