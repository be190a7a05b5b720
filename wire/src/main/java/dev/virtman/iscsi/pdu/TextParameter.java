package dev.virtman.iscsi.pdu;

/** One {@code key=value} pair of a Login or Text PDU's data segment (RFC 7143 §6.1). */
public record TextParameter(String key, String value) {

    @Override
    public String toString() {
        return key + "=" + value;
    }
}
