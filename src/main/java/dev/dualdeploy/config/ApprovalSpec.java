package dev.dualdeploy.config;

import java.time.Duration;
import java.util.List;

/**
 * Manual approval of a stage.
 *
 * @param submitters the groups or users allowed to approve (Jenkins {@code input}'s {@code submitter}); never empty
 * @param timeout how long to wait for an answer before the run is aborted
 */
public record ApprovalSpec(List<String> submitters, Duration timeout) {

    /** The default time to wait for an approval. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(24);

    public ApprovalSpec {
        submitters = List.copyOf(submitters);
    }
}
