package dev.virtman.manager.backend;

import dev.virtman.manager.auth.EtcdCredentialStore;
import dev.virtman.manager.auth.HostCredentialStore;
import dev.virtman.manager.orders.EtcdVmOrderStore;
import dev.virtman.manager.orders.VmOrderStore;
import dev.virtman.manager.store.EtcdKeyspace;
import dev.virtman.manager.store.EtcdStateStore;
import dev.virtman.manager.store.StateStore;
import dev.virtman.manager.volume.EtcdVolumeStore;
import dev.virtman.manager.volume.VolumeStore;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The manager's state in an etcd cluster ({@code --etcd URL[,URL...]}), under one key prefix, so
 * several managers share it; see {@link EtcdKeyspace} for fencing and failure behaviour.
 */
public final class EtcdBackend implements StateBackend {

    /** Default key prefix: every key the manager writes starts with it. */
    public static final String PREFIX = "/virtman/v1/";
    /** How long one etcd call may take before the request fails with 503. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final EtcdKeyspace etcd;
    private final List<URI> endpoints;
    private final EtcdStateStore state;
    private final EtcdVolumeStore volumes;
    private final EtcdCredentialStore credentials;
    private final EtcdVmOrderStore vmOrders;

    public EtcdBackend(final EtcdKeyspace etcd, final List<URI> endpoints) {
        this.etcd = etcd;
        this.endpoints = List.copyOf(endpoints);
        this.state = new EtcdStateStore(etcd);
        this.volumes = new EtcdVolumeStore(etcd);
        this.credentials = new EtcdCredentialStore(etcd);
        this.vmOrders = new EtcdVmOrderStore(etcd);
    }

    public static EtcdBackend connect(final List<URI> endpoints, final String prefix, final Duration timeout) {
        return new EtcdBackend(EtcdKeyspace.connect(endpoints, prefix, timeout), endpoints);
    }

    public EtcdKeyspace keyspace() {
        return etcd;
    }

    public List<URI> endpoints() {
        return endpoints;
    }

    @Override
    public StateStore state() {
        return state;
    }

    @Override
    public VolumeStore volumes() {
        return volumes;
    }

    @Override
    public HostCredentialStore credentials() {
        return credentials;
    }

    @Override
    public VmOrderStore vmOrders() {
        return vmOrders;
    }

    @Override
    public String describe() {
        return "etcd " + endpoints + " under " + etcd.prefix();
    }

    @Override
    public void close() {
        etcd.close();
    }
}
