package dev.dualdeploy.release;

import dev.dualdeploy.text.Text;

/**
 * One built image, pinned by digest, plus the version label people use for it. The same {@code Release} goes to
 * every target, so "the same version on both sides" is a comparison of digests.
 *
 * @param repository the image repository, such as {@code registry.example.com/loan-api}
 * @param digest the manifest digest, {@code sha256:…}
 * @param version the human version label, such as {@code 1.4.2}; never empty (defaults to the short digest)
 */
public record Release(String repository, String digest, String version) {

    public Release {
        if (ImageRef.findDigest(digest).filter(digest::equals).isEmpty()) {
            throw new IllegalArgumentException("a release digest must be sha256: and 64 lower-case hex digits, not '" + digest + "'");
        }
        if (version == null || version.isBlank()) {
            version = shortDigest(digest);
        }
    }

    /**
     * Makes a release from a reference that carries a digest.
     *
     * @param version the version label, or null to use the reference's tag, else the short digest
     * @throws IllegalArgumentException if the reference has no digest
     */
    public static Release of(ImageRef ref, String version) {
        String digest = ref.digest().orElseThrow(() -> new IllegalArgumentException(
                "'" + ref + "' is not pinned to a digest; a release is deployed as repository@sha256:… (for example "
                        + ImageRef.EXAMPLE + ")"));
        return new Release(ref.repository(), digest, version != null ? version : ref.tag().orElse(null));
    }

    /** The reference every target runs: {@code repository@digest}. */
    public String image() {
        return repository + "@" + digest;
    }

    /** An image reference as people quote it: the short digest if it has one, else the reference itself. */
    public static String shortImage(String image) {
        return ImageRef.findDigest(image).map(Release::shortDigest).orElse(Text.foreign(image));
    }

    /** The first 12 hex digits of a digest, as people quote them. */
    public static String shortDigest(String digest) {
        String hex = digest.substring(digest.indexOf(':') + 1);
        return Text.escape(hex.substring(0, Math.min(12, hex.length())));
    }
}
