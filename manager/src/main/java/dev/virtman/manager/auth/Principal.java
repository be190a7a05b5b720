package dev.virtman.manager.auth;

import java.util.Objects;

/**
 * Who a request's credential names. The HTTP layer only authenticates (credential to principal,
 * {@link Credentials#authenticate}); what a principal may do is the domain's decision
 * ({@link Access}).
 */
public sealed interface Principal permits Principal.Admin, Principal.Enroller, Principal.Host {

    /** The holder of the admin token: images, volumes, VM orders, every host. */
    Principal ADMIN = new Admin();
    /** The holder of the enrolment (bootstrap) token: may only enrol hosts not enrolled yet. */
    Principal ENROLLER = new Enroller();

    static Principal host(final String hostId) {
        return new Host(hostId);
    }

    /** The administrator. */
    record Admin() implements Principal {
        @Override
        public String toString() {
            return "admin";
        }
    }

    /** A bootstrap credential shared by hosts that have not enrolled yet. */
    record Enroller() implements Principal {
        @Override
        public String toString() {
            return "enrolment token";
        }
    }

    /** One enrolled host, by the credential the manager issued to it alone. */
    record Host(String hostId) implements Principal {
        public Host {
            Objects.requireNonNull(hostId, "hostId");
        }

        @Override
        public String toString() {
            return "host " + hostId;
        }
    }
}
