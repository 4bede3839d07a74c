package dev.dualdeploy.config;

import java.time.Duration;
import java.util.List;

/**
 * A person's consent before a stage is entered: the Jenkins step asks it (with {@code input}) after planning the
 * stage and before anything of it changes, so that aborting leaves the stage as it was.
 *
 * @param submitters the groups or users allowed to approve (Jenkins {@code input}'s {@code submitter}); never empty
 * @param timeout how long to wait for an answer before the run is aborted
 */
public record ApprovalSpec(List<String> submitters, Duration timeout) {

    /** The default time to wait for an approval. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(24);
    /** The shortest and the longest time an approval may wait (the README's config reference). */
    public static final Duration MIN_TIMEOUT = Duration.ofMinutes(1);
    public static final Duration MAX_TIMEOUT = Duration.ofDays(30);

    public ApprovalSpec {
        submitters = List.copyOf(submitters);
    }
}
