package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * An upstream that connects on first use and again after a failed connect, so an agent starts
 * (and serves what it has cached) while a parent is still down, and a parent that comes up later
 * is picked up without a restart. The size comes from the manifest; a parent whose device has a
 * different size is refused, since it cannot be exporting this image.
 *
 * <p>Holds one open device at a time. Failures reading an open device are the device's business
 * (an iSCSI parent reconnects by itself); the {@code ChunkFetcher} above sees them as failed
 * attempts and fails over to the next parent.
 */
final class LazyParentDevice implements BlockDevice {
    private final String url;
    private final long size;
    private final ParentConnector connector;
    private BlockDevice device;
    private boolean closed;

    LazyParentDevice(final String url, final long size, final ParentConnector connector) {
        this.url = url;
        this.size = size;
        this.connector = connector;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        connected().read(offset, dst);
    }

    /**
     * Whether the parent answers anything within {@code timeout}: an iSCSI parent is pinged
     * (NOP-Out) on its open session; one that is not connected does not answer; a file answers.
     */
    boolean answers(final Duration timeout) throws InterruptedException {
        BlockDevice d;
        synchronized (this) {
            d = device;
        }
        if (d instanceof IscsiBlockDevice iscsi) {
            return iscsi.answers(timeout);
        }
        return d != null;
    }

    private synchronized BlockDevice connected() throws IOException {
        if (closed) {
            throw new IOException("parent " + url + " is closed");
        }
        if (device == null) {
            BlockDevice d = connector.open(url);
            if (d.size() != size) {
                d.close();
                throw new IOException("parent " + url + " has " + d.size() + " bytes, the manifest says " + size);
            }
            device = d;
        }
        return device;
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        if (device != null) {
            device.close();
            device = null;
        }
    }
}
