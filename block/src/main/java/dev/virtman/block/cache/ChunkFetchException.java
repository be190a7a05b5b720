package dev.virtman.block.cache;

import java.io.IOException;

/**
 * No parent delivered a verified copy of a chunk within the retry budget. The SCSI layer reports
 * it as a MEDIUM ERROR / UNRECOVERED READ ERROR (SBC-3 4.16, sense key 3h, ASC/ASCQ 11h/00h), so
 * the VM sees a failed read rather than wrong data.
 */
public final class ChunkFetchException extends IOException {
    private final int chunkIndex;

    public ChunkFetchException(final int chunkIndex, final String message) {
        super("chunk " + chunkIndex + ": " + message);
        this.chunkIndex = chunkIndex;
    }

    public int chunkIndex() {
        return chunkIndex;
    }
}
