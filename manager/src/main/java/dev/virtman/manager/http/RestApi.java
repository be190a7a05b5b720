package dev.virtman.manager.http;

import dev.virtman.manager.GlanceImports;
import dev.virtman.manager.HostRegistered;
import dev.virtman.manager.Manager;
import java.util.function.Supplier;
import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.VmBoard;
import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.HostCredentialView;
import dev.virtman.manager.auth.Access;
import dev.virtman.manager.auth.Credentials;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.FailureReport;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.RegisterHostRequest;
import dev.virtman.manager.api.RegisterImageRequest;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmSyncRequest;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.volume.VolumeService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The manager's REST API (v1) as a route table: every path, method and the manager call it makes.
 * Transport (authentication, body reading, errors as JSON) is {@link RestHandler}'s job; the
 * agents' stream is {@link AgentStreams}'.
 *
 * <pre>
 *   GET             /metrics                         Prometheus text
 *   GET|POST        /v1/images                       POST: {name, path} | {path, glance} | {glanceImageId[, name]}
 *   GET|DELETE      /v1/images/{id}
 *   GET             /v1/images/{id}/manifest         chunk manifest (binary, ManifestFormat)
 *   GET             /v1/images/{id}/tree
 *   GET|PUT         /v1/images/{id}/profile[?force=true]
 *   GET|POST        /v1/hosts
 *   GET|DELETE      /v1/hosts/{id}
 *   POST            /v1/hosts/{id}/credential        enrol: the host's own token (enrolment or admin token)
 *   POST            /v1/hosts/{id}/heartbeat         one-shot heartbeat (tools; agents use the stream)
 *   GET             /v1/hosts/{id}/vms               VM orders and the agent's last report
 *   PUT|DELETE      /v1/hosts/{id}/vms/{name}        order a VM / order it destroyed
 *   POST            /v1/hosts/{id}/vm-sync           agent: report VMs, receive orders
 *   POST            /v1/failure-reports
 *   GET|POST        /v1/volumes
 *   GET|DELETE      /v1/volumes/{id}
 *   POST            /v1/volumes/{id}/connection      connector in, iSCSI properties out
 * </pre>
 * {@code GET /healthz} needs no credential and is answered by {@link RestHandler} itself.
 *
 * <p>Each route first asks {@link Access} whether the caller's principal may do this: the admin
 * may do everything; a host token acts only as its own host (register, heartbeat, its VMs, its
 * failure reports, reading images); the enrolment token only enrols new hosts.
 */
final class RestApi {

    private RestApi() { }

