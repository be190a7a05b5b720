package dev.virtman.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The base of every {@link BlockDevice} filter, after nbdkit's filter API: each call goes to the
 * next layer unchanged unless the filter overrides it, so a filter is one file that states only
 * what it changes (rate limit, counting, tracing, fault injection). Closing a filter closes the
 * layer below it.
 *
 * <p>One call is not forwarded: {@link #readsWithoutWaiting} keeps the interface's answer (no),
 * because most filters may wait (for tokens, for a file write); a filter that never waits says
 * so itself by forwarding it.
 */
public abstract class ForwardingBlockDevice implements BlockDevice {

    /** The layer this filter wraps. */
    protected final BlockDevice next;

    protected ForwardingBlockDevice(final BlockDevice next) {
        this.next = next;
    }

    @Override
    public long size() {
        return next.size();
    }

    @Override
    public int logicalBlockSize() {
        return next.logicalBlockSize();
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        next.read(offset, dst);
    }

    @Override
    public boolean isWritable() {
        return next.isWritable();
    }

    @Override
    public void write(final long offset, final ByteBuffer src) throws IOException {
        next.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        next.flush();
    }

    @Override
    public void close() throws IOException {
        next.close();
    }
}
