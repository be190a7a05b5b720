package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.ScsiCdbs;
import dev.virtman.block.BlockDevice;
import dev.virtman.iscsi.login.ChapConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A remote logical unit as a read-only {@link BlockDevice}: the bottom of an agent's stack
 * when its parent is another agent or the source. {@code size()} comes from READ CAPACITY;
 * {@link #read} becomes READ(16) commands of at most {@link #maxTransferBytes()} each (the
 * target's Block Limits MAXIMUM TRANSFER LENGTH, capped by {@link InitiatorOptions#maxReadBytes()}),
 * all submitted before any is awaited so they pipeline inside the target's command window.
 * Thread-safe: concurrent reads share the session.
 *
 * <p>MaxBurstLength does not limit a READ: it bounds one Data-In <em>sequence</em>
 * (RFC 7143 §13.13), and the target splits a larger transfer into several sequences itself.
 */
public final class IscsiBlockDevice implements BlockDevice {

    private static final Logger LOG = LoggerFactory.getLogger(IscsiBlockDevice.class);
    /** ASC 20h: INVALID COMMAND OPERATION CODE (SPC-4 §4.5.6 table 49). */
    private static final int INVALID_COMMAND_OPERATION_CODE = 0x20;
    private static final long READ_10_MAX_LBA = 0xffff_ffffL;

    private final IscsiSession session;
    private final int lun;
    private final Capacity capacity;
    private final int maxTransferBytes;
    private final boolean ownsSession;
    private final String description;
    /** Set once the unit rejected READ(16) as an unknown opcode: use READ(10) from then on. */
    private volatile boolean read10Only;

    private IscsiBlockDevice(final IscsiSession session, final int lun, final Capacity capacity,
                             final int maxTransferBytes, final boolean ownsSession, final String description) {
        this.session = session;
        this.lun = lun;
        this.capacity = capacity;
        this.maxTransferBytes = maxTransferBytes;
        this.ownsSession = ownsSession;
        this.description = description;
    }

    /**
     * Logs in to the URL's target and opens its LUN. Credentials in the URL mean one-way CHAP
     * unless {@code options} already carry CHAP credentials.
     */
    public static IscsiBlockDevice open(final IscsiUrl url, final InitiatorOptions options) throws IOException {
        InitiatorOptions effective = options;
        if (url.hasCredentials() && options.chap() == null) {
            if (url.password() == null) {
                throw new IllegalArgumentException("iSCSI URL " + url + " names a user but no password");
            }
            effective = options.withChap(ChapConfig.oneWay(url.user(), url.password()));
        }
        IscsiSession session = IscsiSession.open(url.host(), url.port(), url.targetName(), effective);
        try {
            return attach(session, url.lun(), true, url.toRedactedString());
        } catch (IOException | RuntimeException e) {
            session.close();
            throw e;
        }
    }

    /** Opens {@code lun} over an existing session; {@code ownsSession} closes the session with the device. */
    public static IscsiBlockDevice attach(final IscsiSession session, final int lun, final boolean ownsSession,
                                          final String description) throws IOException {
        InquiryInfo inquiry = session.inquiry(lun);
        if (!inquiry.isDisk()) {
            throw new IscsiException(description + ": LUN " + lun + " is not a disk (peripheral qualifier "
                    + inquiry.peripheralQualifier() + ", device type 0x" + Integer.toHexString(inquiry.deviceType()) + ")");
        }
        Capacity capacity = session.readCapacity(lun);
        BlockLimitsPage limits = session.blockLimits(lun);
        long max = session.options().maxReadBytes();
        if (limits.maxTransferBlocks() > 0) {
            max = Math.min(max, limits.maxTransferBlocks() * capacity.blockSize());
        }
        int maxTransfer = (int) Math.max(capacity.blockSize(), max / capacity.blockSize() * capacity.blockSize());
        LOG.info("{}: {} {} {}, {} blocks of {} bytes, reads of up to {} bytes", description, inquiry.vendor(),
                inquiry.product(), inquiry.revision(), capacity.blocks(), capacity.blockSize(), maxTransfer);
        return new IscsiBlockDevice(session, lun, capacity, maxTransfer, ownsSession, description);
    }

    public IscsiSession session() {
        return session;
    }

    public int lun() {
        return lun;
    }

    /** Largest READ issued as one command. */
    public int maxTransferBytes() {
        return maxTransferBytes;
    }

    /** Whether the target sends anything within {@code timeout} (see {@link IscsiSession#answers}). */
    public boolean answers(final java.time.Duration timeout) throws InterruptedException {
        return session.answers(timeout);
    }

    @Override
    public long size() {
        return capacity.bytes();
    }

    @Override
    public int logicalBlockSize() {
        return capacity.blockSize();
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        if (offset < 0 || offset > size() - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside device of " + size() + " bytes");
        }
        int block = capacity.blockSize();
        if (offset % block == 0 && length % block == 0) {
            readAligned(offset, dst);
            dst.position(dst.limit());
            return;
        }
        // Unaligned: read the covering blocks, copy out the requested bytes.
        long start = offset / block * block;
        long end = (offset + length + block - 1) / block * block;
        if (end - start > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("unaligned read too large: " + length);
        }
        ByteBuffer whole = ByteBuffer.allocate((int) (end - start));
        readAligned(start, whole);
        dst.put(whole.slice((int) (offset - start), length));
    }

    /** Reads {@code dst.remaining()} bytes (block multiple) at block-aligned {@code offset}; position unchanged. */
    private void readAligned(final long offset, final ByteBuffer dst) throws IOException {
        int block = capacity.blockSize();
        int length = dst.remaining();
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        List<ByteBuffer> slices = new ArrayList<>();
        for (int done = 0; done < length; done += maxTransferBytes) {
            int n = Math.min(maxTransferBytes, length - done);
            ByteBuffer slice = dst.slice(dst.position() + done, n);
            slices.add(slice);
            futures.add(read10Only ? submitRead10((offset + done) / block, n / block, slice)
                    : session.readToAwait(lun, (offset + done) / block, n / block, slice));
        }
        IOException failure = null;
        for (int i = 0; i < futures.size(); i++) {
            ByteBuffer slice = slices.get(i);
            long sliceOffset = offset + (long) i * maxTransferBytes;
            try {
                int got;
                try {
                    got = session.await(futures.get(i));
                } catch (ScsiStatusException e) {
                    // UNIT ATTENTION after a reinstated session, BUSY, ...: execute() retries those
                    got = readSynchronously(sliceOffset / block, slice.remaining() / block, slice, e);
                }
                if (got != slice.remaining()) {
                    throw new IscsiException(description + ": short read at byte " + sliceOffset + ": " + got + " of "
                            + slice.remaining() + " bytes");
                }
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Reads one piece again after a SCSI-level failure, retrying what {@link IscsiSession#execute}
     * retries. A unit that does not know READ(16) (ILLEGAL REQUEST, INVALID COMMAND OPERATION
     * CODE, SPC-4 §4.5.6) gets READ(10) instead (SBC-3 §5.9), from then on.
     */
    private int readSynchronously(final long lba, final int blocks, final ByteBuffer slice,
                                  final ScsiStatusException first) throws IOException {
        if (!read10Only && first instanceof ScsiCheckConditionException cc
                && cc.senseKey() == dev.virtman.scsi.SenseKey.ILLEGAL_REQUEST.code()
                && cc.asc() == INVALID_COMMAND_OPERATION_CODE && fitsRead10(lba, blocks)) {
            LOG.info("{}: READ(16) not supported, using READ(10)", description);
            read10Only = true;
        }
        if (read10Only) {
            return session.execute(lun, ScsiCdbs.read10(lba, blocks), slice, "READ(10) lba " + lba);
        }
        return session.execute(lun, ScsiCdbs.read16(lba, blocks), slice, "READ(16) lba " + lba);
    }

    private java.util.concurrent.CompletableFuture<Integer> submitRead10(final long lba, final int blocks,
                                                                          final ByteBuffer slice) {
        if (!fitsRead10(lba, blocks)) {
            return CompletableFuture.failedFuture(new IscsiException(description
                    + ": READ(10) cannot address lba " + lba + " x" + blocks + " and READ(16) is not supported"));
        }
        return session.submitToAwait(lun, ScsiCdbs.read10(lba, blocks), slice, "READ(10) lba " + lba);
    }

    private static boolean fitsRead10(final long lba, final int blocks) {
        return blocks <= ScsiCdbs.READ_10_MAX_BLOCKS && lba + blocks - 1 <= READ_10_MAX_LBA;
    }

    @Override
    public void close() throws IOException {
        if (ownsSession) {
            session.close();
        }
    }

    @Override
    public String toString() {
        return "IscsiBlockDevice[" + description + "]";
    }
}
