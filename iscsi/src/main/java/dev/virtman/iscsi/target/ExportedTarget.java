package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.login.LoginTarget;
import dev.virtman.scsi.ScsiCommandExecutor;
import java.util.Set;

/**
 * One target the server exports.
 *
 * @param iqn               the iSCSI target name (e.g. {@code iqn.2026-11.dev.virtman:disk})
 * @param executor          runs the SCSI commands of every session on this target (all LUNs)
 * @param chap              CHAP credentials initiators must prove, or {@code null} for none
 * @param allowedInitiators initiator names allowed to log in; empty means any
 * @param observer          sees every SCSI command with its session's initiator name ({@link CommandObserver#NONE})
 */
public record ExportedTarget(String iqn, ScsiCommandExecutor executor, ChapConfig chap, Set<String> allowedInitiators,
                             CommandObserver observer) {

    /**
     * An allow list that admits nobody: the empty list means "anyone", and no initiator logs in
     * with an empty name (RFC 7143 §13.11 requires one).
     */
    public static final Set<String> NOBODY = Set.of("");

    public ExportedTarget {
        if (iqn == null || iqn.isEmpty()) {
            throw new IllegalArgumentException("target needs a name");
        }
        if (executor == null) {
            throw new IllegalArgumentException("target needs an executor");
        }
        allowedInitiators = allowedInitiators == null ? Set.of() : Set.copyOf(allowedInitiators);
        observer = observer == null ? CommandObserver.NONE : observer;
    }

    /** A target whose commands nobody observes. */
    public ExportedTarget(final String iqn, final ScsiCommandExecutor executor, final ChapConfig chap,
                          final Set<String> allowedInitiators) {
        this(iqn, executor, chap, allowedInitiators, CommandObserver.NONE);
    }

    /** A target without authentication, open to every initiator. */
    public static ExportedTarget open(final String iqn, final ScsiCommandExecutor executor) {
        return new ExportedTarget(iqn, executor, null, Set.of());
    }

    /** This target (same LUNs, CHAP and observer) admitting exactly {@code initiators}: nobody when empty. */
    public ExportedTarget admittingOnly(final Set<String> initiators) {
        return new ExportedTarget(iqn, executor, chap, initiators.isEmpty() ? NOBODY : initiators, observer);
    }

    LoginTarget loginTarget() {
        return new LoginTarget(iqn, chap, allowedInitiators);
    }
}