    /**
     * @param volumes       null when the manager has no volume service
     * @param glanceImports null when the manager has no Glance to import from
     */
    static Routes routes(final Manager manager, final VolumeService volumes, final GlanceImports glanceImports,
                         final VmBoard vms, final PrometheusMeterRegistry metrics, final Credentials credentials,
                         final Supplier<ClusterView> cluster) {
        Routes r = new Routes();
        r.add("GET", "/v1/cluster", c -> {
            Access.requireAdmin(c.caller(), "reading the cluster");
            return Reply.ok(cluster.get());
        });
        r.add("GET", "/metrics", c -> {
            Access.requireAdmin(c.caller(), "reading metrics");
            return Reply.ok(new Reply.Text(metrics.scrape()));
        });

        // ------------------------------------------------------------ images
        r.add("GET", "/v1/images", c -> {
            Access.requireAdminOrHost(c.caller(), "reading images");
            return Reply.ok(Views.images(manager.images()));
        });
        r.add("POST", "/v1/images", c -> {
            Access.requireAdmin(c.caller(), "registering images");
            return registerImage(manager, glanceImports, c.body(RegisterImageRequest.class));
        });
        r.add("GET", "/v1/images/{id}", c -> {
            Access.requireAdminOrHost(c.caller(), "reading images");
            return Reply.ok(Views.image(manager.image(c.param("id"))));
        });
        r.add("DELETE", "/v1/images/{id}", c -> {
            Access.requireAdmin(c.caller(), "removing images");
            if (volumes == null) {
                manager.removeImage(c.param("id"));
            } else {
                volumes.removeImage(c.param("id"));
            }
            return Reply.noContent();
        });
        r.add("GET", "/v1/images/{id}/manifest", c -> {
            Access.requireAdminOrHost(c.caller(), "reading manifests");
            return Reply.ok(new Reply.Binary(manager.manifest(c.param("id"))));
        });
        r.add("GET", "/v1/images/{id}/tree", c -> {
            Access.requireAdmin(c.caller(), "reading trees");
            return Reply.ok(Views.tree(manager.tree(c.param("id"))));
        });
        r.add("GET", "/v1/images/{id}/profile", c -> {
            Access.requireAdminOrHost(c.caller(), "reading boot profiles");
            return Reply.ok(Views.profile(manager.profile(c.param("id"))));
        });
        r.add("PUT", "/v1/images/{id}/profile", c -> {
            String id = c.param("id");
            boolean force = "true".equals(c.query().get("force"));
            BootProfileView p = c.body(BootProfileView.class);
            if (force || p.recordedBy() == null) {
                Access.requireAdmin(c.caller(), force ? "replacing a boot profile" : "recording a boot profile in no host's name");
            } else {
                Access.requireActingAs(c.caller(), p.recordedBy(), "recording a boot profile");
            }
            if (p.imageId() != null && !p.imageId().equals(id) && !p.imageId().equals(manager.image(id).id())) {
                throw ManagerException.invalid("imageId in body does not match the path");
            }
            boolean created = manager.putProfile(id, p.chunks(), p.recordedBy(), force);
            return Reply.created(created, Views.profile(manager.profile(id)));
        });

        // ------------------------------------------------------------ hosts
        r.add("GET", "/v1/hosts", c -> {
            Access.requireAdmin(c.caller(), "listing hosts");
            return Reply.ok(Views.hosts(manager.hosts()));
        });
        r.add("POST", "/v1/hosts", c -> {
            RegisterHostRequest req = c.body(RegisterHostRequest.class);
            Access.requireActingAs(c.caller(), req.hostId(), "registering");
            HostRegistered registered = manager.register(req.hostId(), req.address(),
                    req.labels());
            return Reply.created(registered.created(), Views.host(registered.host()));
        });
        r.add("GET", "/v1/hosts/{id}", c -> {
            Access.requireActingAs(c.caller(), c.param("id"), "reading a host");
            return Reply.ok(Views.host(manager.host(c.param("id"))));
        });
        r.add("DELETE", "/v1/hosts/{id}", c -> {
            Access.requireAdmin(c.caller(), "removing hosts");
            manager.removeHost(c.param("id"));
            vms.forget(c.param("id"));
            credentials.revoke(c.param("id"));
            return Reply.noContent();
        });
        r.add("POST", "/v1/hosts/{id}/credential", c -> {
            Credentials.HostCredential issued = credentials.enrol(c.caller(), c.param("id"));
            return Reply.created(!issued.rotated(), new HostCredentialView(issued.hostId(), issued.token()));
        });
        r.add("POST", "/v1/hosts/{id}/heartbeat", c -> {
            String id = c.param("id");
            Access.requireActingAs(c.caller(), id, "heartbeating");
            HeartbeatRequest request = c.body(HeartbeatRequest.class);
            HeartbeatReply reply = manager.heartbeat(id, request);
            return Reply.ok(volumes == null ? reply : volumes.onHeartbeat(id, request, reply));
        });
        r.add("POST", "/v1/hosts/{id}/vm-sync", c -> {
            Access.requireActingAs(c.caller(), c.param("id"), "reporting VMs");
            manager.host(c.param("id"));
            return Reply.ok(vms.sync(c.param("id"), c.body(VmSyncRequest.class)));
        });
        r.add("GET", "/v1/hosts/{id}/vms", c -> {
            Access.requireActingAs(c.caller(), c.param("id"), "reading VM orders");
            manager.host(c.param("id"));
            return Reply.ok(vms.view(c.param("id")));
        });
        r.add("DELETE", "/v1/hosts/{id}/vms/{name}", c -> {
            Access.requireAdmin(c.caller(), "ordering VMs");
            manager.host(c.param("id"));
            vms.destroy(c.param("id"), c.param("name"));
            return Reply.noContent();
        });
        r.add("PUT", "/v1/hosts/{id}/vms/{name}", c -> orderVm(manager, vms, c));
        r.add("POST", "/v1/failure-reports", c -> {
            FailureReport f = c.body(FailureReport.class);
            Access.requireActingAs(c.caller(), f.reporter(), "reporting a failure");
            return Reply.ok(manager.reportFailure(f.reporter(), f.failedHostId()));
        });

        // ------------------------------------------------------------ volumes (the admin's: a
        // connection carries the volume's CHAP secret; a host gets its own volumes' secrets in
        // its heartbeat replies)
        r.add("GET", "/v1/volumes", c -> Reply.ok(volumeService(volumes, c).volumes()));
        r.add("POST", "/v1/volumes", c -> {
            Reply created = new Reply(Reply.CREATED, volumeService(volumes, c).create(c.body(CreateVolumeRequest.class)));
            manager.replyChanges().all(); // the host's stream gets its new volume set
            return created;
        });
        r.add("GET", "/v1/volumes/{id}", c -> Reply.ok(volumeService(volumes, c).volume(c.param("id"))));
        r.add("DELETE", "/v1/volumes/{id}", c -> {
            volumeService(volumes, c).delete(c.param("id"));
            manager.replyChanges().all();
            return Reply.noContent();
        });
        r.add("POST", "/v1/volumes/{id}/connection", c -> {
            Reply connection = Reply.ok(volumeService(volumes, c).connect(c.param("id"),
                    c.body(VolumeConnector.class)));
            manager.replyChanges().all();
            return connection;
        });
        return r;
    }

