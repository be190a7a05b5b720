package dev.virtman.iscsi.initiator;

import java.security.SecureRandom;

/**
 * Initiator Session IDs of type 10b, "random" (RFC 7143 §11.12.5): the type in the top two bits
 * of the 48-bit ISID, then a 24-bit random number and a 16-bit qualifier. A fresh ISID per session
 * keeps two sessions of one initiator name to one target apart; recovery logs in again with the
 * same ISID so the target reinstates the session.
 */
final class RandomIsid {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long TYPE_RANDOM = 0x80L << 40;
    private static final int RANDOM_BITS = 24;
    private static final int QUALIFIER_BITS = 16;

    private RandomIsid() {
    }

    static long next() {
        return TYPE_RANDOM | (long) RANDOM.nextInt(1 << RANDOM_BITS) << QUALIFIER_BITS
                | RANDOM.nextInt(1 << QUALIFIER_BITS);
    }
}
