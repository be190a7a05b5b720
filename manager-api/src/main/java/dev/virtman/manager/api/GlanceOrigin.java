package dev.virtman.manager.api;

/**
 * Where an image imported from Glance came from, and which version of its series it is.
 *
 * <p>A Glance image's data never changes once it is active, so "the image changed" means a new
 * Glance image (new id, new hash) was uploaded under the same name. Each becomes its own
 * VirtMan image (its own content id, source IQN and agent caches): VMs booted from the old one
 * keep reading it. {@code series} groups the versions; version 1 is registered as
 * {@code series}, version N as {@code series.vN}.
 *
 * @param glanceUrl   Glance endpoint the data came from
 * @param imageId     Glance image id
 * @param imageName   Glance's display name (may be null)
 * @param diskFormat  Glance's {@code disk_format} (qcow2 images are stored converted to raw)
 * @param osHashAlgo  Glance's {@code os_hash_algo}
 * @param osHashValue Glance's {@code os_hash_value}, verified on download
 * @param checksum    Glance's MD5 {@code checksum}, verified on download
 * @param series      VirtMan name shared by all versions
 * @param version     1, 2, ... within the series
 */
public record GlanceOrigin(String glanceUrl, String imageId, String imageName, String diskFormat,
                           String osHashAlgo, String osHashValue, String checksum, String series, int version) {

    /** Longest series name: leaves room for a {@code .vN} suffix in a 128-character image name. */
    public static final int MAX_SERIES_CHARS = 100;

    /**
     * The default series of a Glance image: its Glance name reduced to the characters VirtMan
     * image names allow ({@code [A-Za-z0-9._-]}), else {@code glance-} and the id's first group.
     */
    public static String seriesFor(final String glanceName, final String glanceImageId) {
        String clean = glanceName == null ? "" : glanceName.replaceAll("[^A-Za-z0-9._-]+", "-")
                .replaceAll("^[^A-Za-z0-9]+", "").replaceAll("[^A-Za-z0-9]+$", "");
        if (clean.length() > MAX_SERIES_CHARS) {
            clean = clean.substring(0, MAX_SERIES_CHARS);
        }
        if (clean.isEmpty()) {
            int dash = glanceImageId.indexOf('-');
            clean = "glance-" + (dash > 0 ? glanceImageId.substring(0, dash) : glanceImageId);
        }
        return clean;
    }

    /** The VirtMan image name of a version. */
    public static String versionName(final String series, final int version) {
        return version <= 1 ? series : series + ".v" + version;
    }

    /** Same Glance image with the same data: importing it again changes nothing. */
    public boolean sameData(final String otherImageId, final String otherHashValue) {
        return imageId != null && imageId.equalsIgnoreCase(otherImageId)
                && java.util.Objects.equals(osHashValue, otherHashValue);
    }

    public GlanceOrigin withVersion(final String newSeries, final int newVersion) {
        return new GlanceOrigin(glanceUrl, imageId, imageName, diskFormat, osHashAlgo, osHashValue, checksum,
                newSeries, newVersion);
    }
}
