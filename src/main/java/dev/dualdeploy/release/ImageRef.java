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

    /*
     * The reference is split at '@', at the last ':' after the last '/', and at every '/' first, and each part is
     * matched alone by a small pattern. One pattern for the whole reference recursed once per path component and
     * overflowed the stack on a 5,000-segment --image, and its optional domain made it backtrack (issue 8 item 11).
     */
    private static final Pattern DOMAIN_COMPONENT = Pattern.compile("[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-fA-F:]{2,39}\\]");
    private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]++(?:(?:[._]|__|-++)[a-z0-9]++)*+");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("[A-Za-z][A-Za-z0-9]*+(?:[-_+.][A-Za-z][A-Za-z0-9]*+)*+:[0-9a-fA-F]{32,256}");
    private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");

    /** The longest name (registry and path), as the distribution specification allows. */
    public static final int MAX_NAME = 255;
    /** The longest reference: a name, a 128-character tag and a digest of up to 256 hex digits. */
    public static final int MAX_LENGTH = 640;

    /** A valid reference for error messages and docs. */
    public static final String EXAMPLE = "registry.example.com/loan-api@sha256:" + "0".repeat(64);

    /**
     * Parses a reference, in time linear in its length, which is bounded before any pattern runs.
     *
     * @throws IllegalArgumentException with the reason if the text is not a valid OCI reference
     */
    public static ImageRef parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an image reference is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("an image reference of " + text.length() + " characters is longer than "
                    + MAX_LENGTH + " (a name of at most " + MAX_NAME + ", a tag and a digest)");
        }
        String rest = text;
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                throw invalid(text);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw invalid(text);
            }
        }
        if (rest.length() > MAX_NAME) {
            throw new IllegalArgumentException("the repository name in '" + text + "' is longer than " + MAX_NAME + " characters");
        }
        String[] components = rest.split("/", -1);
        for (int i = 0; i < components.length; i++) {
            boolean valid = PATH_COMPONENT.matcher(components[i]).matches()
                    || i == 0 && components.length > 1 && isDomain(components[0]);
            if (!valid) {
                throw invalid(text);
            }
        }
        if (digest != null && digest.startsWith("sha256:") && !SHA256.matcher(digest).matches()) {
            throw new IllegalArgumentException("the digest in '" + text + "' must be sha256: and 64 lower-case hex digits");
        }
        return new ImageRef(rest, Optional.ofNullable(tag), Optional.ofNullable(digest));
    }

    /** A registry host: DNS labels joined by dots or an IPv6 address in brackets, with an optional port. */
    private static boolean isDomain(String text) {
        String host = text;
        int colon = text.lastIndexOf(':');
        if (colon > text.lastIndexOf(']')) {
            if (!PORT.matcher(text.substring(colon + 1)).matches()) {
                return false;
            }
            host = text.substring(0, colon);
        }
        if (IPV6.matcher(host).matches()) {
            return true;
        }
        for (String label : host.split("\\.", -1)) {
            if (!DOMAIN_COMPONENT.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("'" + text + "' is not a valid OCI image reference"
                + " (repository path components are lower-case letters, digits and . _ -)");
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
