package dev.virtman.manager.api;

import java.util.List;

/** Reply to a VM sync: every order for the host, including {@code stopped} and {@code destroyed} ones. */
public record VmSyncReply(List<VmOrder> orders) {
    public VmSyncReply {
        orders = List.copyOf(orders);
    }
}
