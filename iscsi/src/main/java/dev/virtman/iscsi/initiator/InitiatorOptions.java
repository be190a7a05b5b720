package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.login.ChapConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;

/**
 * How an {@link IscsiSession} behaves: names, credentials, what it offers in login negotiation
 * and every timeout. Immutable; change a copy with the {@code with...} methods.
 *
 * @param initiatorName           our iSCSI name (InitiatorName key, RFC 7143 §13.6)
 * @param chap                    CHAP credentials (the login package's {@link ChapConfig}: our
 *                                name and secret, and for mutual CHAP the target's), or
 *                                {@code null} for AuthMethod=None
 * @param connectTimeout          bound on one TCP connect
 * @param loginTimeout            bound on one whole login exchange
 * @param commandTimeout          a command with no answer for this long makes us declare the
 *                                connection dead (and recover, see {@link #recoveryTimeout})
 * @param recoveryTimeout         bound on reconnect + re-login after a dropped connection; when it
 *                                passes, outstanding commands fail with an {@link java.io.IOException}
 * @param keepAliveInterval       idle time after which we send a NOP-Out ping (§11.18)
 * @param keepAliveTimeout        a ping unanswered this long declares the connection dead
 * @param headerDigest            offer HeaderDigest=CRC32C (preferred over None)
 * @param dataDigest              offer DataDigest=CRC32C (preferred over None)
 * @param maxRecvDataSegmentLength what we declare we can receive in one PDU (§13.12)
 * @param maxReadBytes            largest READ we issue as one command (further capped by the
 *                                target's Block Limits VPD page)
 * @param maxReissues             how often one command may be reissued after recoveries before it
 *                                fails (a command that kills the target each time must not loop)
 */
public record InitiatorOptions(String initiatorName, ChapConfig chap, Duration connectTimeout,
                               Duration loginTimeout, Duration commandTimeout, Duration recoveryTimeout,
                               Duration keepAliveInterval, Duration keepAliveTimeout, boolean headerDigest,
                               boolean dataDigest, int maxRecvDataSegmentLength, int maxReadBytes, int maxReissues) {

    /** Prefix of our default initiator names (RFC 7143 §4.2.7.2 iqn. format). */
    public static final String DEFAULT_NAME_PREFIX = "iqn.2026-11.dev.virtman:initiator-";
    public static final int DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 256 * 1024;
    public static final int DEFAULT_MAX_READ_BYTES = 1024 * 1024;
    /** RFC 7143 §13.12: MaxRecvDataSegmentLength ranges over 512..2^24-1. */
    public static final int MIN_DATA_SEGMENT_LENGTH = 512;
    public static final int MAX_DATA_SEGMENT_LENGTH = (1 << 24) - 1;
    public static final int DEFAULT_MAX_REISSUES = 5;

    public InitiatorOptions {
        if (initiatorName == null || initiatorName.isEmpty()) {
            throw new IllegalArgumentException("initiator name is empty");
        }
        requirePositive("connectTimeout", connectTimeout);
        requirePositive("loginTimeout", loginTimeout);
        requirePositive("commandTimeout", commandTimeout);
        requirePositive("recoveryTimeout", recoveryTimeout);
        requirePositive("keepAliveInterval", keepAliveInterval);
        requirePositive("keepAliveTimeout", keepAliveTimeout);
        if (maxRecvDataSegmentLength < MIN_DATA_SEGMENT_LENGTH || maxRecvDataSegmentLength > MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("MaxRecvDataSegmentLength out of range: " + maxRecvDataSegmentLength);
        }
        if (maxReadBytes < MIN_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("maxReadBytes too small: " + maxReadBytes);
        }
        if (maxReissues < 0) {
            throw new IllegalArgumentException("maxReissues negative");
        }
    }

    /** Defaults: AuthMethod=None, no digests, 30 s command timeout, 60 s recovery. */
    public static InitiatorOptions defaults() {
        return new InitiatorOptions(defaultInitiatorName(), null, Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofSeconds(10),
                false, false, DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH, DEFAULT_MAX_READ_BYTES, DEFAULT_MAX_REISSUES);
    }

    /** {@code iqn.2026-11.dev.virtman:initiator-<hostname>}, the host name reduced to name-safe characters. */
    public static String defaultInitiatorName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "localhost";
        }
        // RFC 3722 stringprep: lower case; keep only characters valid in an iqn. name
        String safe = host.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.\\-]", "-");
        return DEFAULT_NAME_PREFIX + (safe.isEmpty() ? "localhost" : safe);
    }

    public InitiatorOptions withInitiatorName(final String name) {
        return new InitiatorOptions(name, chap, connectTimeout, loginTimeout, commandTimeout, recoveryTimeout,
                keepAliveInterval, keepAliveTimeout, headerDigest, dataDigest, maxRecvDataSegmentLength, maxReadBytes,
                maxReissues);
    }

    public InitiatorOptions withChap(final ChapConfig credentials) {
        return new InitiatorOptions(initiatorName, credentials, connectTimeout, loginTimeout, commandTimeout,
                recoveryTimeout, keepAliveInterval, keepAliveTimeout, headerDigest, dataDigest,
                maxRecvDataSegmentLength, maxReadBytes, maxReissues);
    }

    public InitiatorOptions withTimeouts(final Duration connect, final Duration login, final Duration command,
                                         final Duration recovery) {
        return new InitiatorOptions(initiatorName, chap, connect, login, command, recovery, keepAliveInterval,
                keepAliveTimeout, headerDigest, dataDigest, maxRecvDataSegmentLength, maxReadBytes, maxReissues);
    }

    public InitiatorOptions withKeepAlive(final Duration interval, final Duration timeout) {
        return new InitiatorOptions(initiatorName, chap, connectTimeout, loginTimeout, commandTimeout,
                recoveryTimeout, interval, timeout, headerDigest, dataDigest, maxRecvDataSegmentLength, maxReadBytes,
                maxReissues);
    }

    public InitiatorOptions withDigests(final boolean header, final boolean data) {
        return new InitiatorOptions(initiatorName, chap, connectTimeout, loginTimeout, commandTimeout,
                recoveryTimeout, keepAliveInterval, keepAliveTimeout, header, data, maxRecvDataSegmentLength,
                maxReadBytes, maxReissues);
    }

    public InitiatorOptions withMaxReadBytes(final int bytes) {
        return new InitiatorOptions(initiatorName, chap, connectTimeout, loginTimeout, commandTimeout,
                recoveryTimeout, keepAliveInterval, keepAliveTimeout, headerDigest, dataDigest,
                maxRecvDataSegmentLength, bytes, maxReissues);
    }

    public InitiatorOptions withMaxRecvDataSegmentLength(final int bytes) {
        return new InitiatorOptions(initiatorName, chap, connectTimeout, loginTimeout, commandTimeout,
                recoveryTimeout, keepAliveInterval, keepAliveTimeout, headerDigest, dataDigest, bytes, maxReadBytes,
                maxReissues);
    }

    private static void requirePositive(final String name, final Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }
}
