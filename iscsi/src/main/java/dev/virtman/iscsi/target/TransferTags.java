package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.BasicHeaderSegment;

/**
 * Target Transfer Tags of one connection (RFC 7143 §11.8.2, §11.11.4): R2Ts and continued Text
 * Responses draw from the same counter, skipping the reserved 0xffffffff. Reader thread only.
 */
final class TransferTags {

    private int next = 1;

    int allocate() {
        int tag = next++;
        if (tag == BasicHeaderSegment.RESERVED_TAG) {
            tag = next++;
        }
        return tag;
    }
}
