package dev.virtman.manager.http;

/**
 * A reply a route returns: a status and a body, which is a JSON value, {@link Binary} bytes,
 * {@link Text}, null for none, or {@link Deferred} work that computes the real reply off the
 * request threads.
 */
record Reply(int status, Object body) {

    static final int OK = 200;
    static final int CREATED = 201;
    static final int NO_CONTENT = 204;

    static Reply ok(final Object body) {
        return new Reply(OK, body);
    }

    static Reply created(final boolean created, final Object body) {
        return new Reply(created ? CREATED : OK, body);
    }

    static Reply noContent() {
        return new Reply(NO_CONTENT, null);
    }

    /** A body sent as {@code application/octet-stream} instead of JSON. */
    record Binary(byte[] bytes) { }

    /** A plain-text body (the Prometheus scrape). */
    record Text(String text) { }

    /** Work that computes a reply; may throw like a route. */
    @FunctionalInterface
    interface Work {
        Reply get() throws Exception;
    }

    /** A reply computed later on the long-request executor (a Glance import may take minutes). */
    record Deferred(Work work) { }
}
