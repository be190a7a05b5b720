package dev.virtman.iscsi.login;

/**
 * A successful login: who logged in to what, and the negotiated parameters.
 *
 * @param discovery     whether this is a discovery session (SessionType=Discovery, §13.21)
 * @param initiatorName the InitiatorName key
 * @param target        the target logged in to; {@code null} for discovery
 * @param isid          the initiator's 48-bit session ID
 * @param tsih          the TSIH the target assigned
 * @param cid           the connection ID
 * @param parameters    negotiated operational parameters
 */
public record LoginResult(boolean discovery, String initiatorName, LoginTarget target, long isid, int tsih, int cid,
                          SessionParameters parameters) {
}
