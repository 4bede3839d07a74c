package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.text.Text;
import picocli.CommandLine.Option;

/** The release to deploy: {@code --image} (overriding the config's image) and its version label. */
final class ReleaseOptions {

    @Option(names = "--image", paramLabel = "REF",
            description = "The image to release, pinned by digest: repository@sha256:… (overrides the config's image).")
    String image;

    @Option(names = "--release-version", paramLabel = "LABEL",
            description = "The version label people see (default: the image tag, else the short digest).")
    String version;

    /** The release from the flag or the config; bad input if it is not a valid reference pinned to a digest. */
    Release release(DualDeploySpec config) {
        String reference = image != null ? image : config.image();
        ImageRef ref;
        try {
            ref = ImageRef.parse(reference);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--image: " + e.getMessage() + " (for example " + ImageRef.EXAMPLE + ")");
        }
        if (ref.digest().isEmpty()) {
            throw new UsageException("--image: '" + reference + "' is not pinned to a digest; a release is deployed as"
                    + " repository@sha256:… so that both sides run the same build (for example " + ImageRef.EXAMPLE + ")");
        }
        checkVersion();
        return Release.of(ref, version);
    }

    /** The longest version label: it is printed on every line about the release and written to both platforms. */
    static final int MAX_VERSION = 128;

    /**
     * A version label is one line of printable text: it is recorded on both platforms and printed on every line about
     * the release, where a newline or an escape sequence would forge log lines or rewrite the terminal.
     */
    private void checkVersion() {
        if (version == null) {
            return;
        }
        String example = " (for example --release-version 1.4.2)";
        if (version.isBlank()) {
            throw new UsageException("--release-version: the label is empty; leave the flag out to use the image tag" + example);
        }
        if (version.length() > MAX_VERSION) {
            throw new UsageException("--release-version: a label of " + version.length() + " characters is longer than "
                    + MAX_VERSION + example);
        }
        if (!Text.escape(version).equals(version)) {
            throw new UsageException("--release-version: '" + version + "' contains a control or format character; a"
                    + " version label is one line of printable text" + example);
        }
    }
}
