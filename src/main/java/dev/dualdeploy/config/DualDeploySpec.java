package dev.dualdeploy.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole of {@code dualdeploy.yaml}: one service, its image repository and its promotion chain.
 *
 * @param service the service name, used in labels, logs and reports
 * @param image the image repository (a reference; a release pins the digest)
 * @param stages the stages in promotion order; never empty, names unique
 * @param branches branch globs and their stage chains, in file order; empty means every branch gets every stage
 */
public record DualDeploySpec(String service, String image, List<StageSpec> stages, List<BranchSpec> branches) {

    public DualDeploySpec {
        stages = List.copyOf(stages);
        branches = List.copyOf(branches);
    }

    /**
     * The stage chain for a branch: the first {@code branches:} entry (in file order) that matches, or every stage
     * when the file has no {@code branches:}. Empty if entries exist and none matches.
     */
    public Optional<BranchSpec> chain(String branch) {
        if (branches.isEmpty()) {
            return Optional.of(new BranchSpec("**", stages.stream().map(StageSpec::name).toList()));
        }
        return branches.stream().filter(b -> b.matches(branch)).findFirst();
    }

    /** The stage with this name, or empty. */
    public Optional<StageSpec> stage(String name) {
        return stages.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
