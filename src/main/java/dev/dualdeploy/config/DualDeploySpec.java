package dev.dualdeploy.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole of {@code dualdeploy.yaml}: one service, its image repository and its promotion chain.
 *
 * @param service the service name, used in labels, logs and reports
 * @param image the image repository (a reference; a release pins the digest)
 * @param stages the stages in promotion order; never empty, names unique
 */
public record DualDeploySpec(String service, String image, List<StageSpec> stages) {

    public DualDeploySpec {
        stages = List.copyOf(stages);
    }

    /** The stage with this name, or empty. */
    public Optional<StageSpec> stage(String name) {
        return stages.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
