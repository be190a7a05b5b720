/**
 * iSCSI PDU layer (RFC 7143 §11), shared by the target and the initiator: one flyweight class per
 * header format ({@link dev.virtman.iscsi.pdu.BasicHeaderSegment} and its subclasses), the
 * {@link dev.virtman.iscsi.pdu.PduDecoder} state machine and {@link dev.virtman.iscsi.pdu.PduEncoder}
 * for framing with optional CRC32C digests, and {@link dev.virtman.iscsi.pdu.TextCodec} for the
 * key=value text of Login and Text PDUs (§6).
 */
package dev.virtman.iscsi.pdu;
