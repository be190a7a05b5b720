package dev.virtman.manager;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.ImageRecord;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Boot profiles: the chunk order the first booting host read, which later hosts prefetch. */
final class BootProfiles {

    private static final Logger LOG = LoggerFactory.getLogger(BootProfiles.class);

    private final ManagerState state;
    private final ImageCatalog images;

    BootProfiles(final ManagerState state, final ImageCatalog images) {
        this.state = state;
        this.images = images;
    }

    /** See {@link Manager#putProfile}. */
    boolean put(final String idOrName, final List<Integer> chunks, final String recordedBy, final boolean force) {
        synchronized (state) {
            ImageRecord image = images.require(idOrName);
            if (chunks == null || chunks.isEmpty()) {
                throw ManagerException.invalid("chunks must be a non-empty list of chunk indices");
            }
            if (recordedBy != null) {
                HostRegistry.requireHostId(recordedBy, "recordedBy");
            }
            long count = image.manifest().chunkCount();
            if (chunks.size() > count) {
                throw ManagerException.invalid("profile lists " + chunks.size() + " chunks, the image has only " + count);
            }
            int[] order = new int[chunks.size()];
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < order.length; i++) {
                Integer c = chunks.get(i);
                if (c == null || c < 0 || c >= count) {
                    throw ManagerException.invalid("chunks[" + i + "] = " + c + " is outside 0.." + (count - 1));
                }
                if (!seen.add(c)) {
                    throw ManagerException.invalid("chunks[" + i + "] = " + c + " is listed twice");
                }
                order[i] = c;
            }
            BootProfile existing = state.profiles.get(image.id());
            // A longer profile is a fuller record of a boot (one that failed early records a few
            // chunks, and a good boot must be able to replace it); an equal or shorter one loses, so
            // racing first boots do not overwrite each other.
            if (existing != null && !force && order.length <= existing.chunks().length) {
                throw ManagerException.conflict("image " + image.id() + " already has a boot profile of "
                        + existing.chunks().length + " chunks (recorded by " + existing.recordedBy() + " at "
                        + existing.recordedAt() + "); only a longer one or force=true replaces it");
            }
            BootProfile profile = new BootProfile(image.id(), order, recordedBy, state.now());
            return state.transact(tx -> {
                state.profiles = ManagerState.copy(state.profiles);
                state.profiles.put(image.id(), profile);
                tx.change.putProfile(profile);
                tx.afterCommit(state.replyChanges::all);
                tx.afterCommit(() -> LOG.info("image {}: boot profile of {} chunks {} by {}", image.id(), order.length,
                        existing == null ? "recorded" : "replaced", recordedBy));
                return existing == null;
            });
        }
    }

    BootProfile get(final String idOrName) {
        synchronized (state) {
            ImageRecord image = images.require(idOrName);
            BootProfile p = state.profiles.get(image.id());
            if (p == null) {
                throw ManagerException.notFound("image " + image.id() + " has no boot profile yet");
            }
            return p;
        }
    }
}
