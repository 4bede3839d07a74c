package dev.dualdeploy.analysis;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** Makes the trackers of one gate run: one per check and side (or pair of sides) it applies to. */
public final class Trackers {

    private Trackers() {
    }

    /**
     * The trackers of a gate run, in the order of the gate's checks.
     *
     * @param judged the sides that run the release and are judged
     * @param soak how long the gate watches
     * @param deployedAt when each judged side's deploy began: the end of its before-deploy baseline window
     * @param meter what measures the windows and probes
     * @param progress where a check says what it measured as it happens (each probe's answer)
     */
    public static List<Tracker> of(GateSpec spec, List<Side> judged, Duration soak, Map<Side, Instant> deployedAt, Meter meter,
                                   Consumer<Probe> progress) {
        List<Tracker> trackers = new ArrayList<>();
        for (CheckSpec check : spec.checks()) {
            if (check instanceof CheckSpec.Http h) {
                if (h.url().contains("{{side}}")) {
                    judged.forEach(side -> trackers.add(new HttpTracker(h, Optional.of(side), meter, progress)));
                } else {
                    trackers.add(new HttpTracker(h, Optional.empty(), meter, progress));
                }
            } else if (check instanceof CheckSpec.Slo s) {
                judged.forEach(side -> trackers.add(new SloTracker(s, side, meter)));
            } else if (check instanceof CheckSpec.Compare c) {
                pairs(judged, c.baseline()).forEach(side -> trackers.add(side
                        .<Tracker>map(s -> new CompareTracker(c, s, meter, deployedAt.get(s), soak))
                        .orElseGet(() -> new UnjudgeableTracker("compare " + c.metric(), c.baseline(), judged))));
            } else if (check instanceof CheckSpec.Sequential q) {
                pairs(judged, q.baseline()).forEach(side -> trackers.add(side
                        .<Tracker>map(s -> new SequentialTracker(q, s, meter, deployedAt.get(s), soak))
                        .orElseGet(() -> new UnjudgeableTracker("sequential error_rate", q.baseline(), judged))));
            }
        }
        return trackers;
    }

    /** The judged sides a comparison applies to; one empty entry if none does (the baseline is the only judged side). */
    private static List<Optional<Side>> pairs(List<Side> judged, CheckSpec.Baseline baseline) {
        List<Optional<Side>> sides = judged.stream().filter(s -> baseline.side().map(b -> b != s).orElse(true))
                .map(Optional::of).collect(Collectors.toCollection(ArrayList::new));
        if (sides.isEmpty()) {
            sides.add(Optional.empty());
        }
        return sides;
    }
}
