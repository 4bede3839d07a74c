package dev.dualdeploy.target;

import java.util.Optional;

/**
 * What runs on a target, as read back from the platform.
 *
 * @param image the image reference in the spec (task definition or pod template), or empty if absent
 * @param digest the digest that actually runs (from the running tasks or pods; the spec's digest if none run yet),
 *               or empty if unknown
 * @param version the release version recorded by the last deploy, or empty
 * @param previousImage the image recorded as the one before, which rollback returns to, or empty
 * @param health how the workload is doing
 * @param detail one line of detail for people, such as {@code 3/3 ready}
 */
public record TargetState(Optional<String> image, Optional<String> digest, Optional<String> version,
                          Optional<String> previousImage, Health health, String detail) {

    /** The health of a workload as the platform reports it. */
    public enum Health { HEALTHY, PROGRESSING, DEGRADED, ABSENT }

    /** A target where the workload does not exist. */
    public static TargetState absent(String detail) {
        return new TargetState(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Health.ABSENT, detail);
    }
}
