package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * Where a logical unit puts the data a read returns. The transport may lend a direct buffer it
 * writes to the socket as is, so a cached block goes from the file to the socket with no copy
 * through the heap; it takes the buffer back once the response is on the wire. A unit asks at most
 * once per command; the returned buffer has position 0 and limit {@code bytes}.
 */
@FunctionalInterface
public interface DataInBuffers {

    /** Plain heap buffers: for callers that keep the response data (tests, in-process users). */
    DataInBuffers HEAP = ByteBuffer::allocate;

    ByteBuffer allocate(int bytes);
}
