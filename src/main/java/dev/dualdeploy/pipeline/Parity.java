package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.TargetState;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Whether the enabled sides of a stage run the same digest.
 *
 * @param outcome PARITY, DRIFT or UNREADABLE
 * @param reason what differs, for people; names every side's digest on DRIFT, and why each side could not be read on
 *               UNREADABLE
 */
public record Parity(Outcome outcome, String reason) {

    /**
     * PARITY when every side runs one digest; DRIFT when the sides were read and differ (including a side that runs
     * nothing); UNREADABLE when a side could not be read, so nobody knows whether they differ: a person must look
     * (exit 4), which is not the DRIFT claim (exit 3) about digests nobody read.
     */
    public enum Outcome { PARITY, DRIFT, UNREADABLE }

    /** Compares the digests the sides run; with one side, PARITY means only that its digest is known. */
    public static Parity of(Map<Side, TargetState> states) {
        if (states.isEmpty()) {
            return new Parity(Outcome.PARITY, "no side is enabled");
        }
        String unreadable = states.entrySet().stream().filter(e -> !e.getValue().readable())
                .map(e -> cannotBeRead(e.getKey(), e.getValue())).collect(Collectors.joining("; "));
        if (!unreadable.isEmpty()) {
            return new Parity(Outcome.UNREADABLE, "parity unknown: " + unreadable);
        }
        Set<String> digests = states.values().stream().map(s -> s.digest().orElse("unknown"))
                .collect(Collectors.toCollection(TreeSet::new));
        String each = states.entrySet().stream()
                .map(e -> e.getKey().label() + " " + e.getValue().digest().map(Release::shortDigest).orElse("unknown"))
                .collect(Collectors.joining(", "));
        if (digests.size() == 1 && !digests.contains("unknown")) {
            return new Parity(Outcome.PARITY, "all sides run " + Release.shortDigest(digests.iterator().next()));
        }
        return new Parity(Outcome.DRIFT, "sides differ: " + each);
    }

    /** Whether every side runs exactly this release; a side that could not be read says so, not "an unknown digest". */
    public static Optional<String> mismatch(Map<Side, TargetState> states, Release release) {
        return states.entrySet().stream()
                .filter(e -> !e.getValue().digest().filter(release.digest()::equals).isPresent())
                .map(e -> !e.getValue().readable() ? cannotBeRead(e.getKey(), e.getValue())
                        : e.getKey().label() + " runs " + e.getValue().digest().map(Release::shortDigest).orElse("an unknown digest")
                        + ", not " + Release.shortDigest(release.digest()))
                .reduce((a, b) -> a + "; " + b);
    }

    /** {@code legacy cannot be read: <why>}, the one wording every report uses for an unreadable side. */
    public static String cannotBeRead(Side side, TargetState state) {
        return side.label() + " cannot be read: " + state.detail();
    }
}
