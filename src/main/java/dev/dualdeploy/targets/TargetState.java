package dev.dualdeploy.targets;

import dev.dualdeploy.config.Side;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * What runs on a target, as read back from the platform.
 *
 * @param image the image reference in the spec (task definition or pod template), or empty if absent
 * @param digest the digest that actually runs (from the running tasks or pods; the spec's digest if none run yet),
 *               or empty if unknown
 * @param version the release version recorded by the last deploy, or empty
 * @param lastGoodImage the image of the stage's last good release as recorded on the platform (what failure recovery
 *                      returns to), or empty if none is recorded yet
 * @param previousGoodImage the image of the good release before it (where a rollback from the last good release
 *                          goes), or empty
 * @param health how the workload is doing, or {@link Health#UNREADABLE} when the platform could not be read
 * @param detail one line of detail for people, such as {@code 3/3 ready}; for an unreadable side, why it could not be
 *               read
 * @param lastGoodSides the sides on which the last good release passed when it was recorded (the stage's enabled sides
 *                      of that run); empty when unknown (a record made before a change, or moved by a rollback)
 * @param rolledBackFrom the image this side was last rolled back from, until a release is next recorded good on it; a
 *                       record another side keeps of that release is never completed here
 */
public record TargetState(Optional<String> image, Optional<String> digest, Optional<String> version,
                          Optional<String> lastGoodImage, Optional<String> previousGoodImage, Health health, String detail,
                          Set<Side> lastGoodSides, Optional<String> rolledBackFrom) {

    public TargetState {
        lastGoodSides = lastGoodSides.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(lastGoodSides)); // in side order
    }

    /** A state whose last good record does not say on which sides it passed. */
    public TargetState(Optional<String> image, Optional<String> digest, Optional<String> version,
                       Optional<String> lastGoodImage, Optional<String> previousGoodImage, Health health, String detail) {
        this(image, digest, version, lastGoodImage, previousGoodImage, health, detail, Set.of(), Optional.empty());
    }

    /** A state of a side that was not rolled back since its last good record. */
    public TargetState(Optional<String> image, Optional<String> digest, Optional<String> version,
                       Optional<String> lastGoodImage, Optional<String> previousGoodImage, Health health, String detail,
                       Set<Side> lastGoodSides) {
        this(image, digest, version, lastGoodImage, previousGoodImage, health, detail, lastGoodSides, Optional.empty());
    }

    /**
     * The health of a workload as the platform reports it. UNREADABLE is not the platform's word: the platform did not
     * answer (or refused us), so nothing is known of the side, which is neither ABSENT nor DEGRADED.
     */
    public enum Health { HEALTHY, PROGRESSING, DEGRADED, ABSENT, UNREADABLE }

    /** A target where the workload does not exist. */
    public static TargetState absent(String detail) {
        return new TargetState(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Health.ABSENT, detail);
    }

    /**
     * A side whose state could not be read: nothing is known of it, and every reader (status, parity, the reports)
     * says it cannot be read rather than guessing a health or a digest.
     *
     * @param why why it could not be read, in one line
     */
    public static TargetState unreadable(String why) {
        return new TargetState(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Health.UNREADABLE, why);
    }

    /** Whether the platform answered; false for {@link #unreadable(String)}, whose {@link #detail()} says why. */
    public boolean readable() {
        return health != Health.UNREADABLE;
    }

    /** Whether the side runs its recorded last good release (false when none is recorded). */
    public boolean onLastGood() {
        return image.isPresent() && image.equals(lastGoodImage);
    }

    /**
     * The image {@link DeployTarget#rollback()} would return to: the last good release, or the good one before it if
     * the last good release already runs; empty if there is none.
     */
    public Optional<String> rollbackImage() {
        // A previous record naming the last good release itself (left by an interrupted rollback) is nowhere to go.
        return onLastGood() ? previousGoodImage.filter(previous -> !previous.equals(image.get())) : lastGoodImage;
    }

    /** How a record of sides is written on a platform: {@code legacy+kubernetes} (characters every platform accepts). */
    public static String sidesRecord(Set<Side> sides) {
        return sides.stream().sorted().map(Side::label).reduce((a, b) -> a + "+" + b).orElse("");
    }

    /** Reads {@link #sidesRecord}; anything unreadable (edited by hand) is no record. */
    public static Set<Side> parseSidesRecord(String record) {
        if (record == null || record.isBlank()) {
            return Set.of();
        }
        Set<Side> sides = EnumSet.noneOf(Side.class);
        for (String label : record.split("\\+", -1)) {
            try {
                sides.add(Side.fromLabel(label));
            } catch (IllegalArgumentException notASide) {
                return Set.of();
            }
        }
        return sides;
    }
}
