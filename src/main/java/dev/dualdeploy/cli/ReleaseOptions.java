package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
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
        return Release.of(ref, version);
    }
}
