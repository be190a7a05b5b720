package dev.virtman.manager.api;

import java.util.List;

/**
 * {@code GET /v1/cluster}: the managers sharing this manager's state, which one leads, and the
 * health of the state store's endpoints.
 *
 * @param backend  {@code sqlite} (one manager, always leading) or {@code etcd}
 * @param self     the URL of the manager that answered
 * @param leader   the leader's URL, or null while none is elected (etcd without quorum)
 * @param managers every manager whose etcd lease is alive (only {@code self} with SQLite)
 * @param etcd     one entry per configured etcd endpoint (empty with SQLite)
 */
public record ClusterView(String backend, String self, String leader, List<Member> managers, List<Endpoint> etcd) {

    /** A manager; {@code leader} when it is the one that leads. */
    public record Member(String url, boolean leader) { }

    /** An etcd member as its {@code /health} answered (within a second); {@code error} when unreachable. */
    public record Endpoint(String url, boolean healthy, String error) { }
}
