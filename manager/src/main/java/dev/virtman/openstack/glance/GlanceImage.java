package dev.virtman.openstack.glance;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The fields of a Glance v2 image record ({@code GET /v2/images/{id}}) an import needs. Glance
 * returns many more (visibility, tags, custom properties); they are ignored.
 *
 * @param id              Glance image id (a UUID)
 * @param name            display name; not unique in Glance, may be null
 * @param status          {@code active} once its data is uploaded and hashed
 * @param diskFormat      {@code raw}, {@code qcow2}, ...
 * @param containerFormat {@code bare} for a plain disk image
 * @param size            bytes of the stored data (the download's length)
 * @param checksum        hex MD5 of the stored data (legacy; still set by Glance)
 * @param osHashAlgo      the "multihash" algorithm Glance used, {@code sha512} by default
 * @param osHashValue     hex digest of the stored data with {@code osHashAlgo}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record GlanceImage(
        @JsonProperty("id") String id,
        @JsonProperty("name") String name,
        @JsonProperty("status") String status,
        @JsonProperty("disk_format") String diskFormat,
        @JsonProperty("container_format") String containerFormat,
        @JsonProperty("size") Long size,
        @JsonProperty("checksum") String checksum,
        @JsonProperty("os_hash_algo") String osHashAlgo,
        @JsonProperty("os_hash_value") String osHashValue) {

    public static final String ACTIVE = "active";
    public static final String RAW = "raw";
    public static final String QCOW2 = "qcow2";
    public static final String BARE = "bare";

    public boolean isActive() {
        return ACTIVE.equals(status);
    }
}
