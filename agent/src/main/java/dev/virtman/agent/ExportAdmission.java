package dev.virtman.agent;

import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.TargetNames;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Who may log in to a managed agent's image exports: the initiators the manager knows to need
 * them, and nobody else. For each image, the hosts the manager's latest placement names as this
 * host's children and grandchildren ({@link HeartbeatReply.Placement#children}, logged in as
 * {@link TargetNames#hostInitiator}), plus the VMs this agent runs over the image (each logs in
 * under its own name). Everyone else gets the iSCSI login reject "initiator not authorized"
 * (status 0x0202) and discovery does not list the export to them; the target server counts the
 * refusals and logs them once per interval ({@code IscsiTargetServer#admitOnly}, the same
 * allow-list mechanism the manager's source target uses for registered hosts).
 *
 * <p>Why the manager's list and not, say, any host of the tree: a host's export is only a parent
 * of the hosts whose parent lists name it, and a list bounded by the fan-out (fan-out + fan-out²
 * names) is what the manager can push cheaply to every host of a 10,000-host tree. A placement
 * without the list (a manager older than it) leaves the export open, as before.
 */
final class ExportAdmission {

    private final Agent agent;
    /** Image id -> host ids the manager says may log in; absent: the manager does not say (open). */
    private final Map<String, Set<String>> children = new HashMap<>();
    /** Image id -> initiator names of this host's VMs over that image. */
    private Function<String, Set<String>> vms = image -> Set.of();

    ExportAdmission(final Agent agent) {
        this.agent = agent;
    }

    /** Takes the children of every placed image from a manager's reply, then applies. */
    synchronized void placements(final Map<String, HeartbeatReply.Placement> placements) {
        for (Map.Entry<String, HeartbeatReply.Placement> e : placements.entrySet()) {
            List<String> hosts = e.getValue().children();
            if (hosts != null) {
                children.put(e.getKey(), Set.copyOf(hosts));
            }
        }
        apply();
    }

    /** Where the initiator names of this host's VMs come from (by image id); applies at once. */
    synchronized void vms(final Function<String, Set<String>> byImage) {
        this.vms = byImage;
        apply();
    }

    /** Sets every export's allow list from what is known now (a no-op for the unchanged ones). */
    synchronized void apply() {
        for (ImageExport image : agent.images()) {
            Set<String> hosts = children.get(image.name());
            if (hosts == null) {
                continue;
            }
            Set<String> allowed = new HashSet<>(vms.apply(image.name()));
            hosts.forEach(h -> allowed.add(TargetNames.hostInitiator(h)));
            agent.admitOnly(image.iqn(), allowed);
        }
    }
}
