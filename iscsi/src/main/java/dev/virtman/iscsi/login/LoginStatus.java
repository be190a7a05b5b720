package dev.virtman.iscsi.login;

/**
 * Status-Class and Status-Detail of a Login Response (RFC 7143 §11.13.5).
 *
 * @param statusClass  0 success, 1 redirection, 2 initiator error, 3 target error
 * @param statusDetail detail within the class
 */
public record LoginStatus(int statusClass, int statusDetail) {

    public static final LoginStatus SUCCESS = new LoginStatus(0x00, 0x00);
    public static final LoginStatus INITIATOR_ERROR = new LoginStatus(0x02, 0x00);
    public static final LoginStatus AUTHENTICATION_FAILURE = new LoginStatus(0x02, 0x01);
    public static final LoginStatus AUTHORIZATION_FAILURE = new LoginStatus(0x02, 0x02);
    public static final LoginStatus NOT_FOUND = new LoginStatus(0x02, 0x03);
    public static final LoginStatus UNSUPPORTED_VERSION = new LoginStatus(0x02, 0x05);
    public static final LoginStatus TOO_MANY_CONNECTIONS = new LoginStatus(0x02, 0x06);
    public static final LoginStatus MISSING_PARAMETER = new LoginStatus(0x02, 0x07);
    public static final LoginStatus SESSION_TYPE_NOT_SUPPORTED = new LoginStatus(0x02, 0x09);
    public static final LoginStatus SESSION_DOES_NOT_EXIST = new LoginStatus(0x02, 0x0a);
    public static final LoginStatus INVALID_DURING_LOGIN = new LoginStatus(0x02, 0x0b);
    public static final LoginStatus TARGET_ERROR = new LoginStatus(0x03, 0x00);
    public static final LoginStatus OUT_OF_RESOURCES = new LoginStatus(0x03, 0x02);

    public boolean isSuccess() {
        return statusClass == 0;
    }

    @Override
    public String toString() {
        return String.format("0x%02x%02x", statusClass, statusDetail);
    }
}
