package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.target.TargetState;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Whether the enabled sides of a stage run the same digest.
 *
 * @param status PARITY or DRIFT
 * @param reason what differs, for people; names every side's digest on DRIFT
 */
public record Parity(Status status, String reason) {

    /** PARITY when every side runs one digest, DRIFT otherwise (including a side whose digest is unknown). */
    public enum Status { PARITY, DRIFT }

    /** Compares the digests the sides run; with one side, PARITY means only that its digest is known. */
    public static Parity of(Map<Side, TargetState> states) {
        if (states.isEmpty()) {
            return new Parity(Status.PARITY, "no side is enabled");
        }
        Set<String> digests = states.values().stream().map(s -> s.digest().orElse("unknown"))
                .collect(Collectors.toCollection(TreeSet::new));
        String each = states.entrySet().stream()
                .map(e -> e.getKey().label() + " " + e.getValue().digest().map(Release::shortDigest).orElse("unknown"))
                .collect(Collectors.joining(", "));
        if (digests.size() == 1 && !digests.contains("unknown")) {
            return new Parity(Status.PARITY, "all sides run " + Release.shortDigest(digests.iterator().next()));
        }
        return new Parity(Status.DRIFT, "sides differ: " + each);
    }

    /** Whether every side runs exactly this release. */
    public static Optional<String> mismatch(Map<Side, TargetState> states, Release release) {
        return states.entrySet().stream()
                .filter(e -> !e.getValue().digest().filter(release.digest()::equals).isPresent())
                .map(e -> e.getKey().label() + " runs " + e.getValue().digest().map(Release::shortDigest).orElse("an unknown digest")
                        + ", not " + Release.shortDigest(release.digest()))
                .reduce((a, b) -> a + "; " + b);
    }
}
