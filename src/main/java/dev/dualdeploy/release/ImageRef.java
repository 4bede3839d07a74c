package dev.dualdeploy.release;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OCI image reference, {@code [registry[:port]/]path[:tag][@algorithm:hex]}, parsed by the grammar of the
 * distribution reference specification (lower-case path components, 128-character tags, 255-character names).
 *
 * @param repository everything before the tag and digest, such as {@code registry.example.com/loan-api}
 * @param tag the tag, or empty
 * @param digest the digest such as {@code sha256:…}, or empty
 */
public record ImageRef(String repository, Optional<String> tag, Optional<String> digest) {

    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final String DOMAIN = "(?:" + DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*"
            + "|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?";
    private static final String PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final Pattern REFERENCE = Pattern.compile(
            "((?:" + DOMAIN + "/)?" + PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*)"
                    + "(?::([\\w][\\w.-]{0,127}))?"
                    + "(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?");
    private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");

    /** A valid reference for error messages and docs. */
    public static final String EXAMPLE = "registry.example.com/loan-api@sha256:" + "0".repeat(64);

    /**
     * Parses a reference.
     *
     * @throws IllegalArgumentException with the reason if the text is not a valid OCI reference
     */
    public static ImageRef parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an image reference is empty");
        }
        Matcher m = REFERENCE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a valid OCI image reference"
                    + " (repository path components are lower-case letters, digits and . _ -)");
        }
        if (m.group(1).length() > 255) {
            throw new IllegalArgumentException("the repository name in '" + text + "' is longer than 255 characters");
        }
        String digest = m.group(3);
        if (digest != null && digest.startsWith("sha256:") && !SHA256.matcher(digest).matches()) {
            throw new IllegalArgumentException("the digest in '" + text + "' must be sha256: and 64 lower-case hex digits");
        }
        return new ImageRef(m.group(1), Optional.ofNullable(m.group(2)), Optional.ofNullable(digest));
    }

    /** Extracts the first {@code sha256:} digest from text such as a pod's imageID; empty if there is none. */
    public static Optional<String> findDigest(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = SHA256.matcher(text);
        return m.find() ? Optional.of(m.group()) : Optional.empty();
    }

    /** The reference pinned to its digest, {@code repository@digest}; requires a digest. */
    public String pinned() {
        return repository + "@" + digest.orElseThrow(() -> new IllegalStateException(this + " has no digest"));
    }

    @Override
    public String toString() {
        return repository + tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
    }
}
