package dev.virtman.iscsi.login;

/** Login stages as coded in the CSG and NSG fields (RFC 7143 §11.12.3). */
public enum LoginStage {
    SECURITY_NEGOTIATION(0),
    LOGIN_OPERATIONAL_NEGOTIATION(1),
    FULL_FEATURE_PHASE(3);

    private final int code;

    LoginStage(final int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The stage for a two-bit code, or {@code null} for the reserved value 2. */
    public static LoginStage fromCode(final int code) {
        for (LoginStage s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }
}