    private static Reply registerImage(final Manager manager, final GlanceImports glanceImports,
                                       final RegisterImageRequest r) {
        if (r.glanceImageId() != null) {
            if (r.path() != null || r.glance() != null) {
                throw ManagerException.invalid("glanceImageId asks the manager to import from its Glance;"
                        + " it excludes path and glance");
            }
            if (glanceImports == null) {
                throw ManagerException.invalid("this manager imports from no Glance (start it with --glance-url)");
            }
            return Reply.ok(new Reply.Deferred(() -> {
                Manager.Registration reg = glanceImports.importImage(r.glanceImageId(), r.name());
                return Reply.created(reg.created(), Views.image(reg.image()));
            }));
        }
        if (r.glance() != null) {
            GlanceOrigin o = r.glance();
            Manager.Registration reg = manager.registerGlanceImage(r.path(),
                    o.withVersion(o.series() != null ? o.series() : r.name(), 0));
            return Reply.created(reg.created(), Views.image(reg.image()));
        }
        return new Reply(Reply.CREATED, Views.image(manager.registerImage(r.name(), r.path())));
    }

    private static Reply orderVm(final Manager manager, final VmBoard vms, final Call c) {
        Access.requireAdmin(c.caller(), "ordering VMs");
        String id = c.param("id");
        String name = c.param("name");
        manager.host(id);
        VmOrder order = c.body(VmOrder.class);
        if (order.name() != null && !order.name().equals(name)) {
            throw ManagerException.invalid("name in body does not match the path");
        }
        if (order.imageId() == null) {
            throw ManagerException.invalid("imageId is required");
        }
        VmOrder resolved = new VmOrder(name, manager.image(order.imageId()).id(), order.kernel(),
                order.initrd(), order.append(), order.memoryMiB(), order.upMarker(), order.timeoutSeconds(),
                order.desired());
        return Reply.created(vms.order(id, resolved), resolved);
    }

    private static VolumeService volumeService(final VolumeService volumes, final Call c) {
        Access.requireAdmin(c.caller(), "managing volumes");
        if (volumes == null) {
            throw ManagerException.notFound("this manager has no volume service");
        }
        return volumes;
    }
}
